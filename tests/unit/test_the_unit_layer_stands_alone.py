"""The unit layer tests the domain alone: it imports no database, application or web code."""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parent
#: What a unit test may not import, directly: the layers above the domain and their tools.
FORBIDDEN = {"services", "projections", "web", "fastapi", "starlette", "psycopg", "sqlite3"}


def test_no_unit_test_imports_a_database_the_application_or_the_web() -> None:
    files = sorted(UNIT.glob("*.py"))
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
                assert name != "tests.conftest", f"{path.name} imports {name}"
