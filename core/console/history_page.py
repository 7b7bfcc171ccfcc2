"""``/history``: past (and live) sessions, searched and filtered, newest first.

Server-rendered: the filters are the page's own query parameters (a search is a
URL one can bookmark or send), read with the same domain function as
``GET /api/v1/sessions`` (``q``, ``agent``, ``since``/``until``, ``outcome``,
``state``, ``order=newest``, keyset pages). The parameters are declared loosely
(strings of bounded length) and checked here, so a bad value is a message next to
its field on the page rather than an error page. Dates are days (``YYYY-MM-DD``,
both ends included) in the browser's time zone: ``history.js`` fills ``tz`` (the
minutes ``Date.getTimezoneOffset()`` gives; UTC without it). Each row opens the
session's page (read only once it has ended).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from ..domain import session_expansions, support_sessions, users
from ..domain.errors import Invalid
from ..domain.session_states import STATES
from ..web.contract import Param, page, query_args
from ..web.tenant import tenant_ctx
from .access import console_page, signed_in_user
from .blueprint import bp
from .rendering import render_page

PAGE_SIZE = 25
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT = {"type": "string", "maxLength": 200}
_SHORT = {"type": "string", "maxLength": 40}

QUERY = [
    Param("q", _TEXT, "Customer: part of the name, email or phone."),
    Param("agent", _SHORT, "An agent's user id."),
    Param("from", _SHORT, "First day (YYYY-MM-DD), included."),
    Param("to", _SHORT, "Last day (YYYY-MM-DD), included."),
    Param("tz", _SHORT, "The browser's UTC offset in minutes, as Date.getTimezoneOffset() says (-840…840)."),
    Param("outcome", _SHORT, "resolved, unresolved or abandoned."),
    Param("state", _SHORT, "created, waiting, active or ended."),
    Param("cursor", {"type": "string", "maxLength": 200}, "The next page's cursor."),
]

OUTCOME_LABELS = {"resolved": "Resolved", "unresolved": "Not resolved", "abandoned": "Customer left"}


def _day(raw: str | None, field: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    if _DATE.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors[field] = "Enter a date like 2026-01-31."
    return None


def _filters(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The domain filters from the page's parameters, and a message per bad field."""
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {"order": "newest", "limit": PAGE_SIZE}
    if (args["q"] or "").strip():
        filters["q"] = args["q"].strip()
    if args["agent"]:
        filters["agent"] = args["agent"]
    if args["outcome"]:
        if args["outcome"] in support_sessions.OUTCOMES:
            filters["outcome"] = args["outcome"]
        else:
            errors["outcome"] = "Choose resolved, not resolved or customer left."
    if args["state"]:
        if args["state"] in STATES:
            filters["state"] = args["state"]
        else:
            errors["state"] = f"Choose one of: {', '.join(STATES)}."
    offset = 0
    if args["tz"]:
        try:
            offset = int(args["tz"])
            if not -840 <= offset <= 840:
                raise ValueError
        except ValueError:
            errors["tz"] = "The time zone offset must be a number of minutes between -840 and 840."
            offset = 0
    zone = timezone(-timedelta(minutes=offset))
    first, last = _day(args["from"], "from", errors), _day(args["to"], "to", errors)
    if first and last and last < first:
        errors["to"] = "The last day is before the first day."
    if first:
        filters["since"] = datetime.combine(first, datetime.min.time(), zone)
    if last:
        filters["until"] = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    if args["cursor"]:
        filters["cursor"] = args["cursor"]
    return filters, errors


def _duration(session: dict[str, Any]) -> str:
    start, end = session.get("started_at"), session.get("ended_at")
    if not start or not end:
        return "—"
    seconds = int((datetime.fromisoformat(end.replace("Z", "+00:00"))
                   - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds())
    minutes, seconds = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"


@bp.get("/history")
@page("History: search past sessions by customer, agent, dates, outcome and state", query=QUERY)
@console_page()
def history_page():
    args = dict(query_args())
    filters, errors = _filters(args)
    ctx = tenant_ctx()
    sessions: list[dict[str, Any]] = []
    next_cursor = None
    with ctx.engine.connect() as conn:
        agents = sorted(users.list_users(conn, limit=200).items, key=lambda u: (u.get("name") or u["email"]).lower())
        if not errors:
            try:
                found = support_sessions.list_sessions(conn, **filters)
            except Invalid as exc:  # a cursor from elsewhere, say
                errors[exc.field or "q"] = exc.message
            else:
                sessions = session_expansions.expand(conn, found.items, ["customer", "agent"])
                next_cursor = found.next
    for session in sessions:
        session["duration"] = _duration(session)
    if args["agent"] and args["agent"] not in {a["id"] for a in agents}:
        errors.setdefault("agent", "There is no such agent.")
    kept = {k: v for k, v in args.items() if v and k != "cursor"}
    searched = any(k in kept for k in ("q", "agent", "from", "to", "outcome", "state"))
    return render_page(
        "console/history.html", title="History", page_name="history", principal=signed_in_user(),
        status=422 if errors else 200, args=args, errors=errors, sessions=sessions, agents=agents,
        states=STATES, outcomes=OUTCOME_LABELS, searched=searched, paged=bool(args["cursor"]),
        next_url=f"/history?{urlencode({**kept, 'cursor': next_cursor})}" if next_cursor else None,
        first_url=f"/history?{urlencode(kept)}" if kept else "/history",
    )
