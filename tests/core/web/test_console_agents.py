"""The agent console: who I am (/api/v1/me), my availability and my capacity."""

from __future__ import annotations

from sqlalchemy import text

from console_support import agent, move, new_session


def test_me_is_the_signed_in_user_with_availability_capacity_and_load(tenant):
    client, user = agent(tenant, "Grace Hopper")
    me = client.get("/api/v1/me").json()
    assert me["id"] == user["id"] and me["name"] == "Grace Hopper" and me["role"] == "agent"
    assert me["availability"] == "offline" and me["capacity"] == 3 and me["active_sessions"] == 0
    session = new_session(client)
    assert client.post(f"/api/v1/sessions/{session['id']}/take").status_code == 200
    assert client.get("/api/v1/me").json()["active_sessions"] == 1


def test_an_agent_sets_availability_and_name_and_an_event_says_so(tenant):
    client, user = agent(tenant)
    changed = client.patch("/api/v1/me", json={"availability": "online", "name": "Grace"}).json()
    assert changed["availability"] == "online" and changed["name"] == "Grace"
    client.patch("/api/v1/me", json={"availability": "online"}).raise_for_status()  # no change, no event
    client.patch("/api/v1/me", json={"availability": "busy"}).raise_for_status()
    with tenant.context().engine.connect() as conn:
        rows = conn.execute(text("SELECT payload FROM event_outbox WHERE type = 'agent.availability_changed' "
                                 "ORDER BY seq")).all()
    assert len(rows) == 2 and '"busy"' in rows[1][0] and user["id"] in rows[1][0]
    bad = client.patch("/api/v1/me", json={"availability": "away"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "availability"
    assert client.patch("/api/v1/me", json={"capacity": 9}).json()["error"]["field"] == "capacity"


def test_me_is_for_people_not_api_keys(tenant):
    machine = tenant.client().with_api_key(tenant.admin.new_api_key())
    for response in (machine.get("/api/v1/me"), machine.patch("/api/v1/me", json={"availability": "online"})):
        assert response.status_code == 403, response.text
    assert tenant.client().get("/api/v1/me").status_code == 401


def test_admins_set_capacity_within_1_to_50(tenant):
    _, user = agent(tenant)
    path = f"/api/v1/users/{user['id']}"
    assert tenant.admin.patch(path, json={"capacity": 5}).json()["capacity"] == 5
    for bad in (0, 51, "3"):
        response = tenant.admin.patch(path, json={"capacity": bad})
        assert response.status_code == 422 and response.json()["error"]["field"] == "capacity", bad
    assert tenant.admin.get(path).json()["capacity"] == 5
    client, _ = agent(tenant)
    assert client.patch(path, json={"capacity": 9}).status_code == 403  # agents cannot


def test_availability_is_never_inferred(tenant):
    client, user = agent(tenant)
    session = new_session(client)
    move(client, session["id"], "waiting")
    client.post(f"/api/v1/sessions/{session['id']}/take").raise_for_status()
    assert tenant.admin.get(f"/api/v1/users/{user['id']}").json()["availability"] == "offline"
