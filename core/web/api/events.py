"""The catalogue of event types with their JSON Schemas."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..auth import require
from ..contract import documented, page_of

bp = Blueprint("events", __name__, url_prefix="/api/v1/events")

EVENT_TYPE_SCHEMA = {
    "type": "object",
    "required": ["name", "version", "description", "schema"],
    "properties": {
        "name": {"type": "string", "examples": ["session.state_changed"]},
        "version": {"type": "integer", "minimum": 1, "description": "Written into each event as `schema_version`"},
        "description": {"type": "string"},
        "schema": {"type": "object", "description": "The JSON Schema (Draft 2020-12) of the event's `data`"},
    },
    "description": "An event type: what webhooks and plugins receive as `type` and `data`",
}


@bp.get("/types")
@require("agent")
@documented("Every event type with its JSON Schema (one page: `next` is always null)", query=[],
            returns=page_of(EVENT_TYPE_SCHEMA))
def event_types():
    registry = current_app.extensions["guidepath"].event_types
    return jsonify({"items": [
        {"name": t.name, "version": t.version, "description": t.description, "schema": t.schema}
        for t in registry.all()
    ], "next": None})
