"""``/api/v1/webhooks``: admins subscribe endpoints to the account's events.

Every view is ``@documented`` (the declaration checks the query string and is what
``GET /api/openapi.json`` says) and admin-only: a subscription's URL and delivery
log are the account's integration details. Changes are audited.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from guidepath.core.plugin_api import (
    PAGING,
    Param,
    actor_id,
    documented,
    json_body,
    page_of,
    query_args,
    require,
    tenant_ctx,
)

from . import safety, store
from .options import state_for
from .patterns import PATTERN_RE

bp = Blueprint("webhooks", __name__)

HOOKS = "/api/v1/webhooks"
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

SUBSCRIPTION = {
    "type": "object",
    "required": ["id", "url", "event_types", "description", "enabled", "disabled_reason", "failing_since",
                 "previous_secret_expires_at", "created_by", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "string", "pattern": "^whk_[0-9a-z]{26}$"},
        "url": {"type": "string"},
        "event_types": {"type": "array", "items": {"type": "string", "pattern": PATTERN_RE}},
        "description": {"type": "string"},
        "enabled": {"type": "boolean"},
        "disabled_reason": {"type": ["string", "null"], "enum": ["admin", "gone", "failing", None],
                            "description": "Why it is off: an admin switched it off, the endpoint answered "
                                           "410 Gone, or it failed without a success for days"},
        "failing_since": {**_TIME_OR_NULL, "description": "First failed attempt since the last success"},
        "previous_secret_expires_at": {**_TIME_OR_NULL,
                                       "description": "Until then deliveries are signed with the previous "
                                                      "secret too (after a rotation)"},
        "created_by": {"type": ["string", "null"]},
        "created_at": _TIME,
        "updated_at": _TIME,
    },
}
SECRET = {"type": "string", "pattern": "^whsec_[A-Za-z0-9+/]{43}=$",
          "description": "The signing secret (Standard Webhooks form); shown only in this answer"}
WITH_SECRET = {**SUBSCRIPTION, "required": [*SUBSCRIPTION["required"], "secret"],
               "properties": {**SUBSCRIPTION["properties"], "secret": SECRET}}
ATTEMPT = {
    "type": "object",
    "required": ["attempt", "at", "status_code", "latency_ms", "response_body", "error"],
    "properties": {
        "attempt": {"type": "integer", "minimum": 1},
        "at": _TIME,
        "status_code": {"type": ["integer", "null"], "description": "null when no response came"},
        "latency_ms": {"type": ["integer", "null"]},
        "response_body": {"type": ["string", "null"], "description": "The start of the response body"},
        "error": {"type": ["string", "null"], "description": "Why there was no response (timeout, refused…)"},
    },
}
DELIVERY = {
    "type": "object",
    "required": ["id", "subscription_id", "event_id", "event_type", "status", "attempt_count", "next_attempt_at",
                 "last_attempt_at", "last_status_code", "last_error", "created_at", "attempts"],
    "properties": {
        "id": {"type": "string", "pattern": "^whd_[0-9a-z]{26}$"},
        "subscription_id": {"type": "string"},
        "event_id": {"type": "string", "description": "Sent as the webhook-id header, the same on every attempt"},
        "event_type": {"type": "string"},
        "status": {"type": "string", "enum": list(store.STATUSES)},
        "attempt_count": {"type": "integer", "minimum": 0},
        "next_attempt_at": _TIME_OR_NULL,
        "last_attempt_at": _TIME_OR_NULL,
        "last_status_code": {"type": ["integer", "null"]},
        "last_error": {"type": ["string", "null"]},
        "created_at": _TIME,
        "attempts": {"type": "array", "items": ATTEMPT, "description": "Newest first (the latest 20)"},
    },
}
_RULES = ("`url` must be https:// and its host must resolve to public addresses only (not private, loopback, "
          "link-local/metadata or multicast), checked now and again at every delivery (422 `url_refused`); the "
          "operator's GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE=1 lifts this for development. Every `event_types` "
          "pattern must match a registered event type (422 `unknown_event_type` naming it).")
STATUS_FILTER = Param("status", {"type": "string", "enum": list(store.STATUSES)}, "Only deliveries in this state")


def _known_types(ctx) -> list[str]:
    return [t.name for t in ctx.kernel.event_types.all()]


def _check_url(ctx, values: dict) -> None:
    if "url" in values:
        options = state_for(ctx.kernel).options
        safety.check_url(values["url"], allow_private=options.allow_private, resolver=options.resolver)


@bp.get(HOOKS)
@require("admin")
@documented("List the account's webhook subscriptions (admin; paginated, oldest first)", query=PAGING,
            returns=page_of(SUBSCRIPTION))
def list_subscriptions():
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.list_subscriptions(conn, **query_args()).as_dict())


@bp.post(HOOKS)
@require("admin")
@documented("Subscribe an endpoint to events (admin)",
            description="Answers the subscription with its signing `secret`, shown only this once. Deliveries "
                        "follow the Standard Webhooks specification (docs/webhooks.md). " + _RULES,
            query=[], body=store.CREATE_SCHEMA, returns=WITH_SECRET, status=201)
def create_subscription():
    data = json_body()
    ctx = tenant_ctx()
    values = store.check_body(data, store.CREATE_SCHEMA, _known_types(ctx))
    _check_url(ctx, values)  # resolves the name: before the transaction
    key = ctx.kernel.data_key(ctx.tenant)
    with ctx.begin() as conn:
        subscription, secret = store.create(conn, values, tenant_id=ctx.id, data_key=key, actor=actor_id())
    response = jsonify({**subscription, "secret": secret})
    response.headers["Location"] = f"{HOOKS}/{subscription['id']}"
    return response, 201


@bp.get(f"{HOOKS}/<subscription_id>")
@require("admin")
@documented("Get a webhook subscription (admin)", query=[], returns=SUBSCRIPTION)
def get_subscription(subscription_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.get(conn, subscription_id))


@bp.patch(f"{HOOKS}/<subscription_id>")
@require("admin")
@documented("Change a webhook subscription: url, event types, description, enabled (admin)",
            description="Fields left out keep their value. Disabling cancels its pending deliveries; enabling "
                        "clears the failure record. " + _RULES, query=[], body=store.PATCH_SCHEMA,
            returns=SUBSCRIPTION)
def patch_subscription(subscription_id: str):
    data = json_body()
    ctx = tenant_ctx()
    values = store.check_body(data, store.PATCH_SCHEMA, _known_types(ctx))
    with ctx.engine.connect() as conn:
        store.get(conn, subscription_id)  # 404 before resolving anything
    _check_url(ctx, values)
    with ctx.begin() as conn:
        return jsonify(store.patch(conn, subscription_id, values, actor=actor_id()))


@bp.delete(f"{HOOKS}/<subscription_id>")
@require("admin")
@documented("Delete a webhook subscription and its delivery log (admin)", query=[], status=204)
def delete_subscription(subscription_id: str):
    with tenant_ctx().begin() as conn:
        store.delete_subscription(conn, subscription_id, actor=actor_id())
    return "", 204


@bp.post(f"{HOOKS}/<subscription_id>/rotate-secret")
@require("admin")
@documented("Rotate a subscription's signing secret (admin)",
            description="Answers the new `secret`, shown only this once. For 24 hours deliveries carry two "
                        "signatures (space-separated `v1,` entries), one per secret, so receivers can switch "
                        "at their own pace.", query=[], returns=WITH_SECRET)
def rotate_secret(subscription_id: str):
    ctx = tenant_ctx()
    key = ctx.kernel.data_key(ctx.tenant)
    grace = state_for(ctx.kernel).options.rotation_grace_seconds
    with ctx.begin() as conn:
        subscription, secret = store.rotate_secret(conn, subscription_id, tenant_id=ctx.id, data_key=key,
                                                   grace_seconds=grace, actor=actor_id())
    return jsonify({**subscription, "secret": secret})


@bp.get(f"{HOOKS}/<subscription_id>/deliveries")
@require("admin")
@documented("A subscription's delivery log (admin; paginated, newest first)",
            description="One item per event sent to the subscription, with its attempts (time, response code, "
                        "latency, the start of the response body). Kept 30 days.",
            query=[*PAGING, STATUS_FILTER], returns=page_of(DELIVERY))
def list_deliveries(subscription_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.list_deliveries(conn, subscription_id, **query_args()).as_dict())


@bp.get(f"{HOOKS}/<subscription_id>/deliveries/<delivery_id>")
@require("admin")
@documented("One delivery of a subscription, with its attempts (admin)", query=[], returns=DELIVERY)
def get_delivery(subscription_id: str, delivery_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.get_delivery(conn, subscription_id, delivery_id))


@bp.post(f"{HOOKS}/<subscription_id>/deliveries/<delivery_id>/redeliver")
@require("admin")
@documented("Send a delivery again now (admin)",
            description="With a fresh retry schedule and the same `webhook-id`. A delivery still pending is left "
                        "as it is. 409 `subscription_disabled` when the subscription is off.",
            query=[], returns=DELIVERY, status=202, errors=[409])
def redeliver(subscription_id: str, delivery_id: str):
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        delivery = store.redeliver(conn, subscription_id, delivery_id, actor=actor_id())
    state_for(ctx.kernel).nudge(ctx.id)
    return jsonify(delivery), 202
