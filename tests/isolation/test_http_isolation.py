"""Over HTTP on tenant A's host, nothing of tenant B is reachable."""

import pytest


@pytest.fixture
def two_tenants(tenant_factory):
    return tenant_factory(), tenant_factory()


@pytest.mark.parametrize("path, body", [
    ("/api/v1/customers", {"first_name": "Bea"}),
    ("/api/v1/devices", {"model": "Pixel"}),
    ("/api/v1/sessions", {}),
])
def test_other_tenants_ids_are_404(two_tenants, path, body):
    a, b = two_tenants
    theirs = b.admin.post(path, json=body).json()["id"]
    assert a.admin.get(f"{path}/{theirs}").status_code == 404
    assert a.admin.patch(f"{path}/{theirs}", json={}).status_code == 404
    assert a.admin.delete(f"{path}/{theirs}").status_code in (404, 405)
    assert theirs not in {item["id"] for item in a.admin.get(path).json()["items"]}
    assert b.admin.get(f"{path}/{theirs}").status_code == 200


def test_other_tenants_users_and_sessions_are_404(two_tenants):
    a, b = two_tenants
    b_user = b.admin.get("/api/v1/users").json()["items"][0]["id"]
    assert a.admin.get(f"/api/v1/users/{b_user}").status_code == 404
    b_session = b.admin.post("/api/v1/sessions", json={}).json()["id"]
    assert a.admin.post(f"/api/v1/sessions/{b_session}/state", json={"state": "waiting"}).status_code == 404


def test_other_tenants_api_key_is_401(two_tenants):
    a, b = two_tenants
    key = b.admin.new_api_key()
    assert b.client().with_api_key(key).get("/api/v1/customers").status_code == 200
    assert a.client().with_api_key(key).get("/api/v1/customers").status_code == 401


def test_other_tenants_session_cookie_is_401(two_tenants):
    a, b = two_tenants
    cookie = b.admin.session.cookies.get("gp_session")
    stranger = a.client()
    stranger.session.cookies.set("gp_session", cookie)
    assert stranger.get("/api/v1/auth/me").status_code == 401


def test_cache_and_files_are_separate(two_tenants):
    a, b = two_tenants
    a_ctx, b_ctx = a.context(), b.context()
    a_ctx.cache.set("secret", b"a-only")
    assert b_ctx.cache.get("secret") is None
    info = a_ctx.files.put([b"a's file"], name="a.txt")
    with pytest.raises(FileNotFoundError):
        b"".join(b_ctx.files.open(info.id))
    assert b"".join(a_ctx.files.open(info.id)) == b"a's file"
