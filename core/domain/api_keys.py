"""API keys for machine clients: shown once, stored as a hash, revocable.

A key is ``gpk_<random>``; its first characters are kept in clear as a prefix so
admins can tell keys apart in a list without the key being recoverable.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, select

from ..crypto.tokens import hash_token, new_token
from .errors import NotFound
from .ids import new_id
from .records import DEFAULT_PAGE, Page, keyset_page, row_dict, utcnow
from .schemas import NULLABLE_TIMESTAMP, TIMESTAMP, object_id, response_object
from .tables import api_keys
from .validation import validate

FIELDS = ["id", "name", "prefix", "role", "created_by", "created_at", "last_used_at", "revoked_at"]

API_KEY_CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "role": {"enum": ["agent", "admin"], "default": "agent"},
    },
    "required": ["name"],
    "additionalProperties": False,
    "examples": [{"name": "CRM integration", "role": "agent"}],
}

_KEY_EXAMPLE = {
    "id": "key_01m94ky3zev8qg6cs460bab3pd", "name": "CRM integration", "prefix": "gpk_Xk3v9Q",
    "role": "agent", "created_by": "usr_01m94ky3zrcez7fnxwnpff2mwj", "created_at": "2026-01-31T12:00:00.000000Z",
    "last_used_at": None, "revoked_at": None,
}

#: An API key's metadata as the API returns it (never the key itself, except once
#: in :data:`API_KEY_CREATED_SCHEMA`).
API_KEY_OUTPUT_SCHEMA = response_object({
    "id": object_id("key", _KEY_EXAMPLE["id"]),
    "name": {"type": "string"},
    "prefix": {"type": "string", "description": "The key's first characters, to tell keys apart"},
    "role": {"enum": ["agent", "admin"]},
    "created_by": {"type": ["string", "null"], "description": "Who created it: a user id or an API key id"},
    "created_at": TIMESTAMP,
    "last_used_at": {**NULLABLE_TIMESTAMP, "description": "When it last authenticated (to the minute)"},
    "revoked_at": {**NULLABLE_TIMESTAMP, "description": "When it was revoked; a revoked key no longer "
                                                        "authenticates"},
}, description="An API key (metadata)", examples=[_KEY_EXAMPLE])

#: ``POST /api-keys``: the metadata and, this once, the key.
API_KEY_CREATED_SCHEMA = response_object({
    **API_KEY_OUTPUT_SCHEMA["properties"],
    "key": {"type": "string", "description": "Send as `Authorization: Bearer …`; shown only this once, "
                                             "stored only as a hash"},
}, description="A new API key, with the key itself (only in this response)", examples=[
    {**_KEY_EXAMPLE, "key": "gpk_Xk3v9QdmNjPekQCWDyh73vEILCuwnA0JuOmn_JCowLu74k"},
])


def create(conn: Connection, data: Any, *, created_by: str | None) -> dict[str, Any]:
    validate(API_KEY_CREATE_SCHEMA, data)
    key = new_token("gpk")
    key_id = new_id("key")
    conn.execute(api_keys.insert().values(
        id=key_id, name=data["name"], key_hash=hash_token(key), prefix=key[:10],
        role=data.get("role", "agent"), created_by=created_by, created_at=utcnow(),
    ))
    return {**get(conn, key_id), "key": key}


def get(conn: Connection, key_id: str) -> dict[str, Any]:
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"API key {key_id!r} not found", field="id")
    return row_dict(row, FIELDS)


def list_keys(conn: Connection, *, limit: int = DEFAULT_PAGE, cursor: str | None = None) -> Page:
    return keyset_page(conn, select(api_keys), api_keys.c.id, limit=limit, cursor=cursor,
                       render=lambda r: row_dict(r, FIELDS))


def revoke(conn: Connection, key_id: str) -> dict[str, Any]:
    get(conn, key_id)
    conn.execute(api_keys.update().where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                 .values(revoked_at=utcnow()))
    return get(conn, key_id)


LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is kept to the minute: exact enough to tell an unused key from a
busy one, without a write on every request."""


def authenticate(conn: Connection, key: str) -> dict[str, Any] | None:
    """The key's principal, or None. Keys of other tenants are simply not here.

    The principal's ``last_used_at`` says whether :func:`touch` is due.
    """
    row = conn.execute(
        select(api_keys.c.id, api_keys.c.role, api_keys.c.revoked_at, api_keys.c.last_used_at)
        .where(api_keys.c.key_hash == hash_token(key))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return {"id": row.id, "role": row.role, "kind": "api_key", "last_used_at": row.last_used_at}


def touch_due(principal: dict[str, Any], now: datetime | None = None) -> bool:
    """Whether the key's ``last_used_at`` is older than :data:`LAST_USED_RESOLUTION`."""
    last = principal.get("last_used_at")
    if last is None:
        return True
    if last.tzinfo is None:  # SQLite drops the zone
        last = last.replace(tzinfo=timezone.utc)
    return (now or utcnow()) - last >= LAST_USED_RESOLUTION


def touch(conn: Connection, key_id: str) -> None:
    """Record that the key was used now."""
    conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=utcnow()))
