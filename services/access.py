"""Who may do what: the access rules, in one place.

- Anyone signed in reads programmes and councils.
- A cohort (its projects, timeline, comparison) is read by admins, reviewers,
  the programme's managers, and participants of councils enrolled in it.
- A programme's comparison across its cohorts is read by admins, reviewers and
  the programme's managers.
- Search finds entries only in the cohorts the asker may read.
- Admins launch programmes and manage users.
- A programme's managers (and admins) manage it: cohorts, enrolment, segments.
- Any programme manager (and admins) keeps council profiles and assessments.
- An entry on a project is recorded by admins, the programme's managers, and
  participants of the project's council. Reviewers write nothing.
- The audit log, exports and the ledger are for admins and reviewers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, partial
from typing import TypeVar
from uuid import UUID

from domain.errors import DomainError, NotFound
from domain.user import Grant
from domain.vocabulary import Role

T = TypeVar("T")


class Unauthenticated(DomainError):
    """No valid credentials came with the request."""


class Forbidden(DomainError):
    """The signed-in user may not do this."""


class Permission(StrEnum):
    READ = "read"
    READ_COHORT = "read_cohort"
    READ_PROGRAMME_RECORD = "read_programme_record"
    LAUNCH_PROGRAMME = "launch_programme"
    MANAGE_PROGRAMME = "manage_programme"
    MANAGE_COUNCILS = "manage_councils"
    RECORD_ENTRY = "record_entry"
    AUDIT = "audit"
    ADMINISTER = "administer"


@dataclass(frozen=True)
class Principal:
    username: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def has(self, role: Role) -> bool:
        return any(g.role == role for g in self.grants)

    def managed_programmes(self) -> set[UUID]:
        return {
            g.programme_id
            for g in self.grants
            if g.role == Role.PROGRAMME_MANAGER and g.programme_id is not None
        }

    def councils(self) -> set[str]:
        return {
            g.council_code for g in self.grants if g.role == Role.PARTICIPANT and g.council_code
        }


@dataclass(frozen=True)
class Scope:
    """What a request is about, resolved to the programme and councils it concerns.

    The cohort's councils are looked up only if a rule asks (only participants'
    do): finding them replays the cohort.
    """

    programme_id: UUID | None = None
    find_cohort_councils: Callable[[], frozenset[str]] = frozenset
    project_council: str | None = None

    @cached_property
    def cohort_councils(self) -> frozenset[str]:
        return self.find_cohort_councils()


@dataclass(frozen=True)
class Facts:
    """Lookups the rules need; a cohort's programme and a project's cohort never change."""

    cohort_programme: Callable[[UUID], UUID]
    cohort_councils: Callable[[UUID], frozenset[str]]
    project_cohort_and_council: Callable[[UUID], tuple[UUID, str]]


class Access:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def scope(
        self,
        *,
        programme_id: UUID | None = None,
        cohort_id: UUID | None = None,
        project_id: UUID | None = None,
    ) -> Scope:
        council = None
        if project_id is not None:
            cohort_id, council = self.facts.project_cohort_and_council(project_id)
        if cohort_id is not None:
            return Scope(
                programme_id=self.facts.cohort_programme(cohort_id),
                find_cohort_councils=partial(self.facts.cohort_councils, cohort_id),
                project_council=council,
            )
        return Scope(programme_id=programme_id)

    def require(self, principal: Principal | None, permission: Permission, scope: Scope) -> None:
        if principal is None:
            raise Unauthenticated("sign in to use Waymark")
        if not self.allows(principal, permission, scope):
            raise Forbidden(f"{principal.username} may not {permission.value.replace('_', ' ')}")

    def allows(self, principal: Principal, permission: Permission, scope: Scope) -> bool:
        if principal.has(Role.ADMIN):
            return True
        manages = scope.programme_id is not None and (
            scope.programme_id in principal.managed_programmes()
        )
        if permission == Permission.READ:
            return bool(principal.grants)
        if permission == Permission.READ_COHORT:
            return (
                principal.has(Role.REVIEWER)
                or manages
                or bool(principal.councils() & scope.cohort_councils)
            )
        if permission == Permission.READ_PROGRAMME_RECORD:
            return principal.has(Role.REVIEWER) or manages
        if permission == Permission.MANAGE_PROGRAMME:
            return manages
        if permission == Permission.MANAGE_COUNCILS:
            return principal.has(Role.PROGRAMME_MANAGER)
        if permission == Permission.RECORD_ENTRY:
            return manages or (
                scope.project_council is not None and scope.project_council in principal.councils()
            )
        if permission == Permission.AUDIT:
            return principal.has(Role.REVIEWER)
        return False  # LAUNCH_PROGRAMME and ADMINISTER: admins only


def sees_everything(principal: Principal) -> bool:
    return principal.has(Role.ADMIN) or principal.has(Role.REVIEWER)


def cached(lookup: Callable[[UUID], T]) -> Callable[[UUID], T]:
    """Remember immutable facts (a project's cohort and council) after the first look-up."""
    known: dict[UUID, T] = {}

    def remembered(key: UUID) -> T:
        if key not in known:
            if len(known) > 100_000:
                known.clear()
            known[key] = lookup(key)
        return known[key]

    return remembered


__all__ = [
    "Access",
    "Facts",
    "Forbidden",
    "NotFound",
    "Permission",
    "Principal",
    "Scope",
    "Unauthenticated",
    "cached",
]
