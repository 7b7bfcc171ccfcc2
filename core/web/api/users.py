"""Users (admins manage them; every change is audited)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import audit, users
from ..auth import actor_id, require
from ..body import json_body
from ..tenant import tenant_ctx
from .params import paging, reject_unknown

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")


@bp.get("")
@require("agent")
def list_users():
    reject_unknown({"limit", "cursor"})
    with tenant_ctx().engine.connect() as conn:
        return jsonify(users.list_users(conn, **paging()).as_dict())


@bp.post("")
@require("admin")
def create_user():
    data = json_body()
    with tenant_ctx().begin() as conn:
        user = users.create(conn, data)
        audit.record(conn, actor_id(), "user.created", user["id"], {"role": user["role"]})
    return jsonify(user), 201


@bp.get("/<user_id>")
@require("agent")
def get_user(user_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(users.get(conn, user_id))


def _update(user_id: str, full: bool):
    data = json_body()
    with tenant_ctx().begin() as conn:
        user = users.update(conn, user_id, data, full=full)
        changed = sorted(k for k in data if k != "password") + (["password"] if "password" in data else [])
        audit.record(conn, actor_id(), "user.updated", user_id, {"fields": changed})
    return jsonify(user)


@bp.put("/<user_id>")
@require("admin")
def replace_user(user_id: str):
    return _update(user_id, full=True)


@bp.patch("/<user_id>")
@require("admin")
def patch_user(user_id: str):
    return _update(user_id, full=False)


@bp.delete("/<user_id>")
@require("admin")
def delete_user(user_id: str):
    with tenant_ctx().begin() as conn:
        users.delete(conn, user_id)
        audit.record(conn, actor_id(), "user.deleted", user_id)
    return "", 204
