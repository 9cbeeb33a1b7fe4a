"""People who use Waymark, and what they may do: grants are events, so who
could do what is itself part of the record. Credentials are not kept here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import Conflict, InvalidValue
from domain.fields import Text
from domain.vocabulary import Role

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://waymark.example/users")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,99}$")
#: An address mail can be sent to: a local part, an @, and a domain of dotted labels.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


@dataclass(frozen=True)
class Grant:
    """A role, for a programme (managers) or a council (participants) where it has a scope."""

    role: str
    programme_id: UUID | None = None
    council_code: str | None = None

    def describe(self) -> str:
        scope = self.programme_id or self.council_code
        return f"{self.role} of {scope}" if scope else self.role


class User(Aggregate):
    class Registered(Aggregate.Created):
        username: str
        display_name: str
        actor: str

    class RoleGranted(Aggregate.Event):
        role: str
        programme_id: UUID | None
        council_code: str | None
        actor: str

        def apply(self, aggregate: User) -> None:
            aggregate.grants.append(Grant(self.role, self.programme_id, self.council_code))

    class RoleRevoked(Aggregate.Event):
        role: str
        programme_id: UUID | None
        council_code: str | None
        actor: str

        def apply(self, aggregate: User) -> None:
            aggregate.grants.remove(Grant(self.role, self.programme_id, self.council_code))

    class EmailRecorded(Aggregate.Event):
        email: str
        actor: str

        def apply(self, aggregate: User) -> None:
            aggregate.email = self.email

    class DigestChosen(Aggregate.Event):
        """The person wants the weekly digest (``wanted``) or not, whatever their roles."""

        wanted: bool
        actor: str

        def apply(self, aggregate: User) -> None:
            aggregate.digest_wanted = self.wanted

    def __init__(self, username: str, display_name: str, actor: str) -> None:
        self.username = username
        self.display_name = display_name
        self.registered_by = actor
        self.grants: list[Grant] = []
        self.email: str | None = None
        #: None until the person chooses: the digest then follows their roles.
        self.digest_wanted: bool | None = None

    @staticmethod
    def create_id(username: str) -> UUID:
        return uuid5(USER_NAMESPACE, username)

    @staticmethod
    def check_username(username: str) -> str:
        name = username.strip().lower() if isinstance(username, str) else ""
        if not USERNAME.match(name):
            raise InvalidValue("username", "must be 2-100 lower-case letters, digits or . _ @ + -")
        return name

    @classmethod
    def register(
        cls, *, username: str, display_name: str | None, actor: str, now: datetime
    ) -> User:
        name = cls.check_username(username)
        return cls._create(
            cls.Registered,
            id=cls.create_id(name),
            timestamp=now,
            username=name,
            display_name=Text(required=False, max_length=200).clean("display_name", display_name)
            or name,
            actor=actor,
        )

    def grant(self, grant: Grant, *, actor: str, now: datetime) -> None:
        grant = self.check_grant(grant)
        if grant in self.grants:
            raise Conflict(f"{self.username} is already {grant.describe()}")
        self.trigger_event(
            self.RoleGranted,
            timestamp=now,
            role=grant.role,
            programme_id=grant.programme_id,
            council_code=grant.council_code,
            actor=actor,
        )

    def revoke(self, grant: Grant, *, actor: str, now: datetime) -> None:
        if grant not in self.grants:
            raise Conflict(f"{self.username} is not {grant.describe()}")
        self.trigger_event(
            self.RoleRevoked,
            timestamp=now,
            role=grant.role,
            programme_id=grant.programme_id,
            council_code=grant.council_code,
            actor=actor,
        )

    @staticmethod
    def check_email(email: str) -> str:
        address = email.strip() if isinstance(email, str) else ""
        if not EMAIL.match(address) or ".." in address:
            raise InvalidValue("email", "must be an email address, like name@council.gov.uk")
        return address

    def record_email(self, email: str, *, actor: str, now: datetime) -> None:
        address = self.check_email(email)
        if address != self.email:
            self.trigger_event(self.EmailRecorded, timestamp=now, email=address, actor=actor)

    def choose_digest(self, wanted: bool, *, actor: str, now: datetime) -> None:
        if wanted != self.digest_wanted:
            self.trigger_event(self.DigestChosen, timestamp=now, wanted=bool(wanted), actor=actor)

    @staticmethod
    def check_grant(grant: Grant) -> Grant:
        try:
            role = Role(grant.role)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidValue("role", f"must be one of: {allowed}") from None
        if role == Role.PROGRAMME_MANAGER and grant.programme_id is None:
            raise InvalidValue("programme", "a programme manager is granted a programme")
        if role == Role.PARTICIPANT and not grant.council_code:
            raise InvalidValue("council", "a participant is granted a council")
        if role in (Role.ADMIN, Role.REVIEWER) and (grant.programme_id or grant.council_code):
            raise InvalidValue("role", f"{role.value} has no programme or council")
        return grant
