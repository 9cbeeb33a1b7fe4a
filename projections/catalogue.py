"""Every read model Waymark keeps: what a projector runs and a rebuild shares out."""

from __future__ import annotations

from projections.audit_log import AuditLog
from projections.base import ReadModel
from projections.cohort_timeline import CohortTimeline
from projections.collaboration import Collaboration
from projections.comparison import Comparison
from projections.directory import Directory
from projections.funding import Funding
from projections.outcomes import Outcomes
from projections.people import People
from projections.project_history import ProjectHistory
from projections.search import Search
from projections.sessions import Sessions
from projections.support import Support


def read_models() -> list[ReadModel]:
    """Every read model, in the order a batch is applied to them."""
    return [
        Directory(),
        CohortTimeline(),
        ProjectHistory(),
        Comparison(),
        AuditLog(),
        Search(),
        People(),
        Sessions(),
        Support(),
        Collaboration(),
        Funding(),
        Outcomes(),
    ]
