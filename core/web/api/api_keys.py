"""API keys: created by admins, the key itself returned once."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import api_keys, audit
from ..auth import actor_id, current_principal, forget_api_keys, require
from ..body import json_body
from ..tenant import tenant_ctx
from .params import paging, reject_unknown

bp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys")


@bp.get("")
@require("admin")
def list_keys():
    reject_unknown({"limit", "cursor"})
    with tenant_ctx().engine.connect() as conn:
        return jsonify(api_keys.list_keys(conn, **paging()).as_dict())


@bp.post("")
@require("admin")
def create_key():
    data = json_body()
    with tenant_ctx().begin() as conn:
        key = api_keys.create(conn, data, created_by=current_principal()["id"])
        audit.record(conn, actor_id(), "api_key.created", key["id"], {"role": key["role"]})
    return jsonify(key), 201


@bp.get("/<key_id>")
@require("admin")
def get_key(key_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(api_keys.get(conn, key_id))


@bp.delete("/<key_id>")
@require("admin")
def revoke_key(key_id: str):
    with tenant_ctx().begin() as conn:
        api_keys.revoke(conn, key_id)
        audit.record(conn, actor_id(), "api_key.revoked", key_id)
    forget_api_keys(tenant_ctx())
    return "", 204
