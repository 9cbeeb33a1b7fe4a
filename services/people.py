"""People and their roles, as the admin pages and "Your account" use them.

Roles are events in the record (``DecisionRecords.grant_role`` and
``revoke_role``), with the person who granted or revoked them as the actor;
passwords, API tokens and sessions are credentials, never events
(``services.credentials``). Lists of people come from the ``people`` read model.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import InvalidValue, NotFound
from domain.user import User
from projections.database import Database
from projections.queries import find_person, list_people
from services.credentials import Credentials, TokenIssued, password_problem
from services.queries import Queries
from services.records import DecisionRecords, Written
from services.sign_in import SignIn

#: The longest label a token may be given.
MAX_TOKEN_LABEL = 100


class People:
    def __init__(
        self,
        records: DecisionRecords,
        credentials: Credentials,
        sign_ins: SignIn,
        queries: Queries,
        database: Database,
    ) -> None:
        self.records = records
        self.credentials = credentials
        self.sign_ins = sign_ins
        self.queries = queries
        self.database = database

    # -- who is there -----------------------------------------------------------------

    def everyone(self, wait_for: int | None = None) -> list[dict[str, Any]]:
        """Every person with the roles they hold now (after the write at ``wait_for``)."""
        self.queries.fresh(wait_for)
        return list_people(self.database)

    def person(self, username: str, wait_for: int | None = None) -> dict[str, Any]:
        name = User.check_username(username)
        self.queries.fresh(wait_for)
        found = find_person(self.database, name)
        if found is None:
            self.records.get_user(name)  # NotFound unless the read model is only behind
            self.queries.fresh(self.queries.projector.log.head())
            found = find_person(self.database, name)
            if found is None:
                raise NotFound("user", name)
        return found

    # -- adding people and changing their roles -----------------------------------------

    def add(
        self,
        *,
        username: str,
        display_name: str | None,
        role: str | None,
        programme_id: UUID | None,
        council_code: str | None,
        password: str | None,
        actor: str,
    ) -> Written:
        """Register a person, with a first role and a password if given; every rule is
        checked before anything is recorded."""
        name = User.check_username(username)
        if role:
            self.records.check_grant(role, programme_id, council_code)
        if password and (problem := password_problem(password, name)):
            raise InvalidValue("password", problem)
        written = self.records.register_user(username=name, display_name=display_name, actor=actor)
        if role:
            written = self.records.grant_role(
                username=name,
                role=role,
                programme_id=programme_id,
                council_code=council_code,
                actor=actor,
            )
        if password:
            self.credentials.set_password(name, password)
        return written

    # -- API tokens and sessions ----------------------------------------------------------

    def issue_token(self, username: str, *, label: str, days: int) -> str:
        """A new API token for a registered person; the secret is returned once, here."""
        user = self.records.get_user(username)
        label = label.strip()
        if len(label) > MAX_TOKEN_LABEL:
            raise InvalidValue("label", f"must be {MAX_TOKEN_LABEL} characters or fewer")
        return self.credentials.issue_token(user.username, days=days, label=label)

    def tokens(self, username: str) -> list[TokenIssued]:
        return self.credentials.tokens_of(User.check_username(username))

    def revoke_token(self, username: str, token_id: str) -> None:
        """Revoke one token of ``username``'s own; NotFound if they hold no such live one."""
        if not self.credentials.revoke_token(User.check_username(username), token_id):
            raise NotFound("token", token_id)

    def revoke_tokens(self, username: str) -> int:
        """Revoke every token of a person (their browser sessions end too)."""
        return self.credentials.revoke_tokens(self.records.get_user(username).username)

    def end_sessions(self, username: str) -> int:
        return self.credentials.end_sessions(self.records.get_user(username).username)

    # -- passwords -------------------------------------------------------------------------

    def change_password(
        self,
        username: str,
        *,
        current: str,
        new: str,
        address: str,
        keep_session_id: str | None,
    ) -> int:
        """Change one's own password: the current one must be right (checked under the
        sign-in limits) and the new one follow the NCSC's guidance. Every other browser
        session of theirs ends; returns how many did."""
        if not current:
            raise InvalidValue("current_password", "Enter your current password")
        if not self.sign_ins.check(username, current, address):
            raise InvalidValue("current_password", "Your current password is not right")
        if current == new:
            raise InvalidValue("new_password", "must not be the same as your current password")
        if problem := password_problem(new, username):
            raise InvalidValue("new_password", problem)
        self.credentials.set_password(username, new)
        return self.credentials.end_other_sessions(username, keep_session_id)
