"""The settings table of docs/CONFIGURATION.md, written from the ``Settings`` class.

``python -m services.settings_doc docs/CONFIGURATION.md`` rewrites the table
between its markers; tests/test_configuration_doc.py fails while it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from services.settings import Settings

BEGIN = "<!-- settings: begin (python -m services.settings_doc docs/CONFIGURATION.md) -->"
END = "<!-- settings: end -->"


def variable(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def _default(field: FieldInfo) -> str:
    value: Any = field.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "a placeholder"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, Path) and not value.is_absolute():
        return f"`./{value}`"
    return f"`{value}`"


def _meaning(field: FieldInfo) -> str:
    text = (field.description or "").strip()
    if get_origin(field.annotation) is Literal:
        text += " One of: " + ", ".join(f"`{choice}`" for choice in get_args(field.annotation))
        text += "."
    return text.replace("|", "\\|")


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `{variable(name)}` | {_default(field)} | {_meaning(field)} |")
    return "\n".join(rows)


def with_table(document: str) -> str:
    """The document with the text between the markers replaced by the current table."""
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the document needs the markers {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{settings_table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m services.settings_doc docs/CONFIGURATION.md", file=sys.stderr)  # noqa: T201
        return 2
    path = Path(argv[0])
    path.write_text(with_table(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
