"""Users (agents and admins), passwords and lockout after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ..crypto.passwords import hash_password, needs_rehash, verify_password
from .errors import Conflict, DomainError, Invalid, Locked, NotFound, Unauthorized
from .ids import new_id
from .records import DEFAULT_PAGE, Page, keyset_page, row_dict, utcnow
from .schemas import TIMESTAMP, object_id, response_object
from .tables import users
from .validation import validate

ROLES = ("agent", "admin")
#: What an agent says about themselves (``PATCH /me``); never inferred from sockets.
AVAILABILITY = ("online", "busy", "offline")
DEFAULT_CAPACITY = 3
PUBLIC_FIELDS = ["id", "email", "name", "role", "disabled", "availability", "capacity", "created_at", "updated_at"]

_CAPACITY = {"type": "integer", "minimum": 1, "maximum": 50,
             "description": "How many active sessions the agent may hold at once (default 3); taking or "
                            "receiving one more is a 409 `at_capacity`"}

_PASSWORD = {"type": "string", "minLength": 10, "maxLength": 1024}

USER_CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254, "pattern": "@"},
        "name": {"type": "string", "maxLength": 200},
        "role": {"enum": list(ROLES)},
        "password": _PASSWORD,
        "disabled": {"type": "boolean"},
    },
    "required": ["email", "role", "password"],
    "additionalProperties": False,
}

#: ``PUT /users/{id}``: the whole user as created (capacity is kept unless PATCHed).
USER_REPLACE_SCHEMA = USER_CREATE_SCHEMA

#: ``POST /users`` takes the agent's capacity too (default 3).
USER_CREATE_SCHEMA = {**USER_CREATE_SCHEMA,
                      "properties": {**USER_CREATE_SCHEMA["properties"], "capacity": _CAPACITY}}

USER_PATCH_SCHEMA = {
    "type": "object",
    "properties": {k: v for k, v in USER_CREATE_SCHEMA["properties"].items() if k != "email"},
    "additionalProperties": False,
}

#: A user as the API returns it (never the password or its hash).
USER_OUTPUT_SCHEMA = response_object({
    "id": object_id("usr", "usr_01m94ky3z46vzem4zrnwha42xg"),
    "email": {"type": "string", "format": "email", "description": "Lower case; fixed once the user exists"},
    "name": {"type": "string"},
    "role": {"enum": list(ROLES)},
    "disabled": {"type": "boolean", "description": "A disabled user cannot log in"},
    "availability": {"enum": list(AVAILABILITY), "description": "Set by the agent (`PATCH /api/v1/me`); "
                                                                "`offline` until then"},
    "capacity": {"type": "integer", "description": "Active sessions the agent may hold at once"},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}, description="A user (agent or admin)", examples=[{
    "id": "usr_01m94ky3z46vzem4zrnwha42xg", "email": "grace@example.com", "name": "Grace Hopper",
    "role": "agent", "disabled": False, "availability": "offline", "capacity": 3,
    "created_at": "2026-01-31T12:00:00.000000Z", "updated_at": "2026-01-31T12:00:00.000000Z",
}])

# A fixed dummy hash so that "no such user" costs as much as "wrong password"
# and login timing does not reveal which emails exist.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("guidepath-timing-equaliser")
    return _DUMMY_HASH


def public(row: Any) -> dict[str, Any]:
    return row_dict(row, PUBLIC_FIELDS)


def create(conn: Connection, data: Any) -> dict[str, Any]:
    validate(USER_CREATE_SCHEMA, data)
    email = data["email"].strip().lower()
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise Conflict(f"a user with email {email!r} already exists", field="email")
    now = utcnow()
    user_id = new_id("usr")
    conn.execute(users.insert().values(
        id=user_id, email=email, name=data.get("name", ""), role=data["role"],
        password_hash=hash_password(data["password"]), disabled=data.get("disabled", False),
        failed_logins=0, created_at=now, updated_at=now,
        availability="offline", capacity=data.get("capacity", DEFAULT_CAPACITY),
    ))
    return get(conn, user_id)


def get(conn: Connection, user_id: str) -> dict[str, Any]:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"user {user_id!r} not found", field="id")
    return public(row)


def list_users(conn: Connection, *, limit: int = DEFAULT_PAGE, cursor: str | None = None) -> Page:
    return keyset_page(conn, select(users), users.c.id, limit=limit, cursor=cursor, render=public)


def update(conn: Connection, user_id: str, data: Any, *, full: bool = False) -> dict[str, Any]:
    schema = USER_REPLACE_SCHEMA if full else USER_PATCH_SCHEMA
    validate(schema, data)
    current = get(conn, user_id)
    values: dict[str, Any] = {}
    for key in ("name", "role", "disabled", "capacity"):
        if key in data:
            values[key] = data[key]
    if full and data["email"].strip().lower() != current["email"]:
        raise Invalid("email cannot be changed; create a new user instead", field="email")
    if "password" in data:
        values["password_hash"] = hash_password(data["password"])
        values["failed_logins"] = 0
        values["locked_until"] = None
    if current["role"] == "admin" and (values.get("role") == "agent" or values.get("disabled")):
        _refuse_last_admin(conn, user_id)
    conn.execute(users.update().where(users.c.id == user_id).values(updated_at=utcnow(), **values))
    return get(conn, user_id)


def delete(conn: Connection, user_id: str) -> None:
    if get(conn, user_id)["role"] == "admin":
        _refuse_last_admin(conn, user_id)
    conn.execute(users.delete().where(users.c.id == user_id))


def _refuse_last_admin(conn: Connection, user_id: str) -> None:
    admins = conn.execute(
        select(func.count()).select_from(users).where(
            users.c.role == "admin", users.c.disabled.is_(False), users.c.id != user_id
        )
    ).scalar_one()
    if admins == 0:
        raise Conflict("this is the tenant's last active admin; promote another user first", field="role")


def check_login(
    conn: Connection, email: Any, password: Any, *, max_failures: int = 5, lockout_seconds: int = 900
) -> dict[str, Any] | DomainError:
    """Check a login; lock the account for a while after ``max_failures`` misses.

    Returns the user, or the error to raise *after* the caller commits: the
    failure counter written here must survive the failed login. The error never
    says whether the email exists.
    """
    if not isinstance(email, str) or not isinstance(password, str):
        raise Invalid("email and password must be strings", field="email" if not isinstance(email, str) else "password")
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
    now = utcnow()
    if row is None:
        verify_password(password, _dummy_hash())
        return Unauthorized("wrong email or password")
    locked_until = row.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        return Locked(
            "too many failed logins; try again later or ask an admin to reset your password"
        )
    if not verify_password(password, row.password_hash) or row.disabled:
        failures = row.failed_logins + 1
        values: dict[str, Any] = {"failed_logins": failures}
        if failures >= max_failures:
            values = {"failed_logins": 0, "locked_until": now + timedelta(seconds=lockout_seconds)}
        conn.execute(users.update().where(users.c.id == row.id).values(**values))
        return Unauthorized("wrong email or password")
    values = {"failed_logins": 0, "locked_until": None}
    if needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    conn.execute(users.update().where(users.c.id == row.id).values(**values))
    return public(row)


# -- the signed-in agent (``/api/v1/me``) -------------------------------------------------

ME_PATCH_SCHEMA = {
    "type": "object",
    "properties": {
        "availability": {"enum": list(AVAILABILITY),
                         "description": "`online`: takes customers (counts for the queue estimate); `busy`: "
                                        "signed in but not taking new ones; `offline`"},
        "name": {"type": "string", "maxLength": 200},
    },
    "additionalProperties": False,
    "examples": [{"availability": "online"}],
}

#: ``GET /api/v1/me``: the user and how many sessions they hold.
ME_OUTPUT_SCHEMA = response_object({
    **{k: v for k, v in USER_OUTPUT_SCHEMA["properties"].items()},
    "active_sessions": {"type": "integer", "minimum": 0,
                        "description": "Sessions in state `active` assigned to this user"},
}, description="The signed-in user", examples=[{**USER_OUTPUT_SCHEMA["examples"][0], "active_sessions": 1}])


def active_sessions(conn: Connection, user_id: str) -> int:
    from .tables import support_sessions

    return conn.execute(select(func.count()).select_from(support_sessions).where(
        support_sessions.c.agent_id == user_id, support_sessions.c.state == "active")).scalar_one()


def me(conn: Connection, user_id: str) -> dict[str, Any]:
    return {**get(conn, user_id), "active_sessions": active_sessions(conn, user_id)}


def update_me(conn: Connection, user_id: str, data: Any, emit: Any) -> dict[str, Any]:
    """An agent changes their own availability or name; a change of availability
    is announced (``agent.availability_changed``) in the same transaction."""
    validate(ME_PATCH_SCHEMA, data)
    current = get(conn, user_id)
    values = {k: data[k] for k in ("availability", "name") if k in data}
    if values:
        conn.execute(users.update().where(users.c.id == user_id).values(updated_at=utcnow(), **values))
    if "availability" in data and data["availability"] != current["availability"]:
        emit(conn, "agent.availability_changed", {"user_id": user_id, "availability": data["availability"]})
    return me(conn, user_id)
