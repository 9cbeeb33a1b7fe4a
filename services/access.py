"""Who may do what: the access rules, in one place.

- Anyone signed in reads programmes and councils. A council's assessments in
  full (the demand and financial pressures, and the notes of its financial
  context and maturity assessments) are read by admins, programme managers,
  reviewers and the council's own participants; other participants (its
  peers) see each assessment only as its date, segment and maturity levels.
- A cohort (its projects, timeline, comparison) is read by admins, reviewers,
  the programme's managers, and participants of councils enrolled in it. A
  project is read also by participants of its partner councils (while they are
  partners): the project, not the rest of its cohort.
- A programme's comparison across its cohorts is read by admins, reviewers and
  the programme's managers.
- A programme's outputs (and who reused them) and its capabilities (every
  council's capacity decisions about each) are read by anyone signed in, as
  the programme page is: they are there for councils to find each other.
- Search finds entries only in the cohorts the asker may read.
- Admins launch programmes and manage users.
- A programme's managers (and admins) manage it: cohorts, enrolment, segments.
- Any programme manager (and admins) registers a council. Changing one (its
  profile, GSS code, assessments, declaration, succession) is for admins and
  the managers of a programme in one of whose cohorts it is enrolled (and has
  not withdrawn).
- An entry on a project is recorded by admins, the programme's managers, and
  participants of the project's council and of its partner councils (while
  they are partners); the programme's answer to a support
  request (``support_answered``) by admins and the programme's managers only.
  Reviewers write nothing.
- A cohort's sessions are recorded by admins and the programme's managers.
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
    MANAGE_COUNCILS = "manage_councils"  # register a council
    CHANGE_COUNCIL = "change_council"
    READ_COUNCIL_IN_FULL = "read_council_in_full"
    RECORD_ENTRY = "record_entry"
    ANSWER_SUPPORT = "answer_support"
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


def _nobody(council_codes: frozenset[str]) -> frozenset[str]:
    return frozenset()


def _no_partners() -> frozenset[str]:
    return frozenset()


@dataclass(frozen=True)
class Scope:
    """What a request is about, resolved to the programme and councils it concerns.

    Which councils are enrolled in the cohort is looked up only if a rule asks
    (only participants' do), and only for the councils asked about. So are the
    programmes a council is enrolled in (only programme managers' rules ask).
    """

    programme_id: UUID | None = None
    find_enrolled: Callable[[frozenset[str]], frozenset[str]] = _nobody
    project_council: str | None = None
    #: The project's partner councils in force (only a project in scope has any).
    find_partners: Callable[[], frozenset[str]] = _no_partners
    council_code: str | None = None
    find_council_programmes: Callable[[], frozenset[UUID]] = frozenset

    def enrolled(self, council_codes: set[str]) -> frozenset[str]:
        """Which of ``council_codes`` are enrolled in the cohort in scope (if any)."""
        return self.find_enrolled(frozenset(council_codes)) if council_codes else frozenset()

    @cached_property
    def council_programmes(self) -> frozenset[UUID]:
        return self.find_council_programmes()

    def takes_part(self, council_codes: set[str]) -> bool:
        """Whether one of ``council_codes`` leads the project in scope, or is a partner
        of it now (partners are looked up only if the lead is not among them)."""
        if not council_codes or self.project_council is None:
            return False
        return self.project_council in council_codes or bool(self.find_partners() & council_codes)


@dataclass(frozen=True)
class Facts:
    """Lookups the rules need; a cohort's programme and a project's cohort never change,
    and an enrolment is never undone (a council withdrawn from a cohort stays in it)."""

    cohort_programme: Callable[[UUID], UUID]
    #: Which of the given councils are enrolled in the cohort.
    enrolled: Callable[[UUID, frozenset[str]], frozenset[str]]
    project_cohort_and_council: Callable[[UUID], tuple[UUID, str]]
    #: The programmes in whose cohorts a council (by code) is enrolled now.
    council_programmes: Callable[[str], frozenset[UUID]]
    #: A project's partner councils now (they join and leave: never cached).
    project_partners: Callable[[UUID], frozenset[str]]


class Access:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def scope(
        self,
        *,
        programme_id: UUID | None = None,
        cohort_id: UUID | None = None,
        project_id: UUID | None = None,
        council_code: str | None = None,
    ) -> Scope:
        if council_code is not None:
            return Scope(
                council_code=council_code,
                find_council_programmes=partial(self.facts.council_programmes, council_code),
            )
        council = None
        if project_id is not None:
            cohort_id, council = self.facts.project_cohort_and_council(project_id)
        if cohort_id is not None:
            return Scope(
                programme_id=self.facts.cohort_programme(cohort_id),
                find_enrolled=partial(self.facts.enrolled, cohort_id),
                project_council=council,
                find_partners=(
                    partial(self.facts.project_partners, project_id)
                    if project_id is not None
                    else _no_partners
                ),
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
                or bool(scope.enrolled(principal.councils()))
                or scope.takes_part(principal.councils())
            )
        if permission == Permission.READ_PROGRAMME_RECORD:
            return principal.has(Role.REVIEWER) or manages
        if permission == Permission.MANAGE_PROGRAMME:
            return manages
        if permission == Permission.MANAGE_COUNCILS:
            return principal.has(Role.PROGRAMME_MANAGER)
        if permission == Permission.CHANGE_COUNCIL:
            managed = principal.managed_programmes()
            return bool(managed) and bool(managed & scope.council_programmes)
        if permission == Permission.READ_COUNCIL_IN_FULL:
            return (
                principal.has(Role.PROGRAMME_MANAGER)
                or principal.has(Role.REVIEWER)
                or (scope.council_code is not None and scope.council_code in principal.councils())
            )
        if permission == Permission.RECORD_ENTRY:
            return manages or scope.takes_part(principal.councils())
        if permission == Permission.ANSWER_SUPPORT:
            return manages
        if permission == Permission.AUDIT:
            return principal.has(Role.REVIEWER)
        return False  # LAUNCH_PROGRAMME and ADMINISTER: admins only


#: Entry kinds the programme records, not a council: each needs its permission as well.
PROGRAMME_KINDS: dict[str, Permission] = {"support_answered": Permission.ANSWER_SUPPORT}


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
    "PROGRAMME_KINDS",
    "Principal",
    "Scope",
    "Unauthenticated",
    "cached",
]
