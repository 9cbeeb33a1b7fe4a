"""One form per entry kind, made from the catalogue of entry kinds (domain/entry_kinds.py).

Each field's widget follows from its rule there: a choice is a set of radios,
a list is one item per line, long text is a text area, money is an amount in
pounds. What a person typed goes through the kind's API request model
(web/schemas.py, made from the same catalogue) and the same domain rules as an
API request, and comes back as field errors if wrong.

The tables here (``ENTRY_MODELS``, ``FORMS``, ``RECORDABLE``) are views of the
kinds registered now, so a kind registered after this module loaded has a form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from domain import fields as rules
from domain.entry_kinds import EARLIER_DECISION, LINKS, PUBLIC, EntryKind
from domain.errors import DateTooEarly, DateTooLate, InvalidValue
from domain.project import ENTRY_KINDS
from web.pages import words
from web.schemas import entry_model

DATE_PARTS = ("day", "month", "year")
#: Text longer than this is written in a text area.
SHORT_TEXT = 500

V = TypeVar("V")


class KindTable(Mapping[str, V]):
    """Something made from each registered kind's declaration, remade if it changes."""

    def __init__(self, make: Callable[[EntryKind], V]) -> None:
        self._make = make
        self._made: dict[str, tuple[EntryKind, V]] = {}

    def __getitem__(self, kind: str) -> V:
        spec = ENTRY_KINDS[kind].SPEC
        made = self._made.get(kind)
        if made is None or made[0] != spec:
            made = self._made[kind] = (spec, self._make(spec))
        return made[1]

    def __iter__(self) -> Iterator[str]:
        return iter(list(ENTRY_KINDS))

    def __len__(self) -> int:
        return len(ENTRY_KINDS)


class KindList(Sequence[str]):
    """The registered kinds that have a form of their own, in the catalogue's order."""

    def _kinds(self) -> list[str]:
        return [k for k, c in ENTRY_KINDS.items() if c.SPEC.recordable]

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._kinds()[index]

    def __len__(self) -> int:
        return len(self._kinds())

    def __repr__(self) -> str:
        return repr(tuple(self._kinds()))


#: Every entry kind's request model, by its ``kind``.
ENTRY_MODELS: Mapping[str, type[BaseModel]] = KindTable(lambda spec: entry_model(spec.kind))
#: Kinds recorded with their own form; corrections start from the entry they correct.
RECORDABLE: Sequence[str] = KindList()


#: Fields every kind's form asks, with their own words (domain/entry_kinds.py).
COMMON_FIELDS: dict[str, rules.Field] = {
    "earlier_decision_confirmed": EARLIER_DECISION,
    "links": LINKS,
    "public": PUBLIC,
}


@dataclass(frozen=True)
class FormField:
    name: str
    #: text, textarea, lines, money, number (a decimal figure), radios, entry (another
    #: entry of the project), date, confirm (the earlier-decision checkbox), flag (a
    #: yes-or-no field's checkbox), links (one "title | address" a line) or public (a
    #: single checkbox)
    widget: str
    required: bool
    choices: tuple[str, ...] = ()
    kind: str = ""
    #: Set where two forms share a page (a correction's own reason beside a phase's reason).
    prefix: str = ""
    #: The most characters the record takes (text), shown by a character count; 0: no limit.
    max_length: int = 0

    @property
    def input_name(self) -> str:
        return self.prefix + self.name

    @property
    def label(self) -> str:
        common = COMMON_FIELDS.get(self.name)
        return common.label if common else words.field_label(self.name, self.kind)

    @property
    def hint(self) -> str:
        common = COMMON_FIELDS.get(self.name)
        return common.hint if common else words.field_hint(self.name, self.kind)

    @property
    def first_input_id(self) -> str:
        """Where an error summary's link takes the cursor."""
        if self.widget == "date":
            return f"{self.input_name}-day"
        return self.input_name


def widget(spec: rules.Field) -> tuple[str, tuple[str, ...]] | None:
    """How a field is asked for on a page, and its choices; None if it is not asked."""
    if isinstance(spec, rules.Choice):
        assert spec.choices is not None
        return "radios", tuple(member.value for member in spec.choices)
    if isinstance(spec, rules.Names):
        return "lines", ()
    if isinstance(spec, rules.Reference):
        return "entry", ()
    if isinstance(spec, rules.Day):
        return "date", ()
    if isinstance(spec, rules.Money):
        return "money", ()
    if isinstance(spec, rules.Text):
        return ("text" if spec.max_length <= SHORT_TEXT else "textarea"), ()
    if isinstance(spec, rules.Quantity):
        return "number", ()
    if isinstance(spec, rules.Integer):
        return "text", ()
    if isinstance(spec, rules.Flag):
        return "flag", ()
    return None  # a correction's replacement values are the corrected entry's own form


def describe(spec: EntryKind, skip: frozenset[str] = frozenset()) -> tuple[FormField, ...]:
    """The form fields of one kind, in the catalogue's order (``decided_on`` first)."""
    found = []
    for name, field_spec in spec.fields.items():
        asked = None if name in skip else widget(field_spec)
        if asked is not None:
            shown_as, choices = asked
            limit = field_spec.max_length if isinstance(field_spec, rules.Text) else 0
            found.append(
                FormField(name, shown_as, field_spec.required, choices, spec.kind, max_length=limit)
            )
    decided_on = FormField("decided_on", "date", required=False, kind=spec.kind)
    confirmed = FormField("earlier_decision_confirmed", "confirm", required=False, kind=spec.kind)
    links = FormField("links", "links", required=False, kind=spec.kind)
    public = FormField("public", "public", required=False, kind=spec.kind)
    return (decided_on, confirmed, *found, links, public)


