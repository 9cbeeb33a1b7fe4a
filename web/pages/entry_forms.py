"""One form per entry kind, generated from the API's request models (web/schemas.py).

Each field's widget follows from its type there: a choice is a set of radios,
a list is one item per line, long text is a text area, money is an amount in
pounds. What a person typed goes back through the same pydantic model and the
same domain rules as an API request, and comes back as field errors if wrong.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from starlette.datastructures import FormData

from domain.errors import InvalidValue
from web.pages import words
from web.schemas import EntryCorrected, EntryIn

#: Every entry model, by its ``kind``.
ENTRY_MODELS: dict[str, type[BaseModel]] = {
    get_args(model.model_fields["kind"].annotation)[0]: model
    for model in get_args(get_args(EntryIn)[0])
}
#: Kinds recorded with their own form; corrections start from the entry they correct.
RECORDABLE = tuple(kind for kind in ENTRY_MODELS if kind != "entry_corrected")
DATE_PARTS = ("day", "month", "year")


@dataclass(frozen=True)
class FormField:
    name: str
    #: text, textarea, lines, money, radios, entry (another entry of the project) or date
    widget: str
    required: bool
    choices: tuple[str, ...] = ()
    kind: str = ""
    #: Set where two forms share a page (a correction's own reason beside a phase's reason).
    prefix: str = ""

    @property
    def input_name(self) -> str:
        return self.prefix + self.name

    @property
    def label(self) -> str:
        return words.field_label(self.name, self.kind)

    @property
    def hint(self) -> str:
        return words.field_hint(self.name, self.kind)

    @property
    def first_input_id(self) -> str:
        """Where an error summary's link takes the cursor."""
        if self.widget == "date":
            return f"{self.input_name}-day"
        return self.input_name


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside ``Optional`` and ``Annotated``, with the constraints found on the way."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *more = get_args(annotation)
            for item in more:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation, metadata


def _widget(info: FieldInfo) -> tuple[str, tuple[str, ...]] | None:
    annotation, metadata = _unwrap(info.annotation)
    metadata.extend(info.metadata)
    if get_origin(annotation) is Literal or annotation is dict or get_origin(annotation) is dict:
        return None
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "radios", tuple(member.value for member in annotation)
    if get_origin(annotation) is list:
        return "lines", ()
    if annotation is UUID:
        return "entry", ()
    if annotation is date:
        return "date", ()
    if any(getattr(m, "pattern", None) for m in metadata):
        return "money", ()  # the only text with a pattern is an amount of money
    limit = min((getattr(m, "max_length", None) or 20_000 for m in metadata), default=20_000)
    return ("text" if limit <= 500 else "textarea"), ()


def describe(model: type[BaseModel], skip: frozenset[str] = frozenset()) -> tuple[FormField, ...]:
    """The form fields of one request model, in the model's order (``decided_on`` first)."""
    kind = get_args(model.model_fields["kind"].annotation)[0]
    fields = []
    for name, info in model.model_fields.items():
        if name in skip or name == "decided_on":
            continue
        found = _widget(info)
        if found is None:
            continue
        widget, choices = found
        fields.append(FormField(name, widget, info.is_required(), choices, kind))
    decided_on = FormField("decided_on", "date", required=False, kind=kind)
    return (decided_on, *fields)


FORMS: dict[str, tuple[FormField, ...]] = {
    kind: describe(model, frozenset({"corrects"})) for kind, model in ENTRY_MODELS.items()
}
#: What a correction asks besides the corrected entry's own fields.
CORRECTION_FIELDS = tuple(
    replace(f, prefix="correction-") for f in describe(EntryCorrected, frozenset({"corrects"}))[1:]
)


# -- from a form to a request body, and back --------------------------------------------


def raw_values(fields: tuple[FormField, ...], form: FormData) -> dict[str, str]:
    """What the person typed, exactly, to show again if something is wrong."""
    raw: dict[str, str] = {}
    for field in fields:
        if field.widget == "date":
            for part in DATE_PARTS:
                name = f"{field.input_name}-{part}"
                raw[name] = str(form.get(name, ""))
        else:
            raw[field.input_name] = str(form.get(field.input_name, ""))
    return raw


