"""``/api/v1/analytics/…``: the aggregates, for admins, as JSON or CSV.

Every view is ``@documented`` (the declaration checks the query string before the
view runs: a bad ``from``, ``interval``, ``version``… is a 422 naming it) and admin
only. ``?format=csv``, or ``Accept: text/csv`` without ``format``, answers CSV with
a header row; the OpenAPI document lists both media types for each.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import UTC, datetime
from typing import Any, Callable, Iterable

from flask import Blueprint, Response, jsonify, request

from guidepath.core.plugin_api import NotFound, Param, documented, query_args, require, tenant_ctx, utcnow

from . import queries

bp = Blueprint("analytics", __name__)

BASE = "/api/v1/analytics"
PATH_ID = re.compile(r"gp_[0-9a-z]{26}")

FROM = Param("from", {"type": "string", "format": "date-time"},
             "Start of the range (RFC 3339), rounded down to its hour. Default: today's start (00:00 UTC); "
             "for a funnel, the beginning.")
TO = Param("to", {"type": "string", "format": "date-time"},
           "End of the range, exclusive: an hour counts when it begins before it. Default: now; for a funnel, "
           "no end. A range that ends before it begins is empty (zeros).")
FORMAT = Param("format", {"type": "string", "enum": ["json", "csv"]},
               "`csv` for a CSV file (also `Accept: text/csv` when absent). Default: JSON.")
INTERVAL = Param("interval", {"type": "string", "enum": ["hour", "day"], "default": "hour"},
                 "Bucket size (UTC hours or days).")
VERSION = Param("version", {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "The path version. Default: the latest version that has runs.")

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}


def _counts(*names: str) -> dict[str, Any]:
    return {"type": "object", "required": list(names), "properties": {n: _COUNT for n in names}}


RUN_OUTCOMES = _counts("resolved", "unresolved", "escalate", "abandoned")
OVERVIEW = {
    "type": "object",
    "required": ["from", "to", "sessions", "runs", "relay"],
    "properties": {
        "from": _TIME, "to": _TIME,
        "sessions": {
            "type": "object",
            "required": ["total", "by_state", "resolved", "by_outcome", "resolution_rate", "median_wait_seconds",
                         "median_handle_seconds"],
            "properties": {
                "total": {**_COUNT, "description": "Sessions created in the range"},
                "by_state": {**_counts("created", "waiting", "active", "ended"),
                             "description": "Moves into each state in the range (a session handed back to the "
                                            "queue and taken again counts twice in waiting and active)"},
                "resolved": {**_COUNT, "description": "Sessions that ended resolved in the range"},
                "by_outcome": _counts("resolved", "unresolved", "abandoned"),
                "resolution_rate": {**_NUMBER_OR_NULL, "description": "resolved / ended (null: none ended)"},
                "median_wait_seconds": {**_NUMBER_OR_NULL,
                                        "description": "Median time from waiting to active, of the answers "
                                                       "given in the range"},
                "median_handle_seconds": {**_NUMBER_OR_NULL,
                                          "description": "Median time from first active to ended, of the "
                                                         "sessions that ended in the range"},
            },
        },
        "runs": {"type": "object", "required": ["started", "completed", "by_outcome"], "properties": {
            "started": _COUNT,
            "completed": {**_COUNT, "description": "Runs that reached an end step (abandoned ones are in "
                                                   "by_outcome.abandoned)"},
            "by_outcome": RUN_OUTCOMES,
        }},
        "relay": {"type": "object", "required": ["remote_control_seconds", "camera_seconds"], "properties": {
            "remote_control_seconds": {"type": "number", "minimum": 0,
                                       "description": "Seconds agents viewed or controlled a screen, counted "
                                                      "when the viewer left"},
            "camera_seconds": {"type": "number", "minimum": 0},
        }},
    },
}
SERIES = {
    "type": "object",
    "required": ["interval", "from", "to", "truncated", "items"],
    "properties": {
        "interval": {"enum": ["hour", "day"]}, "from": _TIME, "to": _TIME,
        "truncated": {"type": "boolean", "description": "Buckets were left out (see the description)"},
        "items": {"type": "array", "items": {**_counts(*queries.SESSION_COUNTS),
                                             "required": ["start", *queries.SESSION_COUNTS],
                                             "properties": {"start": _TIME, **_counts(*queries.SESSION_COUNTS)[
                                                 "properties"]}}},
    },
}
AGENT = {
    "type": "object",
    "required": ["agent_id", "answered", "ended", "resolved", "resolution_rate", "median_wait_seconds",
                 "median_handle_seconds"],
    "properties": {
        "agent_id": {"type": "string"},
        "answered": {**_COUNT, "description": "Moves to active with this agent (taking a waiting customer)"},
        "ended": {**_COUNT, "description": "Sessions of this agent that ended"},
        "resolved": _COUNT,
        "resolution_rate": _NUMBER_OR_NULL,
        "median_wait_seconds": {**_NUMBER_OR_NULL, "description": "How long the customers this agent answered "
                                                                  "had waited"},
        "median_handle_seconds": _NUMBER_OR_NULL,
    },
}
AGENTS = {"type": "object", "required": ["from", "to", "items"],
          "properties": {"from": _TIME, "to": _TIME, "items": {"type": "array", "items": AGENT}}}
FUNNEL = {
    "type": "object",
    "required": ["path_id", "version", "versions", "from", "to", "started", "completed", "by_outcome", "steps"],
    "properties": {
        "path_id": {"type": "string"},
        "version": {"type": ["integer", "null"], "description": "null when the path has no runs"},
        "versions": {"type": "array", "items": {"type": "integer"}, "description": "Versions that have runs"},
        "from": {"type": ["string", "null"], "format": "date-time"},
        "to": {"type": ["string", "null"], "format": "date-time"},
        "started": _COUNT, "completed": _COUNT, "by_outcome": RUN_OUTCOMES,
        "steps": {"type": "array", "description": "In the order runs usually pass them", "items": {
            "type": "object", "required": ["step_id", "reached", "drop_off", "median_seconds"],
            "properties": {
                "step_id": {"type": "string"},
                "reached": {**_COUNT, "description": "Runs that got past the step (each once)"},
                "drop_off": {**_COUNT, "description": "The previous step's (or started's) reached minus this one"},
                "median_seconds": {**_NUMBER_OR_NULL, "description": "Median time spent on the step"},
            }}},
    },
}
CSV = {"type": "string", "description": "CSV with a header row (`?format=csv` or `Accept: text/csv`)"}


def _json_or_csv(*errors: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the 200 answer as JSON (its schema) or CSV (text), and the errors
    (401, 403, 422 and ``errors``). ``documented`` gives every media type of an answer
    one schema, so the operation's responses are written out here."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        operation = view.operation
        responses: dict[str, Any] = {"200": {"description": "Success", "content": {
            "application/json": {"schema": dict(operation.responses[200])}, "text/csv": {"schema": CSV}}}}
        for status in sorted({401, 403, 422, *errors}):
            responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
        view.operation = dataclasses.replace(operation, extra={**operation.extra, "responses": responses})
        return view

    return mark


def _utc(moment: datetime | None) -> datetime | None:
    """In UTC; a time whose UTC falls outside years 1–9999 is the nearest end of that span."""
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year < 5000 else datetime.max).replace(tzinfo=UTC)


def _range(args: dict[str, Any], *, default_today: bool = True) -> tuple[datetime | None, datetime | None]:
    start, end = _utc(args.get("from")), _utc(args.get("to"))
    if default_today:
        now = utcnow()
        start = start or now.replace(hour=0, minute=0, second=0, microsecond=0)
        end = end or now
    return start, end


def _wants_csv(args: dict[str, Any]) -> bool:
    if args.get("format"):
        return args["format"] == "csv"
    accept = request.accept_mimetypes
    return accept.quality("text/csv") > accept.quality("application/json")


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ is a formula in spreadsheets: quote it (ids never do).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv(name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="analytics-{name}.csv"'
    return response


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else key, inner)
    else:
        yield prefix, value


@bp.get(f"{BASE}/overview")
@require("admin")
@_json_or_csv()
@documented("Analytics: sessions, Guided Path runs and relay use in a time range (admin)",
            description="Counts per UTC hour, summed over the range; medians exact. CSV: one `metric,value` row "
                        "per number (`sessions.by_state.waiting`, …).",
            query=[FROM, TO, FORMAT], returns=OVERVIEW, returns_media_type=["application/json", "text/csv"])
def overview():
    args = query_args()
    start, end = _range(args)
    with tenant_ctx().engine.connect() as conn:
        answer = queries.overview(conn, start, end)
    if _wants_csv(args):
        return _csv("overview", ["metric", "value"], _flatten("", answer))
    return jsonify(answer)


@bp.get(f"{BASE}/sessions")
@require("admin")
@_json_or_csv()
@documented("Analytics: sessions per hour or per day (admin)",
            description=f"Every bucket of the range, zeros included. A range of more than {queries.MAX_BUCKETS} "
                        "buckets lists only the part that holds data, at most its last "
                        f"{queries.MAX_BUCKETS} buckets (`truncated`: true when some were left out). Counts: "
                        "created, moves into waiting/active/ended, and the outcomes of those that ended.",
            query=[INTERVAL, FROM, TO, FORMAT], returns=SERIES, returns_media_type=["application/json", "text/csv"])
def sessions_series():
    args = query_args()
    start, end = _range(args)
    with tenant_ctx().engine.connect() as conn:
        answer = queries.series(conn, args["interval"], start, end)
    if _wants_csv(args):
        return _csv(f"sessions-by-{args['interval']}", ["start", *queries.SESSION_COUNTS],
                    ([item["start"], *(item[k] for k in queries.SESSION_COUNTS)] for item in answer["items"]))
    return jsonify(answer)


AGENT_COLUMNS = ["agent_id", "answered", "ended", "resolved", "resolution_rate", "median_wait_seconds",
                 "median_handle_seconds"]


@bp.get(f"{BASE}/agents")
@require("admin")
@_json_or_csv()
@documented("Analytics: per agent, answers, ended and resolved sessions and medians (admin)",
            description="Agents with any activity in the range, most answers first. Names: `GET /api/v1/users`.",
            query=[FROM, TO, FORMAT], returns=AGENTS, returns_media_type=["application/json", "text/csv"])
def agents():
    args = query_args()
    start, end = _range(args)
    with tenant_ctx().engine.connect() as conn:
        answer = queries.agents(conn, start, end)
    if _wants_csv(args):
        return _csv("agents", AGENT_COLUMNS, ([item[k] for k in AGENT_COLUMNS] for item in answer["items"]))
    return jsonify(answer)


@bp.get(f"{BASE}/paths/<path_id>/funnel")
@require("admin")
@_json_or_csv(404)
@documented("Analytics: a Guided Path version's funnel (admin)",
            description="Runs started, each step reached (each run once per step), drop-off, median time per "
                        "step, and how the runs ended. A path without runs answers zeros (version null); a "
                        "malformed path id is a 404.",
            query=[VERSION, FROM, TO, FORMAT], returns=FUNNEL, returns_media_type=["application/json", "text/csv"])
def funnel(path_id: str):
    if not PATH_ID.fullmatch(path_id):
        raise NotFound(f"no Guided Path {path_id[:40]!r}", field="path_id")
    args = query_args()
    start, end = _range(args, default_today=False)
    with tenant_ctx().engine.connect() as conn:
        answer = queries.funnel(conn, path_id, args["version"], start, end)
    if _wants_csv(args):
        rows = [["(started)", answer["started"], 0, ""]] + [
            [s["step_id"], s["reached"], s["drop_off"], s["median_seconds"]] for s in answer["steps"]]
        return _csv(f"funnel-{path_id}-v{answer['version']}", ["step_id", "reached", "drop_off", "median_seconds"],
                    rows)
    return jsonify(answer)

