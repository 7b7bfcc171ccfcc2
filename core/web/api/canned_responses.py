"""Canned responses: agents read them, admins write them (audited)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import audit, canned_responses as canned
from ..auth import actor_id, require
from ..body import json_body
from ..contract import PAGING, Param, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("canned_responses", __name__, url_prefix="/api/v1/canned-responses")

CANNED = canned.CANNED_OUTPUT_SCHEMA
_UNIQUE = "The shortcut is unique: 409 `shortcut_taken` if another response has it."


@bp.get("")
@require("agent")
@documented("List canned responses (paginated, oldest first)",
            query=[*PAGING, Param("q", {"type": "string", "maxLength": 100},
                                  "Only those whose title, shortcut or body contains this text (any case).")],
            returns=page_of(CANNED))
def list_canned():
    with tenant_ctx().engine.connect() as conn:
        return jsonify(canned.list_responses(conn, **query_args()).as_dict())


@bp.post("")
@require("admin")
@documented("Create a canned response (admin)", description=_UNIQUE, query=[], body=canned.CANNED_CREATE_SCHEMA,
            returns=CANNED, status=201, errors=[409])
def create_canned():
    data = json_body()
    with tenant_ctx().begin() as conn:
        record = canned.create(conn, data, created_by=actor_id())
        audit.record(conn, actor_id(), "canned_response.created", record["id"], {"shortcut": record["shortcut"]})
    return jsonify(record), 201


@bp.get("/<response_id>")
@require("agent")
@documented("Get a canned response", query=[], returns=CANNED)
def get_canned(response_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(canned.get(conn, response_id))


def _update(response_id: str, full: bool):
    data = json_body()
    with tenant_ctx().begin() as conn:
        record = canned.update(conn, response_id, data, full=full)
        audit.record(conn, actor_id(), "canned_response.updated", response_id, {"fields": sorted(data)})
    return jsonify(record)


@bp.put("/<response_id>")
@require("admin")
@documented("Replace a canned response (admin)", description=_UNIQUE, query=[], body=canned.CANNED_CREATE_SCHEMA,
            returns=CANNED, errors=[409])
def replace_canned(response_id: str):
    return _update(response_id, full=True)


@bp.patch("/<response_id>")
@require("admin")
@documented("Update some fields of a canned response (admin)", description=_UNIQUE, query=[],
            body=canned.CANNED_PATCH_SCHEMA, returns=CANNED, errors=[409])
def patch_canned(response_id: str):
    return _update(response_id, full=False)


@bp.delete("/<response_id>")
@require("admin")
@documented("Delete a canned response (admin)", query=[], status=204)
def delete_canned(response_id: str):
    with tenant_ctx().begin() as conn:
        canned.delete(conn, response_id)
        audit.record(conn, actor_id(), "canned_response.deleted", response_id)
    return "", 204
