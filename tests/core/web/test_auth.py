"""Logins, lockout, CSRF on cookie sessions, API keys."""


def test_login_returns_csrf_and_cookie(tenant):
    client = tenant.client()
    response = client.post("/api/v1/auth/login", json={"email": tenant.admin_email, "password": tenant.admin_password})
    assert response.status_code == 200
    body = response.json()
    assert body["csrf_token"] and body["user"]["role"] == "admin"
    assert "password_hash" not in body["user"]
    cookie = response.headers["Set-Cookie"]
    assert "gp_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_email_look_the_same(tenant):
    client = tenant.client()
    wrong = client.post("/api/v1/auth/login", json={"email": tenant.admin_email, "password": "nope-nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "who@example.com", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_lockout_after_repeated_failures(tenant):
    client = tenant.client()
    for _ in range(tenant.kernel.config.login_max_failures):
        assert client.post("/api/v1/auth/login",
                           json={"email": tenant.admin_email, "password": "wrong-password!"}).status_code == 401
    locked = client.post("/api/v1/auth/login", json={"email": tenant.admin_email, "password": tenant.admin_password})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked"


def test_cookie_writes_need_the_csrf_token(tenant):
    admin = tenant.admin
    token = admin.csrf_token
    admin.csrf_token = None
    refused = admin.post("/api/v1/customers", json={"first_name": "Eve"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    admin.csrf_token = token
    assert admin.post("/api/v1/customers", json={"first_name": "Eve"}).status_code == 201
    assert admin.get("/api/v1/customers").json()["items"][0]["first_name"] == "Eve"


def test_logout_ends_the_session(tenant):
    admin = tenant.client().login(tenant.admin_email, tenant.admin_password)
    token = admin.session.cookies.get("gp_session")
    response = admin.post("/api/v1/auth/logout")
    assert response.status_code == 204 and response.content == b""  # as documented: no body, no type
    assert "Content-Type" not in response.headers
    assert "gp_session=;" in response.headers["Set-Cookie"]  # the browser forgets it
    assert admin.get("/api/v1/auth/me").status_code == 401
    replayed = tenant.client()
    replayed.session.cookies.set("gp_session", token)  # and the server forgot it too
    assert replayed.get("/api/v1/auth/me").status_code == 401


def test_logout_everywhere_ends_every_session_of_the_user_only(tenant):
    laptop = tenant.client().login(tenant.admin_email, tenant.admin_password)
    phone = tenant.client().login(tenant.admin_email, tenant.admin_password)
    tenant.admin.post("/api/v1/users", json={"email": "other@example.com", "password": "pw-other-123456",
                                            "role": "agent"}).raise_for_status()
    other = tenant.client().login("other@example.com", "pw-other-123456")
    assert laptop.post("/api/v1/auth/logout", json={"everywhere": True}).status_code == 204
    assert laptop.get("/api/v1/auth/me").status_code == 401
    assert phone.get("/api/v1/auth/me").status_code == 401  # signed out there too
    assert other.get("/api/v1/auth/me").status_code == 200  # another user is not


def test_logout_refuses_an_unknown_field(tenant):
    admin = tenant.client().login(tenant.admin_email, tenant.admin_password)
    response = admin.post("/api/v1/auth/logout", json={"everywere": True})
    assert response.status_code == 422 and response.json()["error"]["field"] == "everywere"
    assert admin.get("/api/v1/auth/me").status_code == 200  # nothing happened


def test_api_key_shown_once_hashed_and_revocable(tenant):
    created = tenant.admin.post("/api/v1/api-keys", json={"name": "crm sync", "role": "agent"})
    assert created.status_code == 201
    key, key_id = created.json()["key"], created.json()["id"]
    listed = tenant.admin.get("/api/v1/api-keys").json()["items"]
    assert [k["id"] for k in listed] == [key_id] and "key" not in listed[0]
    machine = tenant.client().with_api_key(key)
    assert machine.get("/api/v1/customers").status_code == 200
    assert machine.post("/api/v1/users", json={"email": "x@example.com", "role": "agent",
                                               "password": "long-enough-pw"}).status_code == 403
    with tenant.context().engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text("SELECT key_hash FROM api_keys")).scalar_one()
    assert key not in stored and len(stored) == 64
    assert tenant.admin.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    assert machine.get("/api/v1/customers").status_code == 401


def test_api_key_records_when_it_was_last_used(tenant):
    created = tenant.admin.post("/api/v1/api-keys", json={"name": "reporting"}).json()
    assert created["last_used_at"] is None
    machine = tenant.client().with_api_key(created["key"])
    assert machine.get("/api/v1/customers").status_code == 200
    assert tenant.admin.get(f"/api/v1/api-keys/{created['id']}").json()["last_used_at"] is not None


def test_a_key_revoked_on_another_node_stops_working_within_the_cache_time(tenant):
    """Another node's revoke is a database change this node has not seen; its cached
    check may be reused for at most ``credential_cache_seconds``."""
    import time

    from sqlalchemy import text

    created = tenant.admin.post("/api/v1/api-keys", json={"name": "elsewhere"}).json()
    machine = tenant.client().with_api_key(created["key"])
    assert machine.get("/api/v1/customers").status_code == 200  # now cached on this node
    with tenant.context().begin() as conn:  # what another node's DELETE does
        conn.execute(text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE id = :id"),
                     {"id": created["id"]})
    deadline = time.monotonic() + tenant.kernel.config.credential_cache_seconds + 2.0
    while machine.get("/api/v1/customers").status_code == 200:
        assert time.monotonic() < deadline, "a revoked key still works after the cache time"
        time.sleep(0.2)
    assert machine.get("/api/v1/customers").status_code == 401


def test_unknown_and_malformed_keys_are_refused(tenant):
    assert tenant.client().with_api_key("gpk_" + "x" * 43).get("/api/v1/customers").status_code == 401
    refused = tenant.client().get("/api/v1/customers", headers={"Authorization": "Basic abc"})
    assert refused.status_code == 401 and "Bearer" in refused.json()["error"]["message"]


def test_agents_cannot_do_admin_things(tenant):
    tenant.admin.post("/api/v1/users", json={"email": "agent@example.com", "role": "agent",
                                             "password": "agent-password-1"}).raise_for_status()
    agent = tenant.client().login("agent@example.com", "agent-password-1")
    assert agent.post("/api/v1/api-keys", json={"name": "x"}).status_code == 403
    assert agent.put("/api/v1/plugins/anything", json={"enabled": True}).status_code == 403
    assert agent.get("/api/v1/customers").status_code == 200


def test_admin_actions_are_audited(tenant):
    user = tenant.admin.post("/api/v1/users", json={"email": "new@example.com", "role": "agent",
                                                    "password": "agent-password-1"}).json()
    tenant.admin.patch(f"/api/v1/users/{user['id']}", json={"password": "another-password-2"}).raise_for_status()
    log = tenant.admin.get("/api/v1/audit-log").json()["items"]
    assert [e["action"] for e in log[:2]] == ["user.updated", "user.created"]
    assert log[0]["details"] == {"fields": ["password"]} and log[0]["target"] == user["id"]
    assert log[0]["actor"].startswith("user:")
    agent = tenant.client().login("new@example.com", "another-password-2")
    assert agent.get("/api/v1/audit-log").status_code == 403
