"""An HTTP client bound to one tenant's host name on a live server."""

from __future__ import annotations

from typing import Any

import requests


class TenantClient:
    """``requests`` against ``http://127.0.0.1:PORT`` with ``Host: {slug}.{base}:PORT``.

    ``login()`` keeps the session cookie and sends the CSRF token on writes;
    ``with_api_key()`` returns a client that authenticates with a bearer key.
    """

    def __init__(self, server_url: str, host: str, *, api_key: str | None = None) -> None:
        self.server_url = server_url.rstrip("/")
        self.host = host
        self.session = requests.Session()
        self.session.headers["Host"] = host
        self.csrf_token: str | None = None
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {}) or {}
        if self.csrf_token and method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            headers.setdefault("X-CSRF-Token", self.csrf_token)
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.server_url + path, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def login(self, email: str, password: str) -> "TenantClient":
        response = self.post("/api/v1/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        self.csrf_token = response.json()["csrf_token"]
        return self

    def with_api_key(self, key: str) -> "TenantClient":
        return TenantClient(self.server_url, self.host, api_key=key)

    def anonymous(self) -> "TenantClient":
        return TenantClient(self.server_url, self.host)

    def new_api_key(self, name: str = "test", role: str = "admin") -> str:
        response = self.post("/api/v1/api-keys", json={"name": name, "role": role})
        response.raise_for_status()
        return response.json()["key"]
