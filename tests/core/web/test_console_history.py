"""Session lists for the console: outcome and wait times, expand, history search,
newest first, and the queue position with its estimate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from console_support import agent, move, new_session


def test_outcome_is_stored_and_defaults_sensibly(tenant):
    admin = tenant.admin
    grace, _ = agent(tenant)
    explicit = new_session(grace)
    grace.post(f"/api/v1/sessions/{explicit['id']}/take").raise_for_status()
    ended = move(grace, explicit["id"], "ended", outcome="unresolved", resolution="needs a technician")
    assert ended["outcome"] == "unresolved" and ended["resolution"] == "needs a technician"
    resolved = new_session(grace)
    grace.post(f"/api/v1/sessions/{resolved['id']}/take").raise_for_status()
    assert move(grace, resolved["id"], "ended", resolution="reset")["outcome"] == "resolved"
    silent = new_session(grace)
    grace.post(f"/api/v1/sessions/{silent['id']}/take").raise_for_status()
    assert move(grace, silent["id"], "ended")["outcome"] == "unresolved"
    left = new_session(admin)
    move(admin, left["id"], "waiting")
    assert move(admin, left["id"], "ended", resolution="left")["outcome"] == "abandoned"  # never served
    early = admin.post(f"/api/v1/sessions/{new_session(admin)['id']}/state", json={"state": "waiting",
                                                                                 "outcome": "resolved"})
    assert early.status_code == 422 and early.json()["error"]["field"] == "outcome"
    with tenant.context().engine.connect() as conn:
        last = conn.execute(text("SELECT payload FROM event_outbox WHERE type = 'session.state_changed' "
                                 "ORDER BY seq DESC")).first()[0]
    assert '"outcome"' in last and "abandoned" in last


def test_waiting_since_and_started_at(tenant):
    admin = tenant.admin
    session = new_session(admin)
    waiting = move(admin, session["id"], "waiting")
    assert waiting["waiting_since"] and waiting["started_at"] is None
    active = move(admin, session["id"], "active")
    assert active["waiting_since"] is None and active["started_at"]
    back = move(admin, session["id"], "waiting")
    assert back["waiting_since"] and back["started_at"] == active["started_at"]  # the first time only
    assert move(admin, session["id"], "ended")["waiting_since"] is None


def test_expand_adds_customer_device_and_agent(tenant):
    admin = tenant.admin
    grace, user = agent(tenant, "Grace Hopper")
    customer = admin.post("/api/v1/customers", json={"first_name": "Ada", "last_name": "Lovelace",
                                                     "email": "ada@example.com"}).json()
    device = admin.post("/api/v1/devices", json={"manufacturer": "Acme", "model": "Test Phone 7",
                                                 "os_name": "Android", "os_version": "15"}).json()
    session = new_session(admin, customer_id=customer["id"], device_id=device["id"])
    grace.post(f"/api/v1/sessions/{session['id']}/take").raise_for_status()
    bare = new_session(admin)
    page = admin.get("/api/v1/sessions", params={"expand": "customer,device,agent"}).json()
    by_id = {s["id"]: s for s in page["items"]}
    full = by_id[session["id"]]
    assert full["customer"] == {"id": customer["id"], "name": "Ada Lovelace", "email": "ada@example.com"}
    assert full["device"] == {"id": device["id"], "summary": "Acme Test Phone 7 · Android 15"}
    assert full["agent"] == {"id": user["id"], "name": "Grace Hopper", "email": user["email"]}
    assert by_id[bare["id"]]["customer"] is None and by_id[bare["id"]]["agent"] is None
    one = admin.get(f"/api/v1/sessions/{session['id']}", params={"expand": "agent"}).json()
    assert one["agent"]["name"] == "Grace Hopper" and "customer" not in one and one["capabilities"] is not None
    assert "customer" not in admin.get("/api/v1/sessions").json()["items"][0]  # only when asked for
    for bad in ("colour", "customer,,agent", "customer,colour", ""):
        response = admin.get("/api/v1/sessions", params={"expand": bad})
        assert response.status_code == 422 and response.json()["error"]["field"] == "expand", bad


def test_history_search_by_customer_name_email_and_phone(tenant):
    admin = tenant.admin
    people = [
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0958"},
        {"first_name": "Alan", "last_name": "Turing", "email": "alan@bletchley.org", "phone": "+44 1908 640404"},
        {"first_name": "100%_real", "last_name": None, "email": None, "phone": None},
    ]
    sessions = {}
    for person in people:
        customer = admin.post("/api/v1/customers", json=person).json()
        sessions[person["first_name"]] = new_session(admin, customer_id=customer["id"])["id"]
    new_session(admin)  # no customer: never matches

    def found(**params):
        return {s["id"] for s in admin.get("/api/v1/sessions", params=params).json()["items"]}

    assert found(q="lovelace") == {sessions["Ada"]}
    assert found(q="ADA LOVE") == {sessions["Ada"]}  # first and last name together
    assert found(q="bletchley") == {sessions["Alan"]}
    assert found(q="7946 0958") == {sessions["Ada"]}
    assert found(q="79460958") == {sessions["Ada"]}  # digits, whatever the spacing
    assert found(q="a") == set(sessions.values())
    assert found(q="%") == {sessions["100%_real"]}  # wildcards are literal
    assert found(q="_") == {sessions["100%_real"]}
    assert found(q="nobody") == set()


def test_outcome_filter_and_newest_first_pages(tenant):
    admin = tenant.admin
    ids = []
    for i in range(5):
        session = new_session(admin)
        ids.append(session["id"])
        move(admin, session["id"], "ended")  # never active: abandoned
    assert {s["id"] for s in admin.get("/api/v1/sessions", params={"outcome": "abandoned"}).json()["items"]} \
        == set(ids)
    assert admin.get("/api/v1/sessions", params={"outcome": "resolved"}).json()["items"] == []
    assert admin.get("/api/v1/sessions", params={"outcome": "meh"}).status_code == 422
    seen, cursor = [], None
    while True:
        params = {"order": "newest", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = admin.get("/api/v1/sessions", params=params).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    oldest = [s["id"] for s in admin.get("/api/v1/sessions", params={"order": "oldest"}).json()["items"]]
    assert oldest == ids
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert admin.get("/api/v1/sessions", params={"until": future, "order": "newest", "state": "ended",
                                                 "limit": 1}).json()["items"][0]["id"] == ids[-1]


def test_queue_position_and_estimate(tenant):
    admin = tenant.admin
    waiting = []
    for _ in range(4):
        s = new_session(admin)
        move(admin, s["id"], "waiting")
        waiting.append(s["id"])
    queue = admin.get(f"/api/v1/sessions/{waiting[2]}/queue").json()
    assert queue["state"] == "waiting" and queue["position"] == 3 and queue["waiting_ahead"] == 2
    assert queue["agents_online"] == 0 and queue["estimated_wait_seconds"] is None
    assert "no agent" in queue["method"]

    # One online agent with capacity 2, already holding one session: one free slot.
    grace, _ = agent(tenant, capacity=2, availability="online")
    held = new_session(grace)
    grace.post(f"/api/v1/sessions/{held['id']}/take").raise_for_status()
    first = admin.get(f"/api/v1/sessions/{waiting[0]}/queue").json()
    assert first["position"] == 1 and first["estimated_wait_seconds"] == 0 and first["agents_online"] == 1
    third = admin.get(f"/api/v1/sessions/{waiting[2]}/queue").json()
    assert third["estimated_wait_seconds"] is None and "no ended session" in third["method"]

    # Handle times of ended sessions: 100 s, 300 s, 600 s → median 300 s.
    with tenant.context().engine.begin() as conn:
        now = datetime.now(timezone.utc)
        for seconds in (100, 300, 600):
            sid = f"ses_{seconds:026d}"
            conn.execute(text("INSERT INTO support_sessions (id, state, created_at, updated_at, started_at, "
                              "ended_at, outcome) VALUES (:id, 'ended', :c, :c, :s, :e, 'resolved')"),
                         {"id": sid, "c": now, "s": now - timedelta(seconds=seconds), "e": now})
    third = admin.get(f"/api/v1/sessions/{waiting[2]}/queue").json()
    # ceil((3 − 1 free) / 2 online slots) = 1 wave of the median handle time.
    assert third["estimated_wait_seconds"] == 300 and "300 s" in third["method"]
    fourth = admin.get(f"/api/v1/sessions/{waiting[3]}/queue").json()
    assert fourth["estimated_wait_seconds"] == 600  # ceil((4 − 1) / 2) = 2 waves
    # Taking the first moves everyone up.
    grace.post(f"/api/v1/sessions/{waiting[0]}/take").raise_for_status()
    assert admin.get(f"/api/v1/sessions/{waiting[1]}/queue").json()["position"] == 1
    taken = admin.get(f"/api/v1/sessions/{waiting[0]}/queue").json()
    assert taken["state"] == "active" and taken["position"] is None and taken["estimated_wait_seconds"] is None
    # In lists, per item.
    items = admin.get("/api/v1/sessions", params={"state": "waiting", "expand": "queue"}).json()["items"]
    assert [i["queue"]["position"] for i in items] == [1, 2, 3]
