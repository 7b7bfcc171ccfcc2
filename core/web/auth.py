"""Who is calling: a browser with a session cookie, a machine with an API key, or a
customer with a customer token.

Cookie-authenticated requests that change state must send the session's CSRF
token in ``X-CSRF-Token`` (bearer requests are immune to CSRF: browsers never add
the header on their own).

A **customer token** (``gpc_…``, from redeeming an invite code) is a bearer token
too, but it is not an account: its principal is ``{"kind": "customer", "role":
"customer", "session_id", "customer_id"}`` and it is refused (403) everywhere except
on views decorated with ``require("customer_or_agent")``, which must then keep it
to its own session (:func:`customer_session_guard`). The refusal lives in
:func:`current_principal`, so plugins' views that call it are closed to customers
without knowing they exist.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import g, request
from sqlalchemy import Connection, Engine

from ..crypto.tokens import constant_time_equals, hash_token
from ..domain import api_keys, invites, login_sessions
from ..domain.errors import DomainError, Forbidden, Unauthorized
from ..tenancy.context import TenantContext
from .tenant import tenant_ctx

COOKIE_NAME = "gp_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class CsrfFailed(DomainError):
    status = 403
    code = "csrf_failed"


CUSTOMER_ALLOWED = "guidepath_customer_allowed"


def current_principal() -> dict[str, Any]:
    """The authenticated caller, or raises 401 (403 for a customer token outside
    the few views that take one)."""
    principal = _authenticate()
    if principal["kind"] == "customer" and not g.get(CUSTOMER_ALLOWED):
        raise Forbidden("a customer token opens only its own session, its chat and its queue position")
    return principal


def _authenticate() -> dict[str, Any]:
    if "principal" in g:
        return g.principal
    ctx = tenant_ctx()
    header = request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <api key>'")
        token = token.strip()
        if token.startswith(invites.TOKEN_PREFIX + "_"):
            with _read_connection(ctx.engine) as conn:
                principal = invites.lookup_token(conn, token)
            if principal is None:
                raise Unauthorized("invalid or expired customer token")
        else:
            principal = _api_key_principal(ctx, token)
        if principal is None:
            raise Unauthorized("invalid or revoked API key")
    else:
        cookie = request.cookies.get(COOKIE_NAME)
        if cookie:
            with _read_connection(ctx.engine) as conn:
                found = login_sessions.lookup(conn, cookie)
            if found is not None:
                principal = {**found, "kind": "user"}
                if request.method not in SAFE_METHODS:
                    sent = request.headers.get("X-CSRF-Token", "")
                    if not sent or not constant_time_equals(sent, found["csrf_token"]):
                        raise CsrfFailed("missing or wrong X-CSRF-Token header for a cookie session")
    if principal is None:
        raise Unauthorized("log in or send an API key")
    g.principal = principal
    return principal


def _api_key_principal(ctx: TenantContext, key: str) -> dict[str, Any] | None:
    """The principal behind an API key, reused for a moment per node.

    Machine clients send the same key on every request; checking it against the
    database each time was a third of a request's cost. The answer (including
    "no such key", so a flood of wrong keys does not reach the database either)
    is kept ``credential_cache_seconds`` under the key's hash, never the key.
    Revoking forgets the tenant's entries on this node at once
    (:func:`forget_api_keys`); other nodes stop accepting it within the TTL.
    """
    cache = ctx.kernel.api_key_principals
    cache_key = (ctx.id, hash_token(key))

    def load() -> dict[str, Any] | None:
        with _read_connection(ctx.engine) as conn:
            principal = api_keys.authenticate(conn, key)
        if principal is not None and api_keys.touch_due(principal):
            with ctx.engine.begin() as conn:
                api_keys.touch(conn, principal["id"])
        if principal is not None:
            del principal["last_used_at"]
        return principal

    found = cache.get_or_load(cache_key, load)
    return dict(found) if found is not None else None  # callers may annotate their copy


def forget_api_keys(ctx: TenantContext) -> None:
    """Forget this node's cached API key checks of the tenant (after a revoke)."""
    ctx.kernel.api_key_principals.discard_where(lambda key: key[0] == ctx.id)


def _read_connection(engine: Engine) -> Connection:
    """A connection for the one-statement credential lookup of every request.

    On PostgreSQL it runs in autocommit: a single SELECT needs no transaction, and
    psycopg would otherwise spend a round trip on ``BEGIN`` and another on
    ``ROLLBACK`` around it — two of the three round trips of the lookup. (Not on
    SQLite: its ``BEGIN IMMEDIATE`` listener would leave a transaction open.)
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def actor_id() -> str:
    p = current_principal()
    return f"{p['kind']}:{p['id']}"


def require(role: str = "agent") -> Callable:
    """View decorator: authenticated, and an admin where ``role == 'admin'``.

    ``"customer_or_agent"`` also lets a customer token through; the view must keep
    it to its own session (:func:`customer_session_guard`). Every other role refuses
    customer tokens with a 403.
    """
    if role not in ("agent", "admin", "customer_or_agent"):
        raise ValueError(f"unknown role {role!r}: agent, admin or customer_or_agent")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if role == "customer_or_agent":
                g.setdefault(CUSTOMER_ALLOWED, True)
            principal = current_principal()
            if role == "admin" and principal["role"] != "admin":
                raise Forbidden("this needs an admin")
            return view(*args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]  # read by openapi.py
        return wrapper

    return decorator


def is_customer(principal: dict[str, Any]) -> bool:
    return principal.get("kind") == "customer"


def customer_session_guard(session_id: str) -> dict[str, Any]:
    """The principal; a customer token of another session is refused (403)."""
    principal = current_principal()
    if is_customer(principal) and principal["session_id"] != session_id:
        raise Forbidden("this customer token belongs to another session")
    return principal
