"""Invite codes: agents create them for a session; customers redeem one for a
customer token (no account, no login).

Redeeming is public, so guessing is limited: failed attempts (unknown, used or
expired codes, malformed ones) are counted per client address and per tenant in the
tenant's cache for the current minute; past :data:`FAILURES_PER_IP` (or
:data:`FAILURES_PER_TENANT` for the whole tenant) further attempts are a 429 with
``Retry-After`` until the minute ends, right codes included.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, jsonify, request

from ...domain import invites
from ...domain.errors import DomainError, Invalid, NotFound
from ..auth import actor_id, require
from ..body import json_body
from ..contract import PAGING, documented, page_of, query_args
from ..errors import error_response
from ..tenant import tenant_ctx

bp = Blueprint("invites", __name__, url_prefix="/api/v1")

FAILURES_PER_IP = 10
FAILURES_PER_TENANT = 100
WINDOW_SECONDS = 60


@bp.post("/sessions/<session_id>/invites")
@require("agent")
@documented("Create an invite code for the session (shown only in this response)",
            description="8 characters of Crockford base32 shown as `K7QF-3MZD` (accepted with or without the "
                        "dash, any case), valid 15 minutes unless `expires_in_seconds` says otherwise, single use; "
                        "stored only as a SHA-256 hash. `url` is the join page on this account's host. The body "
                        "is optional. An ended session is a 409 `session_ended`.",
            query=[], body=invites.INVITE_CREATE_SCHEMA, body_required=False,
            returns=invites.INVITE_CREATED_SCHEMA, status=201, errors=[409])
def create_invite(session_id: str):
    data = json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        invite = invites.create(conn, session_id, data, created_by=actor_id())
    invite["url"] = f"{request.scheme}://{request.host}/join/{invite['code']}"
    return jsonify(invite), 201


@bp.get("/sessions/<session_id>/invites")
@require("agent")
@documented("List the session's invite codes (without the codes), oldest first", query=PAGING,
            returns=page_of(invites.INVITE_OUTPUT_SCHEMA))
def list_invites(session_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(invites.list_invites(conn, session_id, **query_args()).as_dict())


def _window() -> tuple[int, int]:
    now = time.time()
    return int(now // WINDOW_SECONDS), WINDOW_SECONDS - int(now % WINDOW_SECONDS)


def _counter_keys(window: int) -> tuple[str, str]:
    client = hashlib.sha256((request.remote_addr or "unknown").encode()).hexdigest()[:24]
    return f"invite-fail:ip:{client}:{window}", f"invite-fail:tenant:{window}"


@bp.post("/invites/redeem")
@documented("Redeem an invite code: join the session as its customer (no account needed)",
            description="Single use and atomic: a second redeem is a 409 `invite_used`; an expired code a 410 "
                        "`invite_expired`; an unknown one a 404 `invite_not_found` (found by the same one "
                        "lookup). A `created` session moves to `waiting`; `customer` is created and attached if "
                        "the session has no customer yet (ignored otherwise); `session.customer_joined` is "
                        "emitted. The answer's `token` is a customer token (24 h, hashed at rest) sent as "
                        "`Authorization: Bearer …`: it opens only GET /api/v1/sessions/{id} (a reduced view), "
                        "GET/POST …/messages (chat only) and GET …/queue of this session; anything else is a "
                        f"403. After {FAILURES_PER_IP} failed attempts in a minute from one address (or "
                        f"{FAILURES_PER_TENANT} for the account) it is a 429 with `Retry-After`.",
            query=[], body=invites.REDEEM_SCHEMA, returns=invites.REDEEMED_SCHEMA,
            errors=[404, 409, 410, 429], security=[])
def redeem_invite():
    ctx = tenant_ctx()
    window, retry_after = _window()
    ip_key, tenant_key = _counter_keys(window)
    if (int(ctx.cache.get(ip_key) or 0) >= FAILURES_PER_IP
            or int(ctx.cache.get(tenant_key) or 0) >= FAILURES_PER_TENANT):
        response = error_response(429, "too_many_attempts", "too many failed invite codes; wait a minute and "
                                  "try again", "code")
        response.headers["Retry-After"] = str(retry_after)
        return response
    try:
        data = json_body()
        with ctx.begin() as conn:
            result = invites.redeem(conn, data, ctx.emit)
    except (NotFound, invites.Gone, Invalid, DomainError) as exc:
        if exc.status in (404, 409, 410, 422):
            ctx.cache.incr(ip_key, ttl=2 * WINDOW_SECONDS)
            ctx.cache.incr(tenant_key, ttl=2 * WINDOW_SECONDS)
        raise
    return jsonify(result)
