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


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(tenant):
    """Without GUIDEPATH_TRUSTED_PROXIES a client cannot claim HTTPS it did not use."""
    response = tenant.client().post("/api/v1/auth/login", headers={"X-Forwarded-Proto": "https"},
                                    json={"email": tenant.admin_email, "password": tenant.admin_password})
    assert response.status_code == 200
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_https_gives_secure_cookies_and_hsts(tenant, monkeypatch):
    import requests

    from guidepath.core.testing.live_server import LiveServer
    from guidepath.core.web.app import create_app

    kernel = tenant.kernel
    monkeypatch.setattr(kernel, "config", kernel.config.with_(trusted_proxies=1))
    server = LiveServer(create_app(kernel=kernel, start_workers=False)).start()
    try:
        url = f"http://127.0.0.1:{server.port}/api/v1/auth/login"
        host = f"{tenant.slug}.{kernel.config.base_domain}:{server.port}"
        response = requests.post(url, headers={"Host": host, "X-Forwarded-Proto": "https"}, timeout=10,
                                 json={"email": tenant.admin_email, "password": tenant.admin_password})
        assert response.status_code == 200
        assert "Secure" in response.headers["Set-Cookie"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        server.stop()


def test_a_wrong_method_is_405_with_allow_and_json(tenant):
    response = tenant.admin.request("PATCH", "/api/v1/auth/me")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Content-Type"].startswith("application/json")
    assert "GET" in {m.strip() for m in response.headers["Allow"].split(",")}
