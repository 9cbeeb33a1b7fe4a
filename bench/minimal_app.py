"""The reference for Waymark's writes: a minimal FastAPI + eventsourcing app.

    .venv/bin/python -m bench.minimal_app --port 8001 [--workers 1]

One aggregate (``Project``) with one command that appends an entry of a few
fields; one sync route, ``POST /projects/{project_id}/entries`` with a pydantic
body, that loads the project, calls the command and saves it; ``POST
/projects`` to start a project. Nothing else: no authentication, no rules, no
read models, no logging. The library's own persistence, configured as the
library documents it, from the environment:

- PostgreSQL: ``PERSISTENCE_MODULE=eventsourcing.postgres``, ``POSTGRES_DBNAME``,
  ``POSTGRES_HOST``, ... and ``POSTGRES_ENABLE_DB_FUNCTIONS=y`` (the library's
  database functions insert the events);
- SQLite: ``PERSISTENCE_MODULE=eventsourcing.sqlite``, ``SQLITE_DBNAME``;

with ``AGGREGATE_CACHE_MAXSIZE`` (the application's aggregate cache: a project
written to before is not replayed). ``bench.served.minimal_app_env`` makes that
environment. Served by uvicorn as Waymark is (``waymark serve``): the same
number of workers, uvicorn's default event loop (uvloop where installed) and
HTTP protocol (httptools where installed), no access log.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any, Literal

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from pydantic import BaseModel, Field


class Project(Aggregate):
    @event("Started")
    def __init__(self, title: str) -> None:
        self.title = title
        self.entries: list[dict[str, Any]] = []

    @event("EntryRecorded")
    def record_entry(self, kind: str, team_health: str, member_engagement: str) -> None:
        self.entries.append(
            {"kind": kind, "team_health": team_health, "member_engagement": member_engagement}
        )


class Projects(Application[uuid.UUID]):
    def start(self, title: str) -> uuid.UUID:
        project = Project(title=title)
        self.save(project)
        return project.id

    def record_entry(
        self, project_id: uuid.UUID, kind: str, team_health: str, member_engagement: str
    ) -> int:
        project: Project = self.repository.get(project_id)
        project.record_entry(kind, team_health, member_engagement)
        self.save(project)
        return project.version


class NewProject(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class NewEntry(BaseModel):
    kind: str = Field(min_length=1, max_length=50)
    team_health: Literal["green", "amber", "red"]
    member_engagement: str = Field(max_length=2000)


def create_app() -> FastAPI:
    projects = Projects()  # configured from the environment (see above)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/projects", status_code=201)
    def start(body: NewProject) -> dict[str, str]:
        return {"project_id": str(projects.start(body.title))}

    @app.post("/projects/{project_id}/entries", status_code=201)
    def record_entry(project_id: uuid.UUID, body: NewEntry) -> dict[str, int]:
        version = projects.record_entry(
            project_id, body.kind, body.team_health, body.member_engagement
        )
        return {"version": version}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.minimal_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
