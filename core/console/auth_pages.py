"""``/``, ``/signin``: where people start.

``/`` sends a signed-in user to the queue and anyone else to the sign-in page.
The sign-in form posts to ``POST /api/v1/auth/login`` from ``signin.js`` (the API
already handles wrong passwords, lockout and the session cookie); signing out is
``POST /api/v1/auth/logout`` from the menu, optionally everywhere.
"""

from __future__ import annotations

from flask import redirect, request, url_for

from ..web.contract import Param, page, query_args
from .access import safe_next, signed_in_user
from .blueprint import bp
from .rendering import render_page


@bp.get("/")
@page("The start page: the queue when signed in, the sign-in page otherwise")
def home():
    if signed_in_user() is None:
        return redirect(url_for("console.signin_page"))
    return redirect(url_for("console.queue_page"))


@bp.get("/signin")
@page("Sign in", query=[Param("next", {"type": "string", "maxLength": 2000}, "Where to go after signing in")])
def signin_page():
    target = safe_next(query_args()["next"])
    if signed_in_user() is not None:
        return redirect(target)
    return render_page("console/signin.html", title="Sign in", page_name="signin", principal=None,
                       page_context={"next": target}, reason=request.args.get("reason", ""))
