"""Subscriptions and deliveries in the tenant's database.

Plain functions over a tenant connection (the caller owns the transaction), like
``guidepath.core.domain``. Everything an admin sends is checked before anything is
written, so a refused request changes nothing.

How several workers share deliveries: a worker *claims* a due delivery with one
conditional ``UPDATE … SET status='delivering', lease_token=…, lease_until=…
WHERE id=… AND (status='pending' OR (status='delivering' AND lease_until < now))``;
only the worker whose update changed the row sends it. On PostgreSQL the
candidates are read ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick
different rows instead of queueing on the same ones; on SQLite (embedded, one
worker) the database's single writer serialises claims. A worker that dies
leaves its leases to expire, and the rows are claimed again: at least once.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from guidepath.core.plugin_api import (
    DEFAULT_PAGE,
    Conflict,
    NotFound,
    Page,
    audit,
    decode_cursor,
    encode_cursor,
    iso,
    keyset_page,
    new_id,
    utcnow,
    validate,
)

from . import patterns, signing
from .tables import webhook_attempts, webhook_deliveries, webhook_subscriptions

S, D, A = webhook_subscriptions, webhook_deliveries, webhook_attempts
SUBSCRIPTION_ID = re.compile(r"whk_[0-9a-z]{26}")
DELIVERY_ID = re.compile(r"whd_[0-9a-z]{26}")
STATUSES = ("pending", "delivering", "succeeded", "failed", "cancelled")
MAX_ATTEMPTS_SHOWN = 20

_PATTERNS = {"type": "array", "minItems": 1, "maxItems": patterns.MAX_PATTERNS,
             "items": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": patterns.PATTERN_RE},
             "description": "Event types to receive: `*`, `stream.*` (such as `session.*`, `run.*`) or exact "
                            "names from GET /api/v1/events/types"}
#: The shape :func:`.safety.parse` accepts (with ``GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE`` off):
#: https, a host (no user name or password), a port up to 9999 or none, then a path
#: or query of printable ASCII without ``#``.
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]://[A-Za-z0-9][A-Za-z0-9.-]{0,252}(:[0-9]{1,4})?([/?][!-\"$-~]*)?$"
CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": URL_PATTERN,
                "description": "The https:// endpoint: a host name or address, an optional port, path and query; "
                               "no user name, password or #fragment. Where it resolves is checked too (422 "
                               "`url_refused`)",
                "examples": ["https://hooks.example.com/guidepath"]},
        "event_types": _PATTERNS,
        "description": {"type": "string", "maxLength": 500},
    },
    "required": ["url", "event_types"],
    "additionalProperties": False,
}
PATCH_SCHEMA = {
    "type": "object",
    "properties": {**CREATE_SCHEMA["properties"], "enabled": {"type": "boolean"}},
    "additionalProperties": False,
}


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# -- subscriptions --------------------------------------------------------------------


def describe(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "url": row.url, "event_types": list(row.event_types), "description": row.description,
        "enabled": bool(row.enabled), "disabled_reason": row.disabled_reason,
        "failing_since": iso(row.failing_since),
        "previous_secret_expires_at": iso(row.previous_secret_expires_at)
        if row.previous_secret is not None else None,
        "created_by": row.created_by, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
    }


def _row(conn: Connection, subscription_id: str, *, lock: bool = False) -> Any:
    row = None
    if isinstance(subscription_id, str) and SUBSCRIPTION_ID.fullmatch(subscription_id):
        query = select(S).where(S.c.id == subscription_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"there is no webhook subscription {subscription_id!r}", field="id")
    return row


def list_subscriptions(conn: Connection, *, limit: int = DEFAULT_PAGE, cursor: str | None = None) -> Page:
    return keyset_page(conn, select(S), S.c.id, limit=limit, cursor=cursor, render=describe)


def get(conn: Connection, subscription_id: str) -> dict[str, Any]:
    return describe(_row(conn, subscription_id))


def _shape_without_url_pattern(schema: dict[str, Any]) -> dict[str, Any]:
    """The documented schema minus the URL's pattern: :func:`.safety.parse` checks the
    URL with a precise message, and allows ``http://`` when the operator permits
    private endpoints (``GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE=1``), which the document's
    https-only pattern does not."""
    url = {k: v for k, v in schema["properties"]["url"].items() if k != "pattern"}
    return {**schema, "properties": {**schema["properties"], "url": url}}


def check_body(data: Any, schema: dict[str, Any], known_types: Iterable[str]) -> dict[str, Any]:
    """The body's shape and its event type patterns (422 naming the field); the URL
    itself is checked by the caller, outside the transaction (it resolves names)."""
    validate(_shape_without_url_pattern(schema), data)
    values = dict(data)
    if "event_types" in values:
        values["event_types"] = patterns.check(values["event_types"], known_types)
    return values


def create(conn: Connection, values: dict[str, Any], *, tenant_id: str, data_key: bytes,
           actor: str | None) -> tuple[dict[str, Any], str]:
    now = utcnow()
    subscription_id = new_id("whk")
    secret = signing.new_secret()
    conn.execute(S.insert().values(
        id=subscription_id, url=values["url"], event_types=values["event_types"],
        description=values.get("description", ""), enabled=True, disabled_reason=None,
        secret=signing.seal_secret(data_key, tenant_id, subscription_id, secret),
        created_by=actor, created_at=now, updated_at=now))
    audit.record(conn, actor, "webhook.created", subscription_id,
                 {"url": values["url"], "event_types": values["event_types"]})
    return get(conn, subscription_id), secret


def patch(conn: Connection, subscription_id: str, values: dict[str, Any], *, actor: str | None) -> dict[str, Any]:
    row = _row(conn, subscription_id, lock=True)
    changes: dict[str, Any] = {k: values[k] for k in ("url", "event_types", "description") if k in values}
    if "enabled" in values and bool(values["enabled"]) != bool(row.enabled):
        changes["enabled"] = bool(values["enabled"])
        changes["disabled_reason"] = None if values["enabled"] else "admin"
        changes["failing_since"] = None
    if changes:
        conn.execute(update(S).where(S.c.id == row.id).values(**changes, updated_at=utcnow()))
        if changes.get("enabled") is False:
            cancel_pending(conn, row.id, "the subscription was disabled")
        audit.record(conn, actor, "webhook.changed", row.id,
                     {k: v for k, v in changes.items() if k in ("url", "event_types", "enabled")})
    return get(conn, row.id)


def delete_subscription(conn: Connection, subscription_id: str, *, actor: str | None) -> None:
    row = _row(conn, subscription_id, lock=True)
    delivery_ids = select(D.c.id).where(D.c.subscription_id == row.id)
    conn.execute(delete(A).where(A.c.delivery_id.in_(delivery_ids)))
    conn.execute(delete(D).where(D.c.subscription_id == row.id))
    conn.execute(delete(S).where(S.c.id == row.id))
    audit.record(conn, actor, "webhook.deleted", row.id, {"url": row.url})


def rotate_secret(conn: Connection, subscription_id: str, *, tenant_id: str, data_key: bytes,
                  grace_seconds: float, actor: str | None) -> tuple[dict[str, Any], str]:
    row = _row(conn, subscription_id, lock=True)
    secret = signing.new_secret()
    now = utcnow()
    conn.execute(update(S).where(S.c.id == row.id).values(
        secret=signing.seal_secret(data_key, tenant_id, row.id, secret), previous_secret=row.secret,
        previous_secret_expires_at=now + timedelta(seconds=grace_seconds), updated_at=now))
    audit.record(conn, actor, "webhook.secret_rotated", row.id, {"previous_valid_for_seconds": int(grace_seconds)})
    return get(conn, row.id), secret


def signing_secrets(row: Any, *, tenant_id: str, data_key: bytes, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous
    one while its rotation grace period lasts."""
    out = [signing.open_secret(data_key, tenant_id, row.id, row.secret)]
    expires = aware(row.previous_secret_expires_at)
    if row.previous_secret is not None and expires is not None and expires > now:
        out.append(signing.open_secret(data_key, tenant_id, row.id, row.previous_secret))
    return out


