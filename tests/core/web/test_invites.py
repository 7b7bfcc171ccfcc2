"""Invite codes and the customer token they are redeemed for."""

from __future__ import annotations

import re
import threading

from sqlalchemy import text

from console_support import agent, customer_client, invite, move, new_session

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def _redeem(tenant, code, **body):
    return tenant.client().post("/api/v1/invites/redeem", json={"code": code, **body})


def test_an_invite_is_shown_once_and_stored_hashed(tenant):
    session = new_session(tenant.admin)
    created = invite(tenant.admin, session["id"])
    assert created["id"].startswith("inv_") and CODE.fullmatch(created["code"]), created
    assert created["url"] == f"http://{tenant.host}/join/{created['code']}"
    assert created["session_id"] == session["id"] and created["used_at"] is None
    listed = tenant.admin.get(f"/api/v1/sessions/{session['id']}/invites").json()["items"]
    assert [i["id"] for i in listed] == [created["id"]] and "code" not in listed[0]
    with tenant.context().engine.connect() as conn:
        stored = conn.execute(text("SELECT code_hash FROM invite_codes")).scalar_one()
    assert created["code"].replace("-", "") not in stored and len(stored) == 64


def test_redeeming_joins_the_customer_and_moves_the_session_to_waiting(tenant):
    session = new_session(tenant.admin)
    code = invite(tenant.admin, session["id"])["code"]
    sloppy = code.replace("-", "").lower()  # any case, no dash
    response = _redeem(tenant, sloppy, customer={"first_name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["session_id"] == session["id"] and answer["token"].startswith("gpc_") and answer["expires_at"]
    now = tenant.admin.get(f"/api/v1/sessions/{session['id']}", params={"expand": "customer"}).json()
    assert now["state"] == "waiting" and now["waiting_since"]
    assert now["customer"]["name"] == "Ada" and now["customer"]["email"] == "ada@example.com"
    with tenant.context().engine.connect() as conn:
        types = [r[0] for r in conn.execute(text("SELECT type FROM event_outbox ORDER BY seq"))]
        tokens = conn.execute(text("SELECT token_hash FROM customer_tokens")).scalars().all()
    assert types[-3:] == ["customer.created", "session.state_changed", "session.customer_joined"]
    assert answer["token"] not in tokens and len(tokens) == 1
    listed = tenant.admin.get(f"/api/v1/sessions/{session['id']}/invites").json()["items"]
    assert listed[0]["used_at"] is not None


def test_an_existing_customer_is_kept(tenant):
    customer = tenant.admin.post("/api/v1/customers", json={"first_name": "Bea"}).json()
    session = new_session(tenant.admin, customer_id=customer["id"])
    _, answer = customer_client(tenant, session["id"], {"first_name": "Mallory"})
    assert tenant.admin.get(f"/api/v1/sessions/{session['id']}").json()["customer_id"] == customer["id"]


def test_codes_are_single_use_even_when_raced(tenant):
    session = new_session(tenant.admin)
    code = invite(tenant.admin, session["id"])["code"]
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(_redeem(tenant, code).status_code))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409, 409, 409]
    again = _redeem(tenant, code)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invite_used"


def test_unknown_expired_and_ended(tenant):
    session = new_session(tenant.admin)
    unknown = _redeem(tenant, "ZZZZ-ZZZZ")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "invite_not_found"
    assert _redeem(tenant, "not a code").json()["error"]["code"] == "invite_not_found"
    code = invite(tenant.admin, session["id"], expires_in_seconds=60)["code"]
    with tenant.context().engine.begin() as conn:
        conn.execute(text("UPDATE invite_codes SET expires_at = created_at"))
    expired = _redeem(tenant, code)
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "invite_expired"
    assert tenant.admin.post(f"/api/v1/sessions/{session['id']}/invites",
                             json={"expires_in_seconds": 10}).status_code == 422
    move(tenant.admin, session["id"], "ended")
    ended = tenant.admin.post(f"/api/v1/sessions/{session['id']}/invites")
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "session_ended"


def test_guessing_is_rate_limited(tenant):
    for _ in range(10):
        assert _redeem(tenant, "ZZZZ-ZZZZ").status_code == 404
    session = new_session(tenant.admin)
    code = invite(tenant.admin, session["id"])["code"]
    limited = _redeem(tenant, code)  # even the right code, until the minute ends
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_the_customer_token_opens_its_session_chat_and_queue_only(tenant):
    grace, _ = agent(tenant, "Grace Hopper")
    session = new_session(grace)
    other = new_session(grace)
    customer, _ = customer_client(tenant, session["id"])
    view = customer.get(f"/api/v1/sessions/{session['id']}")
    assert view.status_code == 200
    assert set(view.json()) == {"id", "state", "created_at", "ended_at", "agent_name"}
    assert view.json()["state"] == "waiting" and view.json()["agent_name"] is None
    grace.post(f"/api/v1/sessions/{session['id']}/take").raise_for_status()
    assert customer.get(f"/api/v1/sessions/{session['id']}").json()["agent_name"] == "Grace Hopper"
    assert customer.get(f"/api/v1/sessions/{session['id']}/queue").json()["state"] == "active"
    assert customer.get(f"/api/v1/sessions/{session['id']}", params={"expand": "agent"}).status_code == 403
    forbidden = [
        ("GET", f"/api/v1/sessions/{other['id']}"), ("GET", f"/api/v1/sessions/{other['id']}/messages"),
        ("POST", f"/api/v1/sessions/{other['id']}/messages"), ("GET", f"/api/v1/sessions/{other['id']}/queue"),
        ("GET", "/api/v1/sessions"), ("POST", "/api/v1/sessions"), ("GET", "/api/v1/customers"),
        ("GET", "/api/v1/users"), ("GET", "/api/v1/me"), ("GET", "/api/v1/auth/me"),
        ("POST", f"/api/v1/sessions/{session['id']}/state"), ("POST", f"/api/v1/sessions/{session['id']}/take"),
        ("PATCH", f"/api/v1/sessions/{session['id']}"), ("GET", f"/api/v1/sessions/{session['id']}/timeline"),
        ("GET", f"/api/v1/sessions/{session['id']}/invites"), ("POST", f"/api/v1/sessions/{session['id']}/invites"),
        ("POST", f"/api/v1/sessions/{session['id']}/relay-tickets"), ("GET", "/api/v1/canned-responses"),
        ("GET", "/api/v1/api-keys"), ("GET", "/api/v1/plugins"), ("GET", "/api/v1/audit-log"),
    ]
    for method, path in forbidden:
        response = customer.request(method, path, json={"kind": "chat", "body": "x", "state": "ended"})
        assert response.status_code == 403, (method, path, response.status_code, response.text)


def test_a_bad_or_expired_customer_token_is_401(tenant):
    session = new_session(tenant.admin)
    customer, _ = customer_client(tenant, session["id"])
    with tenant.context().engine.begin() as conn:
        conn.execute(text("UPDATE customer_tokens SET expires_at = created_at"))
    assert customer.get(f"/api/v1/sessions/{session['id']}").status_code == 401
    stranger = tenant.client()
    stranger.session.headers["Authorization"] = "Bearer gpc_madeup"
    assert stranger.get(f"/api/v1/sessions/{session['id']}").status_code == 401
