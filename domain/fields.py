"""Declarative field rules, so each entry kind states its fields once.

A ``Field`` turns a raw value (as a client sent it, already parsed from JSON)
into the value the record keeps, or raises ``InvalidValue`` naming the field.
It also carries the words for the field (``label``, ``hint``), an ``example``
for the API's documentation, and its limits: the catalogue of entry kinds
(domain/entry_kinds.py) is made of these, and the API's request models and the
pages' forms are derived from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from domain.errors import InvalidValue

MAX_TEXT = 20_000
MAX_NAMES = 100
#: Control characters other than tab and line breaks have no place in the record
#: (and PostgreSQL text cannot hold NUL).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(name: str, text: str) -> str:
    if CONTROL.search(text):
        raise InvalidValue(name, "must not contain control characters")
    return text


@dataclass(frozen=True)
class Field:
    required: bool = True
    #: What a form calls the field, and the hint under the label.
    label: str = ""
    hint: str = ""
    #: A value the API's documentation shows for it (None: left out of the example).
    example: Any = field(default=None, hash=False)
    #: What the API's documentation says of it, where its name does not say enough.
    description: str = ""
    #: The type of the value the record keeps (the event's annotation).
    value_type: ClassVar[Any] = Any

    def clean(self, name: str, value: Any) -> Any:
        if value is None:
            if self.required:
                raise InvalidValue(name, "is required")
            return self.empty()
        return self.convert(name, value)

    def empty(self) -> Any:
        return None

    def convert(self, name: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Field):
    max_length: int = MAX_TEXT
    value_type: ClassVar[Any] = str

    def empty(self) -> str:
        return ""

    def convert(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidValue(name, "must be text")
        text = value.strip()
        if self.required and not text:
            raise InvalidValue(name, "must not be empty")
        if len(text) > self.max_length:
            raise InvalidValue(name, f"must be at most {self.max_length} characters")
        return _no_control_characters(name, text)


@dataclass(frozen=True)
class Choice(Field):
    choices: type[StrEnum] | None = None
    value_type: ClassVar[Any] = str

    def empty(self) -> str:
        return ""

    def convert(self, name: str, value: Any) -> str:
        assert self.choices is not None
        try:
            return str(self.choices(value).value)
        except ValueError:
            allowed = ", ".join(member.value for member in self.choices)
            raise InvalidValue(name, f"must be one of: {allowed}") from None


@dataclass(frozen=True)
class Names(Field):
    """A list of short texts: people, organisations, alternatives."""

    max_items: int = MAX_NAMES
    max_item_length: int = 500
    value_type: ClassVar[Any] = list[str]

    def empty(self) -> list[str]:
        return []

    def convert(self, name: str, value: Any) -> list[str]:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise InvalidValue(name, "must be a list of texts")
        names = [_no_control_characters(name, v.strip()) for v in value if v.strip()]
        if self.required and not names:
            raise InvalidValue(name, "must name at least one")
        if len(names) > self.max_items:
            raise InvalidValue(name, f"must have at most {self.max_items} items")
        if any(len(n) > self.max_item_length for n in names):
            raise InvalidValue(name, f"each item must be at most {self.max_item_length} characters")
        return names


@dataclass(frozen=True)
class Money(Field):
    """An amount in pounds sterling: exact, never negative, at most pence precision."""

    #: Digits before the decimal point, and after it (pence).
    WHOLE_DIGITS: ClassVar[int] = 12
    PLACES: ClassVar[int] = 2
    value_type: ClassVar[Any] = Decimal

    def convert(self, name: str, value: Any) -> Decimal:
        if isinstance(value, (float, bool)):
            raise InvalidValue(name, "must be a decimal string such as '1250.00'")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidValue(name, "must be a decimal amount such as '1250.00'") from None
        if not amount.is_finite():
            raise InvalidValue(name, "must be a finite amount")
        if amount < 0:
            raise InvalidValue(name, "must not be negative")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.PLACES:
            raise InvalidValue(name, "must have at most two decimal places (pence)")
        if amount >= 10**self.WHOLE_DIGITS:
            raise InvalidValue(name, "is too large")
        return amount


@dataclass(frozen=True)
class Quantity(Field):
    """An exact decimal figure in a unit of its entry's choosing (calls, days, pounds,
    per cent): a decimal string, negative allowed, at most six decimal places."""

    WHOLE_DIGITS: ClassVar[int] = 15
    PLACES: ClassVar[int] = 6
    value_type: ClassVar[Any] = Decimal

    def convert(self, name: str, value: Any) -> Decimal:
        if isinstance(value, (float, bool)):
            raise InvalidValue(name, "must be a decimal string such as '1250.5'")
        try:
            figure = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise InvalidValue(name, "must be a number such as 1250.5") from None
        if not figure.is_finite():
            raise InvalidValue(name, "must be a finite number")
        exponent = figure.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.PLACES:
            raise InvalidValue(name, f"must have at most {self.PLACES} decimal places")
        if abs(figure) >= 10**self.WHOLE_DIGITS:
            raise InvalidValue(name, "is too large")
        return figure


@dataclass(frozen=True)
class Integer(Field):
    minimum: int | None = None
    maximum: int | None = None
    value_type: ClassVar[Any] = int

    def convert(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(name, "must be a whole number")
        if self.minimum is not None and value < self.minimum:
            raise InvalidValue(name, f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise InvalidValue(name, f"must be at most {self.maximum}")
        return int(value)


@dataclass(frozen=True)
class Flag(Field):
    """A yes or no; not given is no."""

    value_type: ClassVar[Any] = bool

    def empty(self) -> bool:
        return False

    def convert(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidValue(name, "must be true or false")
        return value


@dataclass(frozen=True)
class Reference(Field):
    """The id of another entry of the same project."""

    value_type: ClassVar[Any] = UUID

    def convert(self, name: str, value: Any) -> UUID:
        if isinstance(value, UUID):
            return value
        try:
            return UUID(str(value))
        except ValueError:
            raise InvalidValue(name, "must be an entry id (a UUID)") from None


@dataclass(frozen=True)
class Day(Field):
    value_type: ClassVar[Any] = date

    def convert(self, name: str, value: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InvalidValue(name, "must be a date such as 2026-03-31") from None


@dataclass(frozen=True)
class Links(Field):
    """Links to evidence: a list of ``{title, url}``, each URL absolute http or https.

    Anything else (``javascript:``, ``data:``, relative or scheme-less addresses,
    credentials in the address, spaces) is refused, naming the item, e.g. ``links[0].url``.
    """

    max_items: int = 20
    max_title_length: int = 300
    max_url_length: int = 2_000
    value_type: ClassVar[Any] = list[dict[str, str]]

    def empty(self) -> list[dict[str, str]]:
        return []

    def convert(self, name: str, value: Any) -> list[dict[str, str]]:
        if not isinstance(value, (list, tuple)):
            raise InvalidValue(name, "must be a list of links, each with a title and a url")
        if len(value) > self.max_items:
            raise InvalidValue(name, f"must have at most {self.max_items} links")
        found = []
        for index, item in enumerate(value):
            at = f"{name}[{index}]"
            if not isinstance(item, Mapping):
                raise InvalidValue(at, "must be a link with a title and a url")
            unknown = sorted(set(item) - {"title", "url"})
            if unknown:
                raise InvalidValue(f"{at}.{unknown[0]}", "is not a field of a link")
            title = Text(max_length=self.max_title_length).clean(f"{at}.title", item.get("title"))
            url = WebAddress(max_length=self.max_url_length).clean(f"{at}.url", item.get("url"))
            found.append({"title": title, "url": url})
        return found


@dataclass(frozen=True)
class Replacement(Field):
    """A correction's new values for fields of the entry it corrects.

    Only their shape is checked here; the aggregate checks each value against
    the corrected entry's own kind.
    """

    value_type: ClassVar[Any] = dict[str, Any]

    def clean(self, name: str, value: Any) -> dict[str, Any]:
        return self.convert(name, value)  # none given is as wrong as an empty one

    def convert(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping) or not value:
            raise InvalidValue(name, "must give at least one replacement value")
        return dict(value)


#: What a council code may be (as ``domain.council`` registers one).
COUNCIL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class CouncilCode(Text):
    """A council's code, kept in capitals (that it is registered is checked where
    the record of councils is at hand: ``services.records``)."""

    max_length: int = 64

    def convert(self, name: str, value: Any) -> str:
        text = super().convert(name, value)
        if text and not COUNCIL_CODE.match(text):
            raise InvalidValue(name, "must be a council code: letters, digits, dots, dashes")
        return text.upper()


@dataclass(frozen=True)
class WebAddress(Text):
    """An absolute http or https address, the one rule for every address the record keeps
    (an entry's links, an output's, a report's, a session's): any other scheme
    (``javascript:``, ``data:``), a relative or scheme-less address, credentials in the
    address, a backslash or a space is refused."""

    max_length: int = 2000

    def convert(self, name: str, value: Any) -> str:
        text = super().convert(name, value)
        if not text:
            return text
        scheme, _, rest = text.partition("://")
        host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        if (
            scheme.lower() not in ("http", "https")
            or not host
            or "@" in host
            or "\\" in text
            or any(c.isspace() for c in text)
        ):
            raise InvalidValue(name, "must be a web address starting http:// or https://")
        return text


def clean_fields(
    spec: Mapping[str, Field], given: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Check ``given`` against ``spec``; with ``partial`` only the given fields count."""
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise InvalidValue(unknown[0], "is not a field of this kind of entry")
    names = [n for n in spec if n in given] if partial else list(spec)
    return {name: spec[name].clean(name, given.get(name)) for name in names}
