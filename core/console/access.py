"""Who may see a console page: signed-in people (cookie session), admins for /admin.

Pages are for browsers. Someone not signed in is sent to the sign-in page (with
``next`` set to where they were going); a machine's API key gets a 403 page; an
agent on an admin page gets a 403 page, not a redirect (they are signed in).
"""

from __future__ import annotations

import functools
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from ..domain.errors import Forbidden, Unauthorized
from ..web.auth import current_principal


def signed_in_user() -> dict[str, Any] | None:
    """The signed-in user behind the request's cookie, or ``None``."""
    try:
        principal = current_principal()
    except Unauthorized:
        return None
    if principal["kind"] != "user":
        raise Forbidden("console pages are for people signed in with a browser, not for API keys")
    return principal


def safe_next(target: str | None) -> str:
    """A path on this host to continue to after signing in (never another site)."""
    if not target:
        return url_for("console.queue_page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("console.queue_page")
    return target


def console_page(role: str = "agent") -> Callable:
    """View decorator: a signed-in user (an admin when ``role == "admin"``).

    Anyone else gets a page, not JSON, whatever blueprint the view is on (plugins'
    pages use it through the partner module): the sign-in page (with ``next``), or
    the console's 403 page for an API key or an agent on an admin page.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from .blueprint import error_page

            try:
                principal = signed_in_user()
            except Forbidden as exc:  # an API key
                return error_page(403, "Not allowed", exc.message)
            if principal is None:
                return redirect(url_for("console.signin_page", next=request.full_path.rstrip("?")))
            if role == "admin" and principal["role"] != "admin":
                return error_page(403, "Not allowed",
                                  "This page is for admins; ask an admin of your account if you need it.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
