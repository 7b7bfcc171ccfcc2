"""The catalogue of event types with their JSON Schemas."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..auth import require

bp = Blueprint("events", __name__, url_prefix="/api/v1/events")


@bp.get("/types")
@require("agent")
def event_types():
    registry = current_app.extensions["guidepath"].event_types
    return jsonify({"items": [
        {"name": t.name, "version": t.version, "description": t.description, "schema": t.schema}
        for t in registry.all()
    ], "next": None})
