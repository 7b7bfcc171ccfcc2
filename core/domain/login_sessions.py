"""Browser login sessions: a random cookie token stored hashed, with its CSRF token.

Server-side sessions (rather than a signed cookie) make logout and "disable user"
take effect immediately on every node.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from ..crypto.tokens import hash_token, new_token
from .records import utcnow
from .tables import login_sessions, users

SESSION_LIFETIME = timedelta(hours=12)


def start(conn: Connection, user_id: str) -> tuple[str, str]:
    """Returns ``(cookie_token, csrf_token)``."""
    token = new_token("gps")
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    conn.execute(login_sessions.insert().values(
        token_hash=hash_token(token), user_id=user_id, csrf_token=csrf,
        created_at=now, expires_at=now + SESSION_LIFETIME,
    ))
    return token, csrf


def lookup(conn: Connection, token: str) -> dict[str, Any] | None:
    """The user and CSRF token behind a cookie, or None if unknown or expired."""
    row = conn.execute(
        select(users.c.id, users.c.email, users.c.role, users.c.disabled,
               login_sessions.c.csrf_token, login_sessions.c.expires_at)
        .join(users, users.c.id == login_sessions.c.user_id)
        .where(login_sessions.c.token_hash == hash_token(token))
    ).first()
    if row is None or row.disabled:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=utcnow().tzinfo)
    if expires <= utcnow():
        return None
    return {"id": row.id, "email": row.email, "role": row.role, "csrf_token": row.csrf_token}


def end(conn: Connection, token: str) -> None:
    conn.execute(login_sessions.delete().where(login_sessions.c.token_hash == hash_token(token)))


def end_all(conn: Connection, user_id: str) -> int:
    """End every login session of a user ("sign out everywhere"); how many ended."""
    return conn.execute(login_sessions.delete().where(login_sessions.c.user_id == user_id)).rowcount
