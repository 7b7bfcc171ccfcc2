"""Login and logout for browsers (cookie session + CSRF token)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ...domain import login_sessions, users
from ...domain.errors import DomainError
from ...domain.validation import validate
from ..auth import COOKIE_NAME, current_principal
from ..body import json_body
from ..tenant import tenant_ctx

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

LOGIN_SCHEMA = {
    "type": "object",
    "properties": {"email": {"type": "string", "maxLength": 254}, "password": {"type": "string", "maxLength": 1024}},
    "required": ["email", "password"],
    "additionalProperties": False,
}


@bp.post("/login")
def login():
    data = json_body()
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
    user = outcome
    with ctx.begin() as conn:
        token, csrf = login_sessions.start(conn, user["id"])
    response = jsonify({"csrf_token": csrf, "user": user})
    response.set_cookie(
        COOKIE_NAME, token, httponly=True, samesite="Lax", secure=request.is_secure,
        max_age=int(login_sessions.SESSION_LIFETIME.total_seconds()), path="/",
    )
    return response


@bp.post("/logout")
def logout():
    current_principal()  # CSRF is checked there
    token = request.cookies.get(COOKIE_NAME)
    if token:
        with tenant_ctx().begin() as conn:
            login_sessions.end(conn, token)
    response = jsonify({"ok": True})
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@bp.get("/me")
def me():
    principal = current_principal()
    return jsonify({k: v for k, v in principal.items() if k != "csrf_token"})

