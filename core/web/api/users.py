"""Users (admins manage them; every change is audited)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import audit, users
from ..auth import actor_id, require
from ..body import json_body
from ..contract import PAGING, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")

USER = users.USER_OUTPUT_SCHEMA
_LAST_ADMIN = "409 if it would leave the account without an active admin."


@bp.get("")
@require("agent")
@documented("List users (paginated, oldest first)", query=PAGING, returns=page_of(USER))
def list_users():
    with tenant_ctx().engine.connect() as conn:
        return jsonify(users.list_users(conn, **query_args()).as_dict())


@bp.post("")
@require("admin")
@documented("Create a user (admin)", description="409 if a user with the email exists (emails are compared "
            "in lower case).", query=[], body=users.USER_CREATE_SCHEMA, returns=USER, status=201, errors=[409])
def create_user():
    data = json_body()
    with tenant_ctx().begin() as conn:
        user = users.create(conn, data)
        audit.record(conn, actor_id(), "user.created", user["id"], {"role": user["role"]})
    return jsonify(user), 201


@bp.get("/<user_id>")
@require("agent")
@documented("Get a user", query=[], returns=USER)
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
@documented("Replace a user (admin)", description="The email cannot change (422 if it differs). A new "
            f"password also clears a login lockout. Capacity is kept (PATCH sets it). {_LAST_ADMIN}", query=[],
            body=users.USER_REPLACE_SCHEMA,
            returns=USER, errors=[409])
def replace_user(user_id: str):
    return _update(user_id, full=True)


@bp.patch("/<user_id>")
@require("admin")
@documented("Update a user (admin)", description=f"A new password also clears a login lockout. {_LAST_ADMIN}",
            query=[], body=users.USER_PATCH_SCHEMA, returns=USER, errors=[409])
def patch_user(user_id: str):
    return _update(user_id, full=False)


@bp.delete("/<user_id>")
@require("admin")
@documented("Delete a user (admin)", description=_LAST_ADMIN, query=[], status=204, errors=[409])
def delete_user(user_id: str):
    with tenant_ctx().begin() as conn:
        users.delete(conn, user_id)
        audit.record(conn, actor_id(), "user.deleted", user_id)
    return "", 204
