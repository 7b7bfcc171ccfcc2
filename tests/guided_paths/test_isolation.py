"""Tenant isolation of Guided Paths: another tenant's paths and runs do not exist
for you (404), whatever you know about them, and nothing of theirs changes."""

from __future__ import annotations

from fixtures_api import PATHS, RUNS, document, error, published, snapshot



def test_another_tenants_paths_and_runs_are_not_found(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    path = published(b.admin, document())
    run = b.admin.post(RUNS, json={"path_id": path["id"]}).json()
    b_before = snapshot(b)

    attacker = a.admin
    for method, url, body in [
        ("get", f"{PATHS}/{path['id']}", None),
        ("put", f"{PATHS}/{path['id']}", document()),
        ("patch", f"{PATHS}/{path['id']}", {"title": "Owned"}),
        ("post", f"{PATHS}/{path['id']}/publish", None),
        ("post", f"{PATHS}/{path['id']}/archive", None),
        ("post", f"{PATHS}/{path['id']}/restore", None),
        ("get", f"{PATHS}/{path['id']}/versions", None),
        ("get", f"{PATHS}/{path['id']}/versions/1", None),
        ("put", f"{PATHS}/{path['id']}/versions/1", document()),
        ("get", f"{PATHS}/{path['id']}/export", None),
        ("get", f"{PATHS}/check-cable", None),
        ("get", f"{PATHS}/check-cable/export", None),
        ("get", f"{RUNS}/{run['id']}", None),
        ("post", f"{RUNS}/{run['id']}/answers", {"step_id": "ask", "value": True}),
        ("post", f"{RUNS}/{run['id']}/back", None),
        ("post", f"{RUNS}/{run['id']}/abandon", None),
        ("post", f"{RUNS}/{run['id']}/handover", None),
        ("post", f"{RUNS}/{run['id']}/actions/ask", {"result": {}}),
    ]:
        response = getattr(attacker, method)(url, **({"json": body} if body is not None else {}))
        assert response.status_code == 404, (method, url, response.status_code, response.text)

    assert error(attacker.post(RUNS, json={"path_id": path["id"]}), 404)["field"] == "path_id"
    assert error(attacker.post(RUNS, json={"path_key": "check-cable"}), 404)["field"] == "path_key"
    assert attacker.get(PATHS, params={"status": "all"}).json()["items"] == []
    assert attacker.get(RUNS).json()["items"] == []
    assert attacker.get(RUNS, params={"path_id": path["id"]}).json()["items"] == []
    assert snapshot(b) == b_before


def test_same_keys_in_two_tenants_are_independent(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    in_b = published(b.admin, document())
    changed = document(title="A's own cable check")
    in_a = published(a.admin, changed)
    assert in_a["id"] != in_b["id"]
    assert a.admin.get(f"{PATHS}/check-cable").json()["title"] == "A's own cable check"
    assert b.admin.get(f"{PATHS}/check-cable").json()["title"] == "Check the cable"
    run = a.admin.post(RUNS, json={"path_key": "check-cable"}).json()
    assert run["path_id"] == in_a["id"]


def test_credentials_of_one_tenant_do_not_work_on_another(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    published(b.admin, document())
    key = a.admin.new_api_key()
    on_b = b.client().with_api_key(key)
    assert on_b.get(PATHS).status_code == 401
    assert on_b.post(RUNS, json={"path_key": "check-cable"}).status_code == 401
    # A's session cookie sent to B's host is not a session there either.
    stolen = b.client()
    stolen.session.cookies.update(a.admin.session.cookies)
    stolen.csrf_token = a.admin.csrf_token
    assert stolen.get(PATHS).status_code == 401
