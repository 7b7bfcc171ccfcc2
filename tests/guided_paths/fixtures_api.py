"""Helpers shared by the Guided Paths API tests (imported explicitly, not a conftest).

Documents are built small and valid by :func:`document`; the database helpers
read the tenant's own tables so a test can assert that a refused request wrote
nothing at all.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import func, select

from guidepath.core.events.outbox import event_outbox
from guidepath.guided_paths.demo import demo_documents
from guidepath.guided_paths.tables import (
    guided_path_run_steps, guided_path_runs, guided_path_versions, guided_paths,
)

PATHS = "/api/v1/guided-paths"
RUNS = "/api/v1/runs"

TABLES = (guided_paths, guided_path_versions, guided_path_runs, guided_path_run_steps, event_outbox)


def document(key: str = "check-cable", **changes: Any) -> dict[str, Any]:
    """A small valid document: a yes/no question, a decision, two ends."""
    doc: dict[str, Any] = {
        "schema_version": 1,
        "id": key,
        "title": "Check the cable",
        "variables": {"plugged": {"type": "boolean", "default": False}},
        "start": "ask",
        "steps": {
            "ask": {"type": "question", "kind": "yes_no", "prompt": "Is the cable plugged in?",
                    "store_as": "plugged", "next": "decide"},
            "decide": {"type": "decision",
                       "branches": [{"when": {"===": [{"var": "vars.plugged"}, True]}, "next": "fixed"}],
                       "default": "escalate"},
            "fixed": {"type": "end", "outcome": "resolved", "message": "Good."},
            "escalate": {"type": "end", "outcome": "escalate", "message": "An agent will help."},
        },
    }
    doc.update(changes)
    return doc


APPS = "/api/v1/guided-path-apps"


def register_app(client, key: str, *, url: str | None = None, output_schema: Any = None,
                 input_schema: Any = None) -> dict[str, Any]:
    """Put ``key`` on the tenant's Guided Path Apps allowlist (plugin guided_path_apps)."""
    body = {"key": key, "title": key.title(), "url": url or f"https://apps.example.com/{key}",
            "input_schema": {"type": "object"} if input_schema is None else input_schema,
            "output_schema": True if output_schema is None else output_schema}
    response = client.post(APPS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def demo(key: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in demo_documents() if d["id"] == key))


def created(client, doc: dict[str, Any]) -> dict[str, Any]:
    response = client.post(PATHS, json=doc)
    assert response.status_code == 201, response.text
    return response.json()


def published(client, doc: dict[str, Any]) -> dict[str, Any]:
    """Create (or import) ``doc`` and publish it; returns the path."""
    response = client.post(f"{PATHS}/import", params={"publish": "true"}, json=doc)
    assert response.status_code in (200, 201), response.text
    return response.json()


def snapshot(tenant) -> dict[str, Any]:
    """Every row of the Guided Paths tables and the outbox, for before/after checks."""
    out = {}
    with tenant.context().engine.connect() as conn:
        for table in TABLES:
            # The publisher stamps outbox rows asynchronously: compare their ids only.
            columns = [table.c.id, table.c.type] if table is event_outbox else [table]
            rows = conn.execute(select(*columns)).all()
            out[table.name] = sorted(json.dumps([str(v) for v in row]) for row in rows)
    return out


def outbox(tenant, prefix: str = "") -> list[tuple[str, dict]]:
    """``(type, data)`` of the tenant's outbox events, oldest first."""
    with tenant.context().engine.connect() as conn:
        rows = conn.execute(select(event_outbox.c.type, event_outbox.c.payload)
                            .order_by(event_outbox.c.seq)).all()
    return [(r.type, json.loads(r.payload)["data"]) for r in rows if r.type.startswith(prefix)]


def count(tenant, table) -> int:
    with tenant.context().engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()["error"]


__all__ = [
    "APPS", "PATHS", "RUNS", "register_app", "count", "created", "demo", "document", "error", "outbox", "published",
    "snapshot",
]
