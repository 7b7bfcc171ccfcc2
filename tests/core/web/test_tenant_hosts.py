"""A request's tenant comes from its host name, and only from there."""

import requests


def test_unknown_host_is_404_with_no_data(guidepath_server):
    response = requests.get(guidepath_server.url + "/api/v1/sessions",
                            headers={"Host": f"nobody.localhost:{guidepath_server.port}"}, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "not found", "field": None}}


def test_bare_base_domain_and_deep_hosts_have_no_tenant(guidepath_server, tenant):
    for host in ("localhost", f"x.{tenant.slug}.localhost", "127.0.0.1"):
        response = requests.get(guidepath_server.url + "/api/v1/auth/me",
                                headers={"Host": f"{host}:{guidepath_server.port}"}, timeout=10)
        assert response.status_code == 404, host


def test_suspended_tenant_is_403_until_resumed(tenant):
    from guidepath.core.tenancy.service import TenantService

    assert tenant.admin.get("/api/v1/auth/me").status_code == 200
    service = TenantService(tenant.kernel)
    service.suspend(tenant.slug)
    response = tenant.admin.get("/api/v1/auth/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_suspended"
    service.resume(tenant.slug)
    assert tenant.admin.get("/api/v1/auth/me").status_code == 200


def test_health_answers_on_any_host(guidepath_server):
    response = requests.get(guidepath_server.url + "/healthz", timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    ready = requests.get(guidepath_server.url + "/readyz", timeout=30)
    assert ready.status_code == 200, ready.json()
    assert all(check["ok"] for check in ready.json()["checks"].values())


def test_security_headers(tenant):
    response = tenant.admin.get("/api/v1/auth/me")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
