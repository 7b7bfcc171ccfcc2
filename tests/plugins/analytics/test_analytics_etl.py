"""The ETL: a scripted day of events at chosen times → exact numbers through the
real API (hours, medians, agents, funnel, relay); an event delivered twice counts
once; the numbers of a day driven through the real API; rebuild equals live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from analytics_support import ALL_TIME, agent, deliver, event, get, move, new_session, overview, snapshot, \
    wait_until
from guidepath.core.plugin_api import CliState
from guidepath.plugins.analytics.cli import analytics_group
from guidepath.plugins.analytics.rebuild import rebuild
from guidepath.plugins.analytics.tables import TABLES

S1, S2, S3, S4 = (f"ses_day{i}aaaaaaaaaaaaaaaaaaaaaa" for i in range(1, 5))
U1, U2 = "usr_agentoneaaaaaaaaaaaaaaaaa", "usr_agenttwoaaaaaaaaaaaaaaaaa"
GP, RUN1, RUN2, RUN3 = "gp_" + "p" * 26, "run_" + "a" * 26, "run_" + "b" * 26, "run_" + "c" * 26
DAY = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def _changed(tid, at, sid, from_state, to_state, agent_id=None, **extra):
    return event(tid, "session.state_changed", at, session_id=sid, from_state=from_state, to_state=to_state,
                 resolution=extra.pop("resolution", None), agent_id=agent_id, **extra)


def _run(tid, at, type, run_id, **data):
    return event(tid, type, at, run_id=run_id, path_id=GP, version=data.pop("version", 1), **data)


def scripted_day(tid: str) -> list:
    """Four sessions and three runs on 2 March 2026 (UTC), and one viewer on the relay."""
    e = []
    # S1 09:00 created, 09:02 waiting, 09:05 active (U1; waited 180 s), 09:25 ended resolved (handled 1200 s)
    e += [event(tid, "session.created", "2026-03-02T09:00:00Z", session_id=S1, customer_id=None),
          _changed(tid, "2026-03-02T09:02:00Z", S1, "created", "waiting"),
          _changed(tid, "2026-03-02T09:05:00Z", S1, "waiting", "active", U1),
          _changed(tid, "2026-03-02T09:25:00Z", S1, "active", "ended", U1, resolution="Fixed", outcome="resolved")]
    # S2 09:30 created, 09:31 waiting, 09:32 active (U2; 60 s), 10:10 ended unresolved (2280 s)
    e += [event(tid, "session.created", "2026-03-02T09:30:00Z", session_id=S2, customer_id=None),
          _changed(tid, "2026-03-02T09:31:00Z", S2, "created", "waiting"),
          _changed(tid, "2026-03-02T09:32:00Z", S2, "waiting", "active", U2),
          _changed(tid, "2026-03-02T10:10:00Z", S2, "active", "ended", U2, outcome="unresolved")]
    # S3 10:00 created, 10:01 waiting, 10:11 ended: abandoned (an old event without outcome)
    e += [event(tid, "session.created", "2026-03-02T10:00:00Z", session_id=S3, customer_id=None),
          _changed(tid, "2026-03-02T10:01:00Z", S3, "created", "waiting"),
          _changed(tid, "2026-03-02T10:11:00Z", S3, "waiting", "ended")]
    # S4 14:00 created, 14:00:30 waiting, 14:10:30 active (U1; 600 s), still active
    e += [event(tid, "session.created", "2026-03-02T14:00:00Z", session_id=S4, customer_id=None),
          _changed(tid, "2026-03-02T14:00:30Z", S4, "created", "waiting"),
          _changed(tid, "2026-03-02T14:10:30Z", S4, "waiting", "active", U1)]
    step = dict(session_id=None, step_path_key="check-cable", step_type="question", event="answered")
    # RUN1: ask (20 s), decide (0 s), fixed (1 s) → resolved
    e += [_run(tid, "2026-03-02T11:00:00Z", "run.started", RUN1, path_key="check-cable", session_id=None,
               customer_id=None, mode="self_service"),
          _run(tid, "2026-03-02T11:00:20Z", "run.step_completed", RUN1, seq=1, step_id="ask", **step),
          _run(tid, "2026-03-02T11:00:20Z", "run.step_completed", RUN1, seq=3, step_id="decide", **step),
          _run(tid, "2026-03-02T11:00:21Z", "run.step_completed", RUN1, seq=5, step_id="fixed", **step),
          _run(tid, "2026-03-02T11:00:21Z", "run.completed", RUN1, session_id=None, status="completed",
               outcome="resolved", steps=3, duration_ms=21000)]
    # RUN2: ask (40 s), answered twice (back), decide, escalate → escalate
    e += [_run(tid, "2026-03-02T12:00:00Z", "run.started", RUN2, path_key="check-cable", session_id=None,
               customer_id=None, mode="self_service"),
          _run(tid, "2026-03-02T12:00:40Z", "run.step_completed", RUN2, seq=1, step_id="ask", **step),
          _run(tid, "2026-03-02T12:00:50Z", "run.step_completed", RUN2, seq=3, step_id="ask", **step),
          _run(tid, "2026-03-02T12:00:50Z", "run.step_completed", RUN2, seq=5, step_id="decide", **step),
          _run(tid, "2026-03-02T12:00:51Z", "run.step_completed", RUN2, seq=7, step_id="escalate", **step),
          _run(tid, "2026-03-02T12:00:51Z", "run.completed", RUN2, session_id=None, status="completed",
               outcome="escalate", steps=4, duration_ms=51000)]
    # RUN3: abandoned before the first answer
    e += [_run(tid, "2026-03-02T13:00:00Z", "run.started", RUN3, path_key="check-cable", session_id=None,
               customer_id=None, mode="agent"),
          _run(tid, "2026-03-02T13:05:00Z", "run.completed", RUN3, session_id=None, status="abandoned",
               outcome=None, steps=0, duration_ms=300000)]
    relay = dict(session_id=S1, relay_id="relay-1")
    e += [event(tid, "relay.connected", "2026-03-02T09:10:00Z", kind="remote_control", role="device",
                connection_id="con_1", resumed=False, **relay),
          event(tid, "relay.connected", "2026-03-02T09:10:05Z", kind="remote_control", role="viewer",
                connection_id="con_1v", resumed=False, **relay),
          event(tid, "relay.disconnected", "2026-03-02T09:15:05Z", kind="remote_control", role="viewer",
                connection_id="con_1v", code=1000, reason=None, **relay),
          event(tid, "relay.connected", "2026-03-02T09:16:00Z", kind="camera", role="viewer",
                connection_id="con_2v", resumed=False, **relay),
          event(tid, "relay.disconnected", "2026-03-02T09:16:30Z", kind="camera", role="viewer",
                connection_id="con_2v", code=1000, reason=None, **relay)]
    return e


EXPECTED_OVERVIEW = {
    "from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z",
    "sessions": {"total": 4, "by_state": {"created": 4, "waiting": 4, "active": 3, "ended": 3}, "resolved": 1,
                 "by_outcome": {"resolved": 1, "unresolved": 1, "abandoned": 1}, "resolution_rate": 0.3333,
                 "median_wait_seconds": 180.0, "median_handle_seconds": 1740.0},
    "runs": {"started": 3, "completed": 2, "by_outcome": {"resolved": 1, "unresolved": 0, "escalate": 1,
                                                         "abandoned": 1}},
    "relay": {"remote_control_seconds": 300.0, "camera_seconds": 30.0},
}


def test_a_scripted_day_gives_exact_numbers(tenant):
    deliver(tenant, *scripted_day(tenant.id))
    assert get(tenant, "/overview", **DAY) == EXPECTED_OVERVIEW
    # The day before and after: nothing.
    empty = get(tenant, "/overview", **{"from": "2026-03-03T00:00:00Z", "to": "2026-03-04T00:00:00Z"})
    assert empty["sessions"]["total"] == 0 and empty["sessions"]["median_wait_seconds"] is None
    # Hours: 09:00 → S1 and S2 created…; 10:00 → S3 created, S2 and S3 ended.
    hours = get(tenant, "/sessions", interval="hour", **DAY)["items"]
    assert len(hours) == 24 and hours[0]["start"] == "2026-03-02T00:00:00Z"
    by_hour = {h["start"][11:13]: h for h in hours if any(h[k] for k in h if k != "start")}
    assert by_hour == {
        "09": {"start": "2026-03-02T09:00:00Z", "created": 2, "waiting": 2, "active": 2, "ended": 1,
               "resolved": 1, "unresolved": 0, "abandoned": 0},
        "10": {"start": "2026-03-02T10:00:00Z", "created": 1, "waiting": 1, "active": 0, "ended": 2,
               "resolved": 0, "unresolved": 1, "abandoned": 1},
        "14": {"start": "2026-03-02T14:00:00Z", "created": 1, "waiting": 1, "active": 1, "ended": 0,
               "resolved": 0, "unresolved": 0, "abandoned": 0},
    }
    days = get(tenant, "/sessions", interval="day", **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-04T00:00:00Z"})
    assert [(d["start"][:10], d["created"], d["ended"]) for d in days["items"]] == [
        ("2026-03-01", 0, 0), ("2026-03-02", 4, 3), ("2026-03-03", 0, 0)]
    agents = get(tenant, "/agents", **DAY)["items"]
    assert agents == [
        {"agent_id": U1, "answered": 2, "ended": 1, "resolved": 1, "resolution_rate": 1.0,
         "median_wait_seconds": 390.0, "median_handle_seconds": 1200.0},
        {"agent_id": U2, "answered": 1, "ended": 1, "resolved": 0, "resolution_rate": 0.0,
         "median_wait_seconds": 60.0, "median_handle_seconds": 2280.0},
    ]
    funnel = get(tenant, f"/paths/{GP}/funnel")
    assert funnel["version"] == 1 and funnel["versions"] == [1]
    assert (funnel["started"], funnel["completed"], funnel["by_outcome"]) == (
        3, 2, {"resolved": 1, "unresolved": 0, "escalate": 1, "abandoned": 1})
    assert funnel["steps"] == [
        {"step_id": "ask", "reached": 2, "drop_off": 1, "median_seconds": 30.0},
        {"step_id": "decide", "reached": 2, "drop_off": 0, "median_seconds": 0.0},
        {"step_id": "escalate", "reached": 1, "drop_off": 1, "median_seconds": 1.0},
        {"step_id": "fixed", "reached": 1, "drop_off": 0, "median_seconds": 1.0},
    ]


def test_an_event_delivered_twice_counts_once(tenant):
    events = scripted_day(tenant.id)
    deliver(tenant, *events)
    once = snapshot(tenant)
    deliver(tenant, *events)             # the whole day again, as a redelivering bus would
    deliver(tenant, events[2], events[2])  # and one event twice more
    assert snapshot(tenant) == once
    assert get(tenant, "/overview", **DAY) == EXPECTED_OVERVIEW


def _day_through_the_api(tenant) -> dict:
    """Sessions through the real API; returns the numbers it must give."""
    a1, a2 = agent(tenant, "Ada"), agent(tenant, "Brian")
    resolved, unresolved, abandoned, live, waiting = (new_session(tenant) for _ in range(5))
    for sid in (resolved, unresolved, abandoned, live, waiting):
        move(tenant, sid, "waiting")
    move(tenant, resolved, "active", agent_id=a1)
    move(tenant, unresolved, "active", agent_id=a2)
    move(tenant, live, "active", agent_id=a1)
    move(tenant, resolved, "ended", resolution="Replaced the cable")
    move(tenant, unresolved, "ended", outcome="unresolved")
    move(tenant, abandoned, "ended")
    return {"agents": (a1, a2), "total": 5, "by_state": {"created": 5, "waiting": 5, "active": 3, "ended": 3},
            "by_outcome": {"resolved": 1, "unresolved": 1, "abandoned": 1}}


def test_a_day_through_the_api_and_rebuild_equals_live(tenant):
    expected = _day_through_the_api(tenant)
    numbers = wait_until(lambda: (o := overview(tenant))["sessions"]["by_state"] == expected["by_state"] and o,
                         what="the analytics of the API day")
    sessions = numbers["sessions"]
    assert sessions["total"] == expected["total"] and sessions["by_outcome"] == expected["by_outcome"]
    assert sessions["resolved"] == 1 and sessions["resolution_rate"] == 0.3333
    assert sessions["median_wait_seconds"] >= 0 and sessions["median_handle_seconds"] >= 0
    # The series over the same range adds up to the overview.
    now = datetime.now(UTC)
    around = {"from": (now - timedelta(days=2)).isoformat(), "to": (now + timedelta(days=2)).isoformat()}
    series = get(tenant, "/sessions", interval="day", **around)["items"]
    assert len(series) == 5
    assert sum(item["created"] for item in series) == 5 and sum(item["ended"] for item in series) == 3
    a1, a2 = expected["agents"]
    by_agent = {item["agent_id"]: item for item in get(tenant, "/agents", **ALL_TIME)["items"]}
    assert (by_agent[a1]["answered"], by_agent[a1]["ended"], by_agent[a1]["resolved"]) == (2, 1, 1)
    assert (by_agent[a2]["answered"], by_agent[a2]["ended"], by_agent[a2]["resolved"]) == (1, 1, 0)

    live = snapshot(tenant)
    assert live["analytics_session_facts"]  # the live session's working state is rebuilt too
    result = CliRunner().invoke(analytics_group, ["rebuild", "--tenant", tenant.slug], obj=_state(tenant),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"rebuilt {tenant.slug}'s analytics" in result.output and "Replaying" in result.output
    assert snapshot(tenant) == live
    assert overview(tenant) == numbers
    # Rebuilding tables that were lost (or never filled) gives the same numbers.
    with tenant.context().begin() as conn:
        for table in TABLES:
            conn.execute(table.delete())
    assert overview(tenant)["sessions"]["total"] == 0
    rebuild(tenant.context())
    assert snapshot(tenant) == live


def _state(tenant) -> CliState:
    """The command line's state, on the test's kernel (which the test keeps open)."""
    state = CliState()
    state._kernel, state._schema_checked = tenant.kernel, True
    return state
