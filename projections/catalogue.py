"""Every read model Waymark keeps: what a projector runs and a rebuild shares out."""

from __future__ import annotations

from projections.audit_log import AuditLog
from projections.base import ReadModel
from projections.collaboration import Collaboration
from projections.comparison import Comparison
from projections.directory import Directory
from projections.entries import Entries
from projections.funding import Funding
from projections.outcomes import Outcomes
from projections.people import People
from projections.sessions import Sessions
from projections.support import Support


def read_models() -> list[ReadModel]:
    """Every read model, in the order a batch is applied to them."""
    return [
        Directory(),
        Entries(),
        Comparison(),
        AuditLog(),
        People(),
        Sessions(),
        Support(),
        Collaboration(),
        Funding(),
        Outcomes(),
    ]


#: Read models Waymark no longer keeps, and their tables, dropped on start. The
#: timeline, project history and search each kept a copy of every entry until
#: ``entries`` served all three.
RETIRED: dict[str, tuple[str, ...]] = {
    "cohort_timeline": ("tl_entries", "tl_projects", "tl_councils", "tl_partners"),
    "project_history": ("hist_entries", "hist_projects", "hist_councils"),
    "search": ("search_entries", "search_terms", "srch_projects", "srch_councils"),
}
