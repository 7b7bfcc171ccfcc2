"""Chat and private notes on a session."""

from __future__ import annotations

from sqlalchemy import text

from console_support import agent, customer_client, move, new_session


def test_agents_post_and_list_chat_and_notes_oldest_first(tenant):
    grace, user = agent(tenant, "Grace Hopper")
    session = new_session(grace)
    path = f"/api/v1/sessions/{session['id']}/messages"
    posted = grace.post(path, json={"kind": "chat", "body": "Hello!"})
    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert message["id"].startswith("msg_") and message["author_type"] == "agent"
    assert message["author_id"] == user["id"] and message["author_name"] == "Grace Hopper"
    grace.post(path, json={"kind": "note", "body": "customer sounds upset"}).raise_for_status()
    for i in range(3):
        grace.post(path, json={"kind": "chat", "body": f"line {i}"}).raise_for_status()
    everything = grace.get(path).json()["items"]
    assert [m["body"] for m in everything] == ["Hello!", "customer sounds upset", "line 0", "line 1", "line 2"]
    assert [m["kind"] for m in grace.get(path, params={"kind": "note"}).json()["items"]] == ["note"]
    first = grace.get(path, params={"limit": 2}).json()
    second = grace.get(path, params={"limit": 2, "cursor": first["next"]}).json()
    assert [m["body"] for m in second["items"]] == ["line 0", "line 1"]
    with tenant.context().engine.connect() as conn:
        payload = conn.execute(text("SELECT payload FROM event_outbox WHERE type = 'session.message_posted' "
                                    "ORDER BY seq")).first()[0]
    assert "Hello!" in payload and message["id"] in payload and '"agent"' in payload


def test_bodies_are_validated(tenant):
    session = new_session(tenant.admin)
    path = f"/api/v1/sessions/{session['id']}/messages"
    for body, field in (({"kind": "chat", "body": "   "}, "body"), ({"kind": "chat", "body": ""}, "body"),
                        ({"kind": "chat", "body": "x" * 4001}, "body"), ({"kind": "shout", "body": "x"}, "kind"),
                        ({"body": "x"}, "kind"), ({"kind": "chat", "body": "x", "extra": 1}, "extra")):
        response = tenant.admin.post(path, json=body)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, (body, response.text)
    assert tenant.admin.post(path, json={"kind": "chat", "body": "x" * 4000}).status_code == 201
    assert tenant.admin.get("/api/v1/sessions/ses_nope/messages").status_code == 404
    assert tenant.admin.get(path, params={"kind": "email"}).status_code == 422


def test_an_ended_session_takes_notes_but_not_chat(tenant):
    session = new_session(tenant.admin)
    move(tenant.admin, session["id"], "ended")
    path = f"/api/v1/sessions/{session['id']}/messages"
    chat = tenant.admin.post(path, json={"kind": "chat", "body": "anyone there?"})
    assert chat.status_code == 409 and chat.json()["error"]["code"] == "session_ended"
    assert tenant.admin.post(path, json={"kind": "note", "body": "wrote up afterwards"}).status_code == 201


def test_api_keys_post_as_system(tenant):
    machine = tenant.client().with_api_key(tenant.admin.new_api_key(name="crm bot"))
    session = new_session(tenant.admin)
    message = machine.post(f"/api/v1/sessions/{session['id']}/messages",
                           json={"kind": "chat", "body": "ticket #42 opened"}).json()
    assert message["author_type"] == "system" and message["author_name"] == "crm bot"


def test_customers_chat_but_never_see_or_write_notes(tenant):
    grace, _ = agent(tenant)
    session = new_session(grace)
    path = f"/api/v1/sessions/{session['id']}/messages"
    grace.post(path, json={"kind": "note", "body": "private"}).raise_for_status()
    grace.post(path, json={"kind": "chat", "body": "hi there"}).raise_for_status()
    customer, _ = customer_client(tenant, session["id"], {"first_name": "Ada", "last_name": "Lovelace"})
    mine = customer.post(path, json={"kind": "chat", "body": "my wifi is down"})
    assert mine.status_code == 201 and mine.json()["author_type"] == "customer"
    assert mine.json()["author_name"] == "Ada Lovelace" and mine.json()["author_id"].startswith("cus_")
    seen = customer.get(path).json()["items"]
    assert [m["body"] for m in seen] == ["hi there", "my wifi is down"]
    assert customer.get(path, params={"kind": "note"}).status_code == 403
    assert customer.get(path, params={"kind": "chat"}).status_code == 200
    assert customer.post(path, json={"kind": "note", "body": "sneaky"}).status_code == 403
    assert [m["kind"] for m in grace.get(path).json()["items"]] == ["note", "chat", "chat"]