FORMS: Mapping[str, tuple[FormField, ...]] = KindTable(
    lambda spec: describe(spec, frozenset({"corrects"}))
)
#: What a correction asks besides the corrected entry's own fields.
CORRECTION_FIELDS = tuple(
    replace(f, prefix="correction-")
    for f in FORMS["entry_corrected"]
    if f.name not in ("decided_on", "earlier_decision_confirmed", "links")
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
        elif field.widget in ("confirm", "flag", "public"):
            raw[field.input_name] = "yes" if form.get(field.input_name) else ""
        else:
            raw[field.input_name] = str(form.get(field.input_name, ""))
    return raw


def links_from_lines(text: str) -> list[dict[str, str]]:
    """Links as typed, one a line: "title | address" (a line of an address alone is
    titled by it); the record checks each address."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        title, bar, url = line.rpartition("|")
        if not bar:
            title = url
        found.append({"title": title.strip(), "url": url.strip()})
    return found


def links_as_lines(links: Any) -> str:
    return "\n".join(f"{link['title']} | {link['url']}" for link in links or [])


def _date_text(raw: dict[str, str], name: str) -> str | None:
    parts = [raw.get(f"{name}-{part}", "").strip() for part in DATE_PARTS]
    if not any(parts):
        return None
    day, month, year = parts
    # ASCII digits only, and few: int() refuses "²" and numbers of thousands of digits.
    if all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts) and len(year) == 4:
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
        if field.widget in ("confirm", "public"):
            if value:
                body[field.name] = True
        elif field.widget == "flag":
            body[field.name] = bool(value)
        elif field.widget == "links":
            links = links_from_lines(value)
            if links:
                body[field.name] = links
        elif field.widget == "lines":
            items = [line.strip() for line in value.splitlines() if line.strip()]
            if items:
                body[field.name] = items
        elif field.widget == "money":
            amount = value.strip().removeprefix("£").replace(",", "").strip()
            if amount:
                body[field.name] = amount
        elif field.widget == "number":
            figure = value.replace(",", "").strip()
            if figure:
                body[field.name] = figure
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
        elif field.widget == "links":
            raw[field.input_name] = links_as_lines(value)
        elif field.widget in ("confirm", "flag", "public"):
            raw[field.input_name] = "yes" if value else ""
        else:
            raw[field.input_name] = "" if value is None else str(value)
    return raw


def same_value(field: FormField, before: Any, after: Any) -> bool:
    if field.widget in ("money", "number") and before is not None and after is not None:
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


def _message(
    field: FormField | None, kind: str, detail: str, name: str, limit: int | None = None
) -> str:
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
    if kind == "string_pattern_mismatch" and widget == "number":
        return f"{label} must be a number, like 1200 or 12.5"
    if kind == "string_too_long":
        limit = field.max_length if field and field.max_length else limit
        if limit:
            return f"{label} must be {limit:,} characters or less"
        return f"Each line of {_lower(label)} must be 500 characters or less"
    if widget == "date" or kind.startswith("date"):
        return f"{label} must be a real date"
    return f"{label} {detail}"


def date_message(field: FormField, raw: dict[str, str]) -> str:
    """What is wrong with a date as typed, in the Design System's words."""
    parts = {part: raw.get(f"{field.input_name}-{part}", "").strip() for part in DATE_PARTS}
    missing = [part for part, typed in parts.items() if not typed]
    if missing and len(missing) < len(DATE_PARTS):
        return f"{field.label} must include a {' and '.join(missing)}"
    if parts["year"] and len(parts["year"]) != 4:
        return "Year must include 4 numbers"
    return f"{field.label} must be a real date"


def errors_from_validation(
    fields: tuple[FormField, ...], error: ValidationError, raw: dict[str, str] | None = None
) -> list[FieldError]:
    by_name = {f.name: f for f in fields}
    found: list[FieldError] = []
    for item in error.errors():
        loc = [str(p) for p in item.get("loc", ())]
        name = loc[0] if loc else ""
        field = by_name.get(name)
        if field is not None and field.widget == "date" and raw is not None:
            message = date_message(field, raw)
        else:
            # A whole field's limit from the model where the form does not state one
            # (one item of a list is "each line"); the model's own check says it.
            whole = len(loc) == 1 and (item.get("ctx") or {}).get("max_length")
            message = _message(
                field,
                item.get("type", ""),
                str(item.get("msg", "")).lower(),
                name,
                whole if isinstance(whole, int) else None,
            )
        found.append(_error(field, message))
    return found


def error_from_domain(fields: tuple[FormField, ...], error: InvalidValue) -> FieldError:
    """A domain rule's refusal, on the field it names (a correction's ``replacement.x`` is x)."""
    name = error.field.removeprefix("replacement.").split(".")[0]
    link = re.fullmatch(r"links\[(\d+)\]", name)
    if link:  # one link of several: which, and its title or its address
        field = {f.name: f for f in fields}.get("links")
        part = "address" if error.field.endswith(".url") else "title"
        return _error(field, f"Link {int(link.group(1)) + 1}: the {part} {error.message}")
    field = {f.name: f for f in fields}.get(name)
    label = field.label if field else words.label(name)
    if isinstance(error, DateTooLate):
        return _error(field, f"{label} must be today or in the past")
    if isinstance(error, DateTooEarly):
        return _error(
            field,
            f"{label} must be the same as or after {_long(error.earliest)}, when "
            f"{error.because}, unless you confirm you are recording "
            "an earlier decision",
        )
    too_long = re.fullmatch(r"must be at most (\d+) characters", error.message)
    if too_long:
        return _error(field, f"{label} must be {int(too_long.group(1)):,} characters or less")
    return _error(field, f"{label} {error.message}")


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


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