def disable(conn: Connection, subscription_id: str, reason: str) -> bool:
    """Switch a subscription off (the worker: 410 or failing for days); True if it was on."""
    changed = conn.execute(update(S).where(S.c.id == subscription_id, S.c.enabled.is_(True))
                           .values(enabled=False, disabled_reason=reason, updated_at=utcnow())).rowcount
    if changed:
        cancel_pending(conn, subscription_id, f"the subscription was disabled ({reason})")
    return bool(changed)


# -- recording events ------------------------------------------------------------------


def matching_subscriptions(conn: Connection, event_type: str) -> list[str]:
    rows = conn.execute(select(S.c.id, S.c.event_types).where(S.c.enabled.is_(True))).all()
    return [row.id for row in rows if patterns.matches_any(row.event_types, event_type)]


def record_event(conn: Connection, event_id: str, event_type: str, payload: bytes,
                 subscription_ids: list[str]) -> int:
    """A pending delivery per subscription; an event seen again adds nothing."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    added = 0
    for subscription_id in subscription_ids:
        statement = insert(D).values(
            id=new_id("whd"), subscription_id=subscription_id, event_id=event_id, event_type=event_type,
            payload=payload.decode("utf-8"), status="pending", attempt=0, schedule_pos=0, due_at=now,
            created_at=now, updated_at=now,
        ).on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        added += conn.execute(statement).rowcount or 0
    return added


# -- the worker's side -----------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(and_(D.c.status == "pending", D.c.due_at <= now),
               and_(D.c.status == "delivering", D.c.lease_until < now))


def due(conn: Connection, now: datetime, limit: int, *, skip: Iterable[str] = ()) -> list[Any]:
    """Due deliveries of enabled subscriptions, the longest due first."""
    query = (select(D.c.id, D.c.subscription_id).join(S, S.c.id == D.c.subscription_id)
             .where(_claimable(now), S.c.enabled.is_(True)).order_by(D.c.due_at, D.c.id).limit(limit))
    skip = list(skip)
    if skip:
        query = query.where(D.c.subscription_id.not_in(skip))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=D, skip_locked=True)
    return conn.execute(query).all()


def claim(conn: Connection, delivery_id: str, now: datetime, lease_seconds: float) -> str | None:
    token = secrets.token_hex(16)
    changed = conn.execute(update(D).where(D.c.id == delivery_id, _claimable(now)).values(
        status="delivering", lease_token=token, lease_until=now + timedelta(seconds=lease_seconds))).rowcount
    return token if changed else None


def claimed(conn: Connection, delivery_id: str) -> tuple[Any, Any]:
    delivery = conn.execute(select(D).where(D.c.id == delivery_id)).first()
    subscription = conn.execute(select(S).where(S.c.id == delivery.subscription_id)).first() if delivery else None
    return delivery, subscription


def next_due(conn: Connection) -> datetime | None:
    """When the next pending delivery (or an expired lease) comes due."""
    pending = conn.execute(select(func.min(D.c.due_at)).join(S, S.c.id == D.c.subscription_id)
                           .where(D.c.status == "pending", S.c.enabled.is_(True))).scalar()
    leased = conn.execute(select(func.min(D.c.lease_until)).where(D.c.status == "delivering")).scalar()
    times = [aware(t) for t in (pending, leased) if t is not None]
    return min(times) if times else None


def record_attempt(conn: Connection, delivery: Any, token: str, *, at: datetime, status_code: int | None,
                   latency_ms: int | None, body: str | None, error: str | None, new_status: str,
                   due_at: datetime | None, schedule_pos: int) -> bool:
    """Log one attempt and move the delivery on; False if our lease was taken over."""
    attempt = delivery.attempt + 1
    changed = conn.execute(update(D).where(D.c.id == delivery.id, D.c.lease_token == token).values(
        status=new_status, attempt=attempt, schedule_pos=schedule_pos, due_at=due_at, lease_token=None,
        lease_until=None, last_status_code=status_code, last_error=error, last_attempt_at=at,
        updated_at=utcnow())).rowcount
    conn.execute(A.insert().values(id=new_id("wha"), delivery_id=delivery.id, attempt=attempt, at=at,
                                   status_code=status_code, latency_ms=latency_ms, response_body=body,
                                   error=error))
    return bool(changed)


def mark_health(conn: Connection, subscription_id: str, *, ok: bool, now: datetime) -> datetime | None:
    """Track how long the subscription has been failing; returns since when (None: healthy)."""
    if ok:
        conn.execute(update(S).where(S.c.id == subscription_id, S.c.failing_since.is_not(None))
                     .values(failing_since=None))
        return None
    conn.execute(update(S).where(S.c.id == subscription_id, S.c.failing_since.is_(None)).values(failing_since=now))
    return aware(conn.execute(select(S.c.failing_since).where(S.c.id == subscription_id)).scalar())


def cancel_pending(conn: Connection, subscription_id: str, why: str) -> None:
    conn.execute(update(D).where(D.c.subscription_id == subscription_id, D.c.status.in_(("pending", "delivering")))
                 .values(status="cancelled", due_at=None, lease_token=None, lease_until=None,
                         last_error=why[:300], updated_at=utcnow()))


def prune(conn: Connection, before: datetime) -> int:
    old = select(D.c.id).where(D.c.created_at < before, D.c.status.not_in(("pending", "delivering")))
    conn.execute(delete(A).where(A.c.delivery_id.in_(old)))
    return conn.execute(delete(D).where(D.c.created_at < before,
                                        D.c.status.not_in(("pending", "delivering")))).rowcount or 0


# -- the delivery log ---------------------------------------------------------------------


def describe_delivery(row: Any, attempts: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id, "subscription_id": row.subscription_id, "event_id": row.event_id,
        "event_type": row.event_type, "status": row.status, "attempt_count": row.attempt,
        "next_attempt_at": iso(row.due_at) if row.status == "pending" else None,
        "last_attempt_at": iso(row.last_attempt_at), "last_status_code": row.last_status_code,
        "last_error": row.last_error, "created_at": iso(row.created_at),
        "attempts": [{"attempt": a.attempt, "at": iso(a.at), "status_code": a.status_code,
                      "latency_ms": a.latency_ms, "response_body": a.response_body, "error": a.error}
                     for a in attempts],
    }


def list_deliveries(conn: Connection, subscription_id: str, *, limit: int = DEFAULT_PAGE,
                    cursor: str | None = None, status: str | None = None) -> Page:
    """Newest first; each with its latest attempts (newest first)."""
    row = _row(conn, subscription_id)
    query = select(D).where(D.c.subscription_id == row.id).order_by(D.c.id.desc()).limit(limit + 1)
    if cursor:
        query = query.where(D.c.id < decode_cursor(cursor, DELIVERY_ID))
    if status:
        query = query.where(D.c.status == status)
    rows = conn.execute(query).all()[: limit + 1]
    shown = rows[:limit]
    attempts: dict[str, list[Any]] = {r.id: [] for r in shown}
    if shown:
        for a in conn.execute(select(A).where(A.c.delivery_id.in_(list(attempts)))
                              .order_by(A.c.delivery_id, A.c.attempt.desc())).all():
            if len(attempts[a.delivery_id]) < MAX_ATTEMPTS_SHOWN:
                attempts[a.delivery_id].append(a)
    items = [describe_delivery(r, attempts[r.id]) for r in shown]
    return Page(items, encode_cursor(shown[-1].id) if len(rows) > limit else None)


def get_delivery(conn: Connection, subscription_id: str, delivery_id: str) -> dict[str, Any]:
    row = _delivery_row(conn, subscription_id, delivery_id)
    attempts = conn.execute(select(A).where(A.c.delivery_id == row.id).order_by(A.c.attempt.desc())
                            .limit(MAX_ATTEMPTS_SHOWN)).all()
    return describe_delivery(row, attempts)


def _delivery_row(conn: Connection, subscription_id: str, delivery_id: str) -> Any:
    _row(conn, subscription_id)
    row = None
    if isinstance(delivery_id, str) and DELIVERY_ID.fullmatch(delivery_id):
        row = conn.execute(select(D).where(D.c.id == delivery_id, D.c.subscription_id == subscription_id)).first()
    if row is None:
        raise NotFound(f"subscription {subscription_id} has no delivery {delivery_id!r}", field="delivery_id")
    return row


def redeliver(conn: Connection, subscription_id: str, delivery_id: str, *, actor: str | None) -> dict[str, Any]:
    """Send a delivery again now, with a fresh retry schedule (the same webhook-id)."""
    subscription = _row(conn, subscription_id, lock=True)
    if not subscription.enabled:
        raise Conflict("the subscription is disabled: enable it before redelivering",
                       field="enabled", code="subscription_disabled")
    row = _delivery_row(conn, subscription_id, delivery_id)
    if row.status not in ("pending", "delivering"):
        now = utcnow()
        conn.execute(update(D).where(D.c.id == row.id).values(
            status="pending", schedule_pos=0, due_at=now, lease_token=None, lease_until=None, updated_at=now))
        audit.record(conn, actor, "webhook.redelivered", row.id, {"subscription_id": subscription_id,
                                                                   "event_id": row.event_id})
    return get_delivery(conn, subscription_id, row.id)


def payload_of(row: Any) -> bytes:
    return row.payload.encode("utf-8")


def envelope(row: Any) -> dict[str, Any]:
    return json.loads(row.payload)


__all__ = ["CREATE_SCHEMA", "PATCH_SCHEMA", "STATUSES"]
