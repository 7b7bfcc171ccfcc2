"""The agent console's tables and the customer token, attacked from another tenant:
over HTTP nothing of tenant B is reachable from A's host, and on PostgreSQL A's own
database role is refused B's tables by the database itself."""

from __future__ import annotations

import time

import psycopg
import pytest

from console_support import customer_client, invite, new_session
from test_database_roles import _connect_as

CONSOLE_TABLES = ["session_messages", "invite_codes", "customer_tokens", "canned_responses", "session_timeline"]


@pytest.fixture
def two_tenants(tenant_factory):
    return tenant_factory(), tenant_factory()


def _b_world(b):
    session = new_session(b.admin)
    sid = session["id"]
    b.admin.post(f"/api/v1/sessions/{sid}/messages", json={"kind": "note", "body": "secret"}).raise_for_status()
    created = invite(b.admin, sid)
    canned = b.admin.post("/api/v1/canned-responses", json={"title": "t", "shortcut": "/s", "body": "b"}).json()
    return sid, created, canned


def test_another_tenants_console_objects_are_404_over_http(two_tenants):
    a, b = two_tenants
    sid, created, canned = _b_world(b)
    a_user = a.admin.get("/api/v1/me").json()["id"]
    for method, path, body in (
        ("GET", f"/api/v1/sessions/{sid}/messages", None),
        ("POST", f"/api/v1/sessions/{sid}/messages", {"kind": "chat", "body": "x"}),
        ("GET", f"/api/v1/sessions/{sid}/invites", None), ("POST", f"/api/v1/sessions/{sid}/invites", {}),
        ("GET", f"/api/v1/sessions/{sid}/timeline", None), ("GET", f"/api/v1/sessions/{sid}/queue", None),
        ("POST", f"/api/v1/sessions/{sid}/transfer", {"agent_id": a_user}),
        ("GET", f"/api/v1/canned-responses/{canned['id']}", None),
        ("PATCH", f"/api/v1/canned-responses/{canned['id']}", {"title": "pwned"}),
        ("DELETE", f"/api/v1/canned-responses/{canned['id']}", None),
    ):
        response = a.admin.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
    # Taking needs a signed-in agent (the admin here): B's session is not found either.
    assert a.admin.post(f"/api/v1/sessions/{sid}/take").status_code == 404
    assert a.admin.get("/api/v1/canned-responses").json()["items"] == []
    # B's invite code means nothing on A's host.
    assert a.client().post("/api/v1/invites/redeem", json={"code": created["code"]}).status_code == 404
    assert b.admin.get(f"/api/v1/canned-responses/{canned['id']}").json()["title"] == "t"


def test_a_customer_token_is_good_for_one_session_of_one_tenant(two_tenants):
    a, b = two_tenants
    sid, _, _ = _b_world(b)
    b_customer, _ = customer_client(b, sid)
    assert b_customer.get(f"/api/v1/sessions/{sid}").status_code == 200
    # Another session of the same tenant: refused.
    other = new_session(b.admin)
    assert b_customer.get(f"/api/v1/sessions/{other['id']}").status_code == 403
    assert b_customer.get(f"/api/v1/sessions/{other['id']}/messages").status_code == 403
    # The same token on tenant A's host: unknown there.
    stolen = a.client()
    stolen.session.headers["Authorization"] = b_customer.session.headers["Authorization"]
    a_session = new_session(a.admin)
    for path in (f"/api/v1/sessions/{sid}", f"/api/v1/sessions/{a_session['id']}",
                 f"/api/v1/sessions/{a_session['id']}/messages", "/api/v1/customers"):
        assert stolen.get(path).status_code == 401, path
    # Its notes never reach the customer.
    assert [m["kind"] for m in b_customer.get(f"/api/v1/sessions/{sid}/messages").json()["items"]] == []


def test_a_customer_token_cannot_open_the_agents_socket(two_tenants):
    _, b = two_tenants
    sid, _, _ = _b_world(b)
    b_customer, _ = customer_client(b, sid)
    # Refused before any upgrade, like any handshake the socket will not take.
    response = b_customer.get("/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                              "Sec-WebSocket-Version": "13"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


@pytest.fixture
def two_server_tenants(tenant_factory, guidepath_backend):
    if guidepath_backend != "server":
        pytest.skip("database roles exist on the server backend only")
    made = [tenant_factory() for _ in range(3)]
    containers = [t.kernel.directory.get(t.id).container_id for t in made]
    a, b = next((made[i], made[j]) for i in range(3) for j in range(i + 1, 3) if containers[i] == containers[j])
    sid, _, _ = _b_world(b)
    customer_client(b, sid)
    deadline = time.monotonic() + 60  # the timeline is written by the dispatcher
    while not b.admin.get(f"/api/v1/sessions/{sid}/timeline").json()["items"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return a, b


@pytest.mark.postgres
@pytest.mark.parametrize("table", CONSOLE_TABLES)
def test_the_tenant_role_cannot_reach_another_tenants_console_tables(two_server_tenants, table):
    a, b = two_server_tenants
    with _connect_as(b) as conn:  # B's own role sees its rows: the attack below has a target
        assert conn.execute(f'SELECT count(*) FROM "{b.id}".{table}').fetchone()[0] >= 1
    for attack in (f'SELECT * FROM "{b.id}".{table}', f'DELETE FROM "{b.id}".{table}',
                   f'ALTER TABLE "{a.id}".{table} ADD COLUMN pwned int'):
        with _connect_as(a) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(attack)
