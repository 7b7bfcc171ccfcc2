"""A session's timeline, written by the event dispatcher from every event naming it."""

from __future__ import annotations

import time

from guidepath.core.domain import timeline
from guidepath.core.events import Event

from console_support import agent, customer_client, move, new_session

#: The server backend goes outbox → Kafka (Tansu) → the dispatcher; a fresh tenant's
#: first event waits for the consumer group to see its topic (tests/core/web/test_ws.py).
TIMEOUT = 60.0


def _wait_for_types(client, session_id: str, count: int) -> list[dict]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        items = client.get(f"/api/v1/sessions/{session_id}/timeline", params={"limit": 200}).json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_the_timeline_follows_the_session(tenant):
    grace, user = agent(tenant, availability="online")
    alan, other = agent(tenant, "Alan Turing", availability="online")
    session = new_session(grace)
    sid = session["id"]
    customer, _ = customer_client(tenant, sid, {"first_name": "Ada"})   # joined, waiting
    grace.post(f"/api/v1/sessions/{sid}/take").raise_for_status()        # active
    customer.post(f"/api/v1/sessions/{sid}/messages", json={"kind": "chat", "body": "hi"}).raise_for_status()
    grace.post(f"/api/v1/sessions/{sid}/messages", json={"kind": "note", "body": "vip"}).raise_for_status()
    grace.post(f"/api/v1/sessions/{sid}/transfer", json={"agent_id": other["id"], "note": "yours"}
               ).raise_for_status()
    move(alan, sid, "ended", outcome="resolved")
    new_session(grace)  # another session's events stay out
    items = _wait_for_types(grace, sid, 8)
    types = [i["type"] for i in items]
    assert types == ["session.created", "session.state_changed", "session.customer_joined",
                     "session.state_changed", "session.message_posted", "session.message_posted",
                     "session.transferred", "session.state_changed"], types
    assert all(i["session_id"] == sid for i in items)
    assert items[4]["actor"].startswith("customer:cus_") and items[5]["actor"] == f"agent:{user['id']}"
    assert items[6]["data"]["note"] == "yours"
    page = grace.get(f"/api/v1/sessions/{sid}/timeline", params={"limit": 3}).json()
    walked = page["items"]
    while page["next"]:
        page = grace.get(f"/api/v1/sessions/{sid}/timeline", params={"limit": 3, "cursor": page["next"]}).json()
        walked += page["items"]
    assert [i["event_id"] for i in walked] == [i["event_id"] for i in items]
    assert grace.get(f"/api/v1/sessions/{sid}/timeline", params={"cursor": "garbage"}).status_code == 422
    assert grace.get("/api/v1/sessions/ses_nope/timeline").status_code == 404


def test_recording_an_event_twice_keeps_one_entry(tenant):
    session = new_session(tenant.admin)
    event = Event.new(tenant.id, "relay.connected", {"session_id": session["id"], "kind": "remote_control"})
    with tenant.context().engine.begin() as conn:
        assert timeline.record(conn, event) is True
        assert timeline.record(conn, event) is False  # redelivered: ignored
        assert timeline.record(conn, Event.new(tenant.id, "run.started", {"run_id": "run_x"})) is False
    items = tenant.admin.get(f"/api/v1/sessions/{session['id']}/timeline").json()["items"]
    assert [i["event_id"] for i in items].count(event.id) == 1
