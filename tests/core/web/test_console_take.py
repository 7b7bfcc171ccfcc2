"""Taking a session (it becomes mine and active) and transferring it to another agent."""

from __future__ import annotations

import threading

from sqlalchemy import text

from console_support import agent, move, new_session


def _take(client, session_id):
    return client.post(f"/api/v1/sessions/{session_id}/take")


def _outbox(tenant, event_type):
    with tenant.context().engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT payload FROM event_outbox WHERE type = :t ORDER BY seq"),
                                           {"t": event_type})]


def test_take_from_waiting_or_created_makes_it_mine_and_active(tenant):
    grace, user = agent(tenant)
    for start in ("created", "waiting"):
        session = new_session(grace)
        if start == "waiting":
            move(grace, session["id"], "waiting")
        taken = _take(grace, session["id"])
        assert taken.status_code == 200, taken.text
        body = taken.json()
        assert body["state"] == "active" and body["agent_id"] == user["id"]
        assert body["started_at"] and body["waiting_since"] is None
    changes = _outbox(tenant, "session.state_changed")
    assert '"to_state":"active"' in changes[-1].replace(" ", "") and user["id"] in changes[-1]


def test_taking_again_is_idempotent(tenant):
    grace, _ = agent(tenant)
    session = new_session(grace)
    first = _take(grace, session["id"]).json()
    again = _take(grace, session["id"])
    assert again.status_code == 200 and again.json()["started_at"] == first["started_at"]
    assert len(_outbox(tenant, "session.state_changed")) == 1


def test_someone_elses_session_is_409_already_taken_naming_them(tenant):
    grace, _ = agent(tenant, "Grace Hopper")
    alan, _ = agent(tenant, "Alan Turing")
    session = new_session(grace)
    _take(grace, session["id"]).raise_for_status()
    response = _take(alan, session["id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_taken"
    assert "Grace Hopper" in response.json()["error"]["message"]


def test_an_ended_session_cannot_be_taken(tenant):
    grace, _ = agent(tenant)
    session = new_session(grace)
    move(grace, session["id"], "ended")
    response = _take(grace, session["id"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "illegal_transition"


def test_capacity_is_enforced(tenant):
    grace, user = agent(tenant, capacity=2)
    sessions = [new_session(grace) for _ in range(3)]
    for s in sessions[:2]:
        _take(grace, s["id"]).raise_for_status()
    response = _take(grace, sessions[2]["id"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "at_capacity"
    assert tenant.admin.get(f"/api/v1/sessions/{sessions[2]['id']}").json()["state"] == "created"
    move(grace, sessions[0]["id"], "ended")
    assert _take(grace, sessions[2]["id"]).status_code == 200


def test_two_agents_racing_for_one_session_one_wins(tenant):
    agents = [agent(tenant, f"Agent {i}")[0] for i in range(4)]
    session = new_session(tenant.admin)
    move(tenant.admin, session["id"], "waiting")
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda c=c: statuses.append(_take(c, session["id"]).status_code))
               for c in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert len(_outbox(tenant, "session.state_changed")) == 2  # waiting, then active once


def test_one_agent_racing_for_more_than_capacity_gets_capacity(tenant):
    grace, _ = agent(tenant, capacity=2)
    sessions = [new_session(tenant.admin) for _ in range(5)]
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda s=s: statuses.append(_take(grace, s["id"]).status_code))
               for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 200, 409, 409, 409]
    assert grace.get("/api/v1/me").json()["active_sessions"] == 2


def test_api_keys_cannot_take(tenant):
    machine = tenant.client().with_api_key(tenant.admin.new_api_key())
    session = new_session(tenant.admin)
    assert _take(machine, session["id"]).status_code == 403


def test_transfer_hands_an_active_session_to_an_available_agent(tenant):
    grace, g = agent(tenant)
    alan, a = agent(tenant, "Alan Turing", availability="busy")
    session = new_session(grace)
    _take(grace, session["id"]).raise_for_status()
    response = grace.post(f"/api/v1/sessions/{session['id']}/transfer",
                          json={"agent_id": a["id"], "note": "router reset done"})
    assert response.status_code == 200, response.text
    assert response.json()["agent_id"] == a["id"] and response.json()["state"] == "active"
    event = _outbox(tenant, "session.transferred")[-1]
    assert g["id"] in event and a["id"] in event and "router reset done" in event
    # Now Alan holds it: Grace may no longer move it; an admin may.
    assert grace.post(f"/api/v1/sessions/{session['id']}/transfer", json={"agent_id": g["id"]}).status_code == 403
    grace.patch("/api/v1/me", json={"availability": "online"}).raise_for_status()
    back = tenant.admin.post(f"/api/v1/sessions/{session['id']}/transfer", json={"agent_id": g["id"]})
    assert back.status_code == 200 and back.json()["agent_id"] == g["id"]


def test_transfer_refusals(tenant):
    grace, g = agent(tenant)
    offline, off = agent(tenant, "Off Line")
    full, f = agent(tenant, "Full Up", capacity=1, availability="online")
    disabled, d = agent(tenant, "Dis Abled", availability="online")
    tenant.admin.patch(f"/api/v1/users/{d['id']}", json={"disabled": True}).raise_for_status()
    busy_session = new_session(full)
    _take(full, busy_session["id"]).raise_for_status()
    session = new_session(grace)
    path = f"/api/v1/sessions/{session['id']}/transfer"
    not_active = grace.post(path, json={"agent_id": f["id"]})
    assert not_active.status_code == 409 and not_active.json()["error"]["code"] == "illegal_transition"
    _take(grace, session["id"]).raise_for_status()
    for body, status, code in (
        ({"agent_id": off["id"]}, 409, "agent_unavailable"),
        ({"agent_id": d["id"]}, 409, "agent_unavailable"),
        ({"agent_id": f["id"]}, 409, "at_capacity"),
        ({"agent_id": g["id"]}, 409, "already_assigned"),
        ({"agent_id": "usr_nobody"}, 422, "invalid"),
        ({}, 422, "invalid"),
        ({"agent_id": f["id"], "colour": 1}, 422, "invalid"),
    ):
        response = grace.post(path, json=body)
        assert response.status_code == status and response.json()["error"]["code"] == code, (body, response.text)
    assert grace.get(f"/api/v1/sessions/{session['id']}").json()["agent_id"] == g["id"]