def _date_text(raw: dict[str, str], name: str) -> str | None:
    parts = [raw.get(f"{name}-{part}", "").strip() for part in DATE_PARTS]
    if not any(parts):
        return None
    day, month, year = parts
    if all(p.isdigit() for p in parts) and len(year) == 4:
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return "-".join(parts)  # not a date: the model says so


def body_values(fields: tuple[FormField, ...], raw: dict[str, str]) -> dict[str, Any]:
    """The request body the form stands for; blanks are left out, so defaults apply."""
    body: dict[str, Any] = {}
    for field in fields:
        if field.widget == "date":
            text = _date_text(raw, field.input_name)
            if text is not None:
                body[field.name] = text
            continue
        value = raw.get(field.input_name, "")
        if field.widget == "lines":
            items = [line.strip() for line in value.splitlines() if line.strip()]
            if items:
                body[field.name] = items
        elif field.widget == "money":
            amount = value.strip().removeprefix("£").replace(",", "").strip()
            if amount:
                body[field.name] = amount
        elif value.strip():
            body[field.name] = value
    return body


def form_values(fields: tuple[FormField, ...], values: dict[str, Any]) -> dict[str, str]:
    """A recorded entry's values (as JSON) as a form shows them, to be corrected."""
    raw: dict[str, str] = {}
    for field in fields:
        value = values.get(field.name)
        if field.widget == "date":
            day = date.fromisoformat(str(value)) if value else None
            for part in DATE_PARTS:
                raw[f"{field.input_name}-{part}"] = str(getattr(day, part)) if day else ""
        elif field.widget == "lines":
            raw[field.input_name] = "\n".join(value or [])
        else:
            raw[field.input_name] = "" if value is None else str(value)
    return raw


def same_value(field: FormField, before: Any, after: Any) -> bool:
    if field.widget == "money" and before is not None and after is not None:
        try:
            return Decimal(str(before)) == Decimal(str(after))
        except InvalidOperation:
            return False
    return bool(before == after or (before in (None, "", []) and after in (None, "", [])))


# -- errors, as the Design System words them ----------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One line of the error summary, and the message beside its field."""

    input_name: str
    text: str
    href: str


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:] if not label[1:2].isupper() else label


def _message(field: FormField | None, kind: str, detail: str, name: str) -> str:
    label = field.label if field else words.label(name)
    widget = field.widget if field else ""
    if kind == "missing":
        if label.endswith("?"):
            return (
                f"Select an answer to ‘{label}’"
                if widget in ("radios", "entry")
                else (f"Answer ‘{label}’")
            )
        return (
            f"Select {_lower(label)}" if widget in ("radios", "entry") else f"Enter {_lower(label)}"
        )
    if kind in ("enum", "literal_error", "uuid_parsing", "uuid_type"):
        return f"Select one of the options for {_lower(label)}"
    if kind == "string_pattern_mismatch" and widget == "money":
        return f"{label} must be an amount in pounds, like 48000 or 48000.50"
    if kind == "string_too_long":
        return f"{label} is too long"
    if kind.startswith("date"):
        return f"{label} must be a real date, like 27 3 2026"
    return f"{label} {detail}"


def errors_from_validation(
    fields: tuple[FormField, ...], error: ValidationError
) -> list[FieldError]:
    by_name = {f.name: f for f in fields}
    found: list[FieldError] = []
    for item in error.errors():
        loc = [str(p) for p in item.get("loc", ())]
        name = loc[0] if loc else ""
        field = by_name.get(name)
        message = _message(field, item.get("type", ""), str(item.get("msg", "")).lower(), name)
        found.append(_error(field, message))
    return found


def error_from_domain(fields: tuple[FormField, ...], error: InvalidValue) -> FieldError:
    """A domain rule's refusal, on the field it names (a correction's ``replacement.x`` is x)."""
    name = error.field.removeprefix("replacement.").split(".")[0]
    field = {f.name: f for f in fields}.get(name)
    label = field.label if field else words.label(name)
    return _error(field, f"{label} {error.message}")


def _error(field: FormField | None, message: str) -> FieldError:
    text = message[:1].upper() + message[1:]
    if field is None:
        return FieldError("", text, "")
    return FieldError(field.input_name, text, f"#{field.first_input_id}")


def by_input(errors: list[FieldError]) -> dict[str, str]:
    """The first error of each field, for the message beside it."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.input_name, error.text)
    return found
