"""Reading the aggregates: the overview, time series, agents and path funnels.

Every read takes a UTC range ``[start, end)``; buckets are whole hours (the ETL's),
so ``start`` is rounded down to its hour and an hour is in the range when it begins
before ``end``. Medians are exact: computed here from the raw durations.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Connection, Table, and_, func, select

from .etl import RELAY_KINDS, RUN_OUTCOMES, aware, hour_of
from .tables import (
    analytics_agent_hours as AGENTS,
    analytics_durations as DURATIONS,
    analytics_relay_hours as RELAY,
    analytics_run_hours as RUN_HOURS,
    analytics_session_hours as SESSION_HOURS,
    analytics_step_hours as STEP_HOURS,
)

SESSION_COUNTS = ("created", "waiting", "active", "ended", "resolved", "unresolved", "abandoned")
STATES = ("created", "waiting", "active", "ended")
INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
#: The most buckets one series lists (beyond, only the part of the range that holds data).
MAX_BUCKETS = 2000


def median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    value = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return round(value, 3)


def _in_range(table: Table, start: datetime | None, end: datetime | None):
    conditions = []
    if start is not None:
        conditions.append(table.c.hour >= hour_of(start))
    if end is not None:
        conditions.append(table.c.hour < end.astimezone(UTC))
    return and_(True, *conditions)


def _sums(conn: Connection, table: Table, columns: Iterable[str], where) -> dict[str, Any]:
    columns = list(columns)
    row = conn.execute(select(*[func.coalesce(func.sum(table.c[c]), 0) for c in columns]).where(where)).one()
    return dict(zip(columns, row))


def _durations(conn: Connection, kind: str, start: datetime | None, end: datetime | None,
               *where: Any) -> list[float]:
    query = select(DURATIONS.c.seconds).where(DURATIONS.c.kind == kind, _in_range(DURATIONS, start, end), *where)
    return [row[0] for row in conn.execute(query)]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def overview(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    sessions = {k: int(v) for k, v in _sums(conn, SESSION_HOURS, SESSION_COUNTS,
                                           _in_range(SESSION_HOURS, start, end)).items()}
    runs = {k: int(v) for k, v in _sums(conn, RUN_HOURS, ("started", "completed", "abandoned", *RUN_OUTCOMES),
                                       _in_range(RUN_HOURS, start, end)).items()}
    relay = {kind: 0.0 for kind in RELAY_KINDS}
    for kind, seconds in conn.execute(select(RELAY.c.kind, func.sum(RELAY.c.seconds))
                                      .where(_in_range(RELAY, start, end)).group_by(RELAY.c.kind)):
        relay[kind] = round(float(seconds or 0.0), 3)
    return {
        "from": _iso(hour_of(start)),
        "to": _iso(end),
        "sessions": {
            "total": sessions["created"],
            "by_state": {state: sessions[state] for state in STATES},
            "resolved": sessions["resolved"],
            "by_outcome": {k: sessions[k] for k in ("resolved", "unresolved", "abandoned")},
            "resolution_rate": _rate(sessions["resolved"], sessions["ended"]),
            "median_wait_seconds": median(_durations(conn, "wait", start, end)),
            "median_handle_seconds": median(_durations(conn, "handle", start, end)),
        },
        "runs": {
            "started": runs["started"],
            "completed": runs["completed"],
            "by_outcome": {**{k: runs[k] for k in RUN_OUTCOMES}, "abandoned": runs["abandoned"]},
        },
        "relay": {"remote_control_seconds": relay["remote_control"], "camera_seconds": relay["camera"]},
    }


def _first_bucket(interval: str, moment: datetime) -> datetime:
    first = hour_of(moment)
    return first.replace(hour=0) if interval == "day" else first


def bucket_count(interval: str, start: datetime, end: datetime) -> int:
    first = _first_bucket(interval, start)
    if end <= first:
        return 0
    step = INTERVALS[interval]
    return -(-(end - first) // step)  # ceiling


def series(conn: Connection, interval: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Counts per bucket, zeros included. A range of more than ``MAX_BUCKETS`` buckets
    lists only the part that holds data, and at most its last ``MAX_BUCKETS`` buckets
    (``truncated``: some were left out)."""
    step = INTERVALS[interval]
    first, last_end, truncated = _first_bucket(interval, start), end, False
    if bucket_count(interval, start, end) > MAX_BUCKETS:
        low, high = conn.execute(select(func.min(SESSION_HOURS.c.hour), func.max(SESSION_HOURS.c.hour))
                                 .where(_in_range(SESSION_HOURS, start, end))).one()
        if low is None:
            first, last_end = first, first
        else:
            first = max(first, _first_bucket(interval, aware(low)))
            last_end = min(end, _first_bucket(interval, aware(high)) + step)
            count = bucket_count(interval, first, last_end)
            if count > MAX_BUCKETS:
                first, truncated = first + (count - MAX_BUCKETS) * step, True
    starts = [first + i * step for i in range(bucket_count(interval, first, last_end))]
    rows: dict[datetime, dict[str, int]] = {b: dict.fromkeys(SESSION_COUNTS, 0) for b in starts}
    if starts:
        query = select(SESSION_HOURS).where(_in_range(SESSION_HOURS, starts[0], last_end))
        for row in conn.execute(query):
            hour = aware(row.hour)
            bucket = hour if interval == "hour" else hour.replace(hour=0)
            if bucket in rows:
                for name in SESSION_COUNTS:
                    rows[bucket][name] += row._mapping[name]
    return {"interval": interval, "from": _iso(_first_bucket(interval, start)), "to": _iso(end),
            "truncated": truncated, "items": [{"start": _iso(b), **rows[b]} for b in starts]}


