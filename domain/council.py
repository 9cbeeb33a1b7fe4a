"""A council: a local authority, identified by a stable code of the programme's choosing."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue
from domain.fields import Choice, Integer, Text
from domain.vocabulary import CouncilType, Region

COUNCIL_NAMESPACE = uuid5(NAMESPACE_URL, "https://waymark.example/councils")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Council(Aggregate):
    class Registered(Aggregate.Created):
        code: str
        name: str
        council_type: str
        region: str
        population: int | None
        gss_code: str
        political_control: str
        actor: str

    def __init__(
        self,
        code: str,
        name: str,
        council_type: str,
        region: str,
        population: int | None,
        gss_code: str,
        political_control: str,
        actor: str,
    ) -> None:
        self.code = code
        self.name = name
        self.council_type = council_type
        self.region = region
        self.population = population
        self.gss_code = gss_code
        self.political_control = political_control
        self.registered_by = actor

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(COUNCIL_NAMESPACE, code.upper())

    @staticmethod
    def check_code(code: str) -> str:
        if not isinstance(code, str) or not CODE_PATTERN.match(code.strip()):
            raise InvalidValue("code", "must be 1-64 letters, digits, dots, dashes or underscores")
        return code.strip().upper()

    @classmethod
    def register(
        cls,
        *,
        code: str,
        name: str,
        council_type: str,
        region: str,
        population: int | None,
        gss_code: str | None,
        political_control: str | None,
        actor: str,
        now: datetime,
    ) -> Council:
        code = cls.check_code(code)
        return cls._create(
            cls.Registered,
            id=cls.create_id(code),
            timestamp=now,
            code=code,
            name=Text(max_length=300).clean("name", name),
            council_type=Choice(choices=CouncilType).clean("council_type", council_type),
            region=Choice(choices=Region).clean("region", region),
            population=Integer(required=False, minimum=0, maximum=100_000_000).clean(
                "population", population
            ),
            gss_code=Text(required=False, max_length=20).clean("gss_code", gss_code),
            political_control=Text(required=False, max_length=200).clean(
                "political_control", political_control
            ),
            actor=actor,
        )
