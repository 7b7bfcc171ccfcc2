"""Login and logout for browsers (cookie session + CSRF token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ...domain import login_sessions, users
from ...domain.errors import DomainError
from ...domain.validation import validate
from ..auth import COOKIE_NAME, current_principal
from ..body import json_body
from ..contract import documented
from ..tenant import tenant_ctx

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

LOGIN_SCHEMA = {
    "type": "object",
    "properties": {"email": {"type": "string", "maxLength": 254}, "password": {"type": "string", "maxLength": 1024}},
    "required": ["email", "password"],
    "additionalProperties": False,
    "examples": [{"email": "grace@example.com", "password": "correct horse battery staple"}],
}

LOGIN_RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["csrf_token", "user"],
    "properties": {
        "csrf_token": {"type": "string", "description": "Send as `X-CSRF-Token` on every cookie-authenticated "
                                                        "request that changes state"},
        "user": users.USER_OUTPUT_SCHEMA,
    },
}

#: ``GET /auth/me``: who the request authenticated as.
PRINCIPAL_SCHEMA = {
    "type": "object",
    "required": ["id", "role", "kind"],
    "properties": {
        "id": {"type": "string", "description": "The user's id, or the API key's"},
        "role": {"enum": list(users.ROLES)},
        "kind": {"enum": ["user", "api_key"], "description": "A logged-in user (cookie) or an API key (bearer)"},
        "email": {"type": "string", "description": "Users only"},
    },
    "examples": [{"id": "usr_01m94ky3z46vzem4zrnwha42xg", "role": "agent", "kind": "user",
                  "email": "grace@example.com"}],
}


def start_login_session(data: Any) -> tuple[dict[str, Any], str, str]:
    """Check an email and password (counting failures, honouring a lockout) and open a
    login session: ``(user, cookie token, CSRF token)``. The console's embedded view
    signs in through this too, with a cookie of its own kind."""
    validate(LOGIN_SCHEMA, data)
    ctx = tenant_ctx()
    config = current_app.extensions["guidepath"].config
    with ctx.begin() as conn:
        outcome = users.check_login(conn, data["email"], data["password"],
                                    max_failures=config.login_max_failures,
                                    lockout_seconds=config.login_lockout_seconds)
    # Raised only now, after the failure counter has been committed.
    if isinstance(outcome, DomainError):
        raise outcome
    with ctx.begin() as conn:
        token, csrf = login_sessions.start(conn, outcome["id"])
    return outcome, token, csrf


@bp.post("/login")
@documented("Log in; sets the session cookie and returns the CSRF token",
            description="Wrong email or password is a 401 (never saying which). After repeated failures the "
                        "account is locked for a while: 429 until then, even with the right password.",
            query=[], body=LOGIN_SCHEMA, returns=LOGIN_RESPONSE_SCHEMA, errors=[401, 429], security=[])
def login():
    user, token, csrf = start_login_session(json_body())
    response = jsonify({"csrf_token": csrf, "user": user})
    response.set_cookie(
        COOKIE_NAME, token, httponly=True, samesite="Lax", secure=request.is_secure,
        max_age=int(login_sessions.SESSION_LIFETIME.total_seconds()), path="/",
    )
    return response


LOGOUT_SCHEMA = {
    "type": "object",
    "properties": {"everywhere": {"type": "boolean", "default": False,
                                  "description": "End every session of this user, on every browser and device"}},
    "additionalProperties": False,
}


@bp.post("/logout")
@documented("Log out: ends the cookie session (send X-CSRF-Token)",
            description="The body is optional; `{\"everywhere\": true}` signs the user out of every browser.",
            query=[], body=LOGOUT_SCHEMA, body_required=False, status=204, errors=[401, 403])
def logout():
    principal = current_principal()  # CSRF is checked there
    data = json_body(allow_empty=True)
    validate(LOGOUT_SCHEMA, data)
    token = request.cookies.get(COOKIE_NAME)
    with tenant_ctx().begin() as conn:
        if data.get("everywhere") and principal["kind"] == "user":
            login_sessions.end_all(conn, principal["id"])
        elif token:
            login_sessions.end(conn, token)
    response = current_app.response_class(status=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@bp.get("/me")
@documented("The authenticated caller", query=[], returns=PRINCIPAL_SCHEMA, errors=[401])
def me():
    principal = current_principal()
    return jsonify({k: v for k, v in principal.items() if k != "csrf_token"})
