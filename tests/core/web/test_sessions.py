"""Support sessions: the state machine over HTTP, live and historical lists, events."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import text


def _new_session(admin, **body):
    response = admin.post("/api/v1/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_state_machine(tenant):
    admin = tenant.admin
    session = _new_session(admin)
    assert session["state"] == "created" and session["ended_at"] is None
    path = f"/api/v1/sessions/{session['id']}/state"
    assert admin.post(path, json={"state": "waiting"}).json()["state"] == "waiting"
    assert admin.post(path, json={"state": "active"}).json()["state"] == "active"
    ended = admin.post(path, json={"state": "ended", "resolution": "cable replaced"}).json()
    assert ended["state"] == "ended" and ended["resolution"] == "cable replaced" and ended["ended_at"]


def test_illegal_transition_is_409_and_changes_nothing(tenant):
    admin = tenant.admin
    session = _new_session(admin)
    response = admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "active"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"
    assert "waiting" in response.json()["error"]["message"]
    assert admin.get(f"/api/v1/sessions/{session['id']}").json()["state"] == "created"
    bad = admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "flying"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "state"


def test_live_and_historical_filters(tenant):
    admin = tenant.admin
    live = _new_session(admin)
    done = _new_session(admin)
    admin.post(f"/api/v1/sessions/{done['id']}/state", json={"state": "ended"}).raise_for_status()
    ids = lambda params: {s["id"] for s in admin.get("/api/v1/sessions", params=params).json()["items"]}
    assert ids({"state": "live"}) == {live["id"]}
    assert ids({"state": "ended"}) == {done["id"]}
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert ids({"since": future}) == set()
    assert ids({"until": future}) == {live["id"], done["id"]}
    assert admin.get("/api/v1/sessions", params={"since": "yesterday"}).json()["error"]["field"] == "since"


def test_state_changes_write_events_to_the_outbox(tenant):
    session = _new_session(tenant.admin)
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "waiting"}).raise_for_status()
    with tenant.context().engine.connect() as conn:
        types = [r[0] for r in conn.execute(text("SELECT type FROM event_outbox ORDER BY seq"))]
    assert types[-2:] == ["session.created", "session.state_changed"]


def test_unknown_references_are_refused(tenant):
    response = tenant.admin.post("/api/v1/sessions", json={"customer_id": "cus_nope"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "customer_id"