def agents(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"answered": 0, "ended": 0, "resolved": 0})
    query = (select(AGENTS.c.agent_id, func.sum(AGENTS.c.answered), func.sum(AGENTS.c.ended),
                    func.sum(AGENTS.c.resolved))
             .where(_in_range(AGENTS, start, end)).group_by(AGENTS.c.agent_id))
    for agent_id, answered, ended, resolved in conn.execute(query):
        totals[agent_id] = {"answered": int(answered), "ended": int(ended), "resolved": int(resolved)}
    waits: dict[str, list[float]] = defaultdict(list)
    handles: dict[str, list[float]] = defaultdict(list)
    query = select(DURATIONS.c.kind, DURATIONS.c.agent_id, DURATIONS.c.seconds).where(
        DURATIONS.c.kind.in_(("wait", "handle")), DURATIONS.c.agent_id.is_not(None),
        _in_range(DURATIONS, start, end))
    for kind, agent_id, seconds in conn.execute(query):
        (waits if kind == "wait" else handles)[agent_id].append(seconds)
    items = []
    for agent_id in sorted(set(totals) | set(waits) | set(handles)):
        counts = totals[agent_id]
        items.append({"agent_id": agent_id, **counts, "resolution_rate": _rate(counts["resolved"], counts["ended"]),
                      "median_wait_seconds": median(waits[agent_id]),
                      "median_handle_seconds": median(handles[agent_id])})
    items.sort(key=lambda item: (-item["answered"], -item["ended"], item["agent_id"]))
    return {"from": _iso(hour_of(start)), "to": _iso(end), "items": items}


def funnel(conn: Connection, path_id: str, version: int | None, start: datetime | None,
           end: datetime | None) -> dict[str, Any]:
    """The runs of one path version: started, each step reached (in the order runs
    usually pass them), drop-off, median time per step, and how they ended."""
    if version is None:
        version = conn.execute(select(func.max(RUN_HOURS.c.version)).where(RUN_HOURS.c.path_id == path_id)
                               ).scalar_one_or_none()
    versions = sorted(v for (v,) in conn.execute(
        select(RUN_HOURS.c.version).where(RUN_HOURS.c.path_id == path_id).distinct()))
    runs = _sums(conn, RUN_HOURS, ("started", "completed", "abandoned", *RUN_OUTCOMES), and_(
        RUN_HOURS.c.path_id == path_id, RUN_HOURS.c.version == version, _in_range(RUN_HOURS, start, end)))
    reached = conn.execute(
        select(STEP_HOURS.c.step_id, func.sum(STEP_HOURS.c.reached), func.sum(STEP_HOURS.c.position_sum))
        .where(STEP_HOURS.c.path_id == path_id, STEP_HOURS.c.version == version,
               _in_range(STEP_HOURS, start, end))
        .group_by(STEP_HOURS.c.step_id)).all()
    times: dict[str, list[float]] = defaultdict(list)
    for step_id, seconds in conn.execute(select(DURATIONS.c.step_id, DURATIONS.c.seconds).where(
            DURATIONS.c.kind == "step", DURATIONS.c.path_id == path_id, DURATIONS.c.version == version,
            _in_range(DURATIONS, start, end))):
        times[step_id].append(seconds)
    ordered = sorted(reached, key=lambda r: (r[2] / r[1] if r[1] else 0, -r[1], r[0]))
    steps, previous = [], int(runs["started"])
    for step_id, count, _position in ordered:
        count = int(count)
        steps.append({"step_id": step_id, "reached": count, "drop_off": max(0, previous - count),
                      "median_seconds": median(times[step_id])})
        previous = count
    return {
        "path_id": path_id, "version": version, "versions": versions,
        "from": _iso(hour_of(start)) if start else None, "to": _iso(end) if end else None,
        "started": int(runs["started"]), "completed": int(runs["completed"]),
        "by_outcome": {**{k: int(runs[k]) for k in RUN_OUTCOMES}, "abandoned": int(runs["abandoned"])},
        "steps": steps,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
