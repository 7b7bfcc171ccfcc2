"""API keys: created by admins, the key itself returned once."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import api_keys, audit
from ..auth import actor_id, current_principal, forget_api_keys, require
from ..body import json_body
from ..contract import PAGING, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys")

KEY = api_keys.API_KEY_OUTPUT_SCHEMA


@bp.get("")
@require("admin")
@documented("List API keys (admin; paginated, oldest first; revoked ones included)", query=PAGING,
            returns=page_of(KEY))
def list_keys():
    with tenant_ctx().engine.connect() as conn:
        return jsonify(api_keys.list_keys(conn, **query_args()).as_dict())


@bp.post("")
@require("admin")
@documented("Create an API key (admin); the key is returned once",
            description="The response is the only time the key is shown: it is stored as a hash. Send it as "
                        "`Authorization: Bearer …`; `role` (default `agent`) is what it may do.",
            query=[], body=api_keys.API_KEY_CREATE_SCHEMA, returns=api_keys.API_KEY_CREATED_SCHEMA, status=201)
def create_key():
    data = json_body()
    with tenant_ctx().begin() as conn:
        key = api_keys.create(conn, data, created_by=current_principal()["id"])
        audit.record(conn, actor_id(), "api_key.created", key["id"], {"role": key["role"]})
    return jsonify(key), 201


@bp.get("/<key_id>")
@require("admin")
@documented("Get an API key's metadata (admin)",
            description="A revoked key stays readable here, with `revoked_at` set; it no longer authenticates.",
            query=[], returns=KEY)
def get_key(key_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(api_keys.get(conn, key_id))


@bp.delete("/<key_id>")
@require("admin")
@documented("Revoke an API key (admin)",
            description="It stops authenticating at once on this node, and on the others within the "
                        "credential cache time (2 s by default). The key stays listed and readable (with "
                        "`revoked_at`); revoking it again changes nothing.",
            query=[], status=204)
def revoke_key(key_id: str):
    with tenant_ctx().begin() as conn:
        api_keys.revoke(conn, key_id)
        audit.record(conn, actor_id(), "api_key.revoked", key_id)
    forget_api_keys(tenant_ctx())
    return "", 204
