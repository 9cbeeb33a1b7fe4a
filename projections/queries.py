"""The read models' public interface: what services may ask of them, and the list of
them to run.

Services import from here (and from ``projections.catalogue``,
``projections.projector``, ``projections.database``, ``projections.log`` and
``projections.errors`` to run them), never from a read model's own module;
import-linter holds them to it.
"""

from __future__ import annotations

from projections.audit_log import AuditQuery, audit_log, first_recorded
from projections.base import BadCursor, ReadModel
from projections.catalogue import read_models
from projections.cohort_timeline import TimelineQuery, first_entry_recorded, timeline
from projections.collaboration import (
    capability_decisions,
    find_output,
    list_capabilities,
    list_outputs,
    outputs_of_council,
    outputs_of_project,
)
from projections.comparison import (
    GROUPINGS,
    ComparisonQuery,
    comparison,
    first_enrolled,
    group,
    medians,
)
from projections.directory import (
    cohort_record,
    cohorts_of_programmes_or_councils,
    council_record,
    councils_enrolled,
    find_cohort,
    find_council,
    find_programme,
    find_project,
    list_cohorts,
    list_councils,
    list_programmes,
    list_projects,
    list_projects_of_councils,
    names_of,
    partners_of,
    programme_record,
    programmes_of_council,
    projects_partnered_by,
)
from projections.errors import DatabaseUnavailable
from projections.funding import FUNDING_KINDS, FundingQuery, funding, totals
from projections.nudges import NudgeQuery, nudges
from projections.outcomes import latest_assessments, outcomes_of, project_outcomes
from projections.people import digest_readers, find_person, list_people
from projections.project_history import (
    corrections_at,
    project_entries,
    project_history,
    public_entries,
    public_project,
    share_decisions,
)
from projections.search import SearchQuery, search
from projections.sessions import attendance_by_council, sessions_of_cohort, sessions_of_council
from projections.summaries import in_words, pounds
from projections.support import support_requests
from storage.times import instant

__all__ = [
    "attendance_by_council",
    "sessions_of_cohort",
    "sessions_of_council",
    "support_requests",
    "GROUPINGS",
    "AuditQuery",
    "NudgeQuery",
    "BadCursor",
    "ComparisonQuery",
    "DatabaseUnavailable",
    "FUNDING_KINDS",
    "FundingQuery",
    "ReadModel",
    "SearchQuery",
    "TimelineQuery",
    "audit_log",
    "capability_decisions",
    "find_output",
    "list_capabilities",
    "list_outputs",
    "outputs_of_council",
    "outputs_of_project",
    "cohorts_of_programmes_or_councils",
    "comparison",
    "councils_enrolled",
    "digest_readers",
    "cohort_record",
    "council_record",
    "find_cohort",
    "find_person",
    "latest_assessments",
    "outcomes_of",
    "project_outcomes",
    "first_enrolled",
    "first_entry_recorded",
    "find_council",
    "find_programme",
    "find_project",
    "first_recorded",
    "funding",
    "group",
    "medians",
    "instant",
    "list_cohorts",
    "list_councils",
    "list_people",
    "list_programmes",
    "list_projects",
    "in_words",
    "names_of",
    "partners_of",
    "projects_partnered_by",
    "programme_record",
    "nudges",
    "corrections_at",
    "list_projects_of_councils",
    "pounds",
    "programmes_of_council",
    "project_entries",
    "project_history",
    "public_entries",
    "public_project",
    "share_decisions",
    "read_models",
    "search",
    "timeline",
    "totals",
]
