"""Working in the open: a project's public page, read by anyone, signed in or not.

It shows only the entries marked public (recorded public, or made public later)
and only while the project's programme allows publishing; otherwise there is no
such page (404), so a programme that stops allowing publishing takes its pages down.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.deps import WaymarkDep
from web.pages import present
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/open/projects/{project_id}")
def open_project(
    project_id: UUID, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    project = waymark.queries.open_project(project_id)
    entries = [
        {
            "entry_id": e["entry_id"],
            "kind": e["kind"],
            "decided_on": e["decided_on"],
            "lines": present.lines_of(e["kind"], e["values"]),
        }
        for e in reversed(project["entries"])
    ]
    outputs = [{**o["values"], "decided_on": o["decided_on"]} for o in project["outputs"]]
    return pages.render(
        request, "open_project.html", project=project, entries=entries, outputs=outputs
    )
