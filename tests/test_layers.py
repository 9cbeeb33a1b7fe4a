"""The domain imports the standard library and eventsourcing.domain only.

import-linter (run by `make test`) enforces the layers; it cannot forbid
sub-packages of an external package, so this test checks that part.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parent.parent / "domain"
ALLOWED = {"eventsourcing.domain", "domain"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_domain_imports_only_the_standard_library_and_eventsourcing_domain() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert files
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or module in ALLOWED
                or module.startswith("domain.")
                or top == "__future__"
            )
            assert allowed, f"{path.name} imports {module}"
