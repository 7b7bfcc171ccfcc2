"""``GET /api/openapi.json`` is true to the live app: every route documented, none invented.

A route added without a ``@documented(...)`` declaration (core/web/contract.py,
``guidepath.core.plugin_api`` for plugins) makes these tests fail. Core's routes
(core/web) are held to the full contract: every query parameter declared (and any
other refused), a schema for every success body, and the answers the server really
gives valid against those schemas.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import openapi_spec_validator
import pytest
from jsonschema import Draft202012Validator

from guidepath.core.web.app import CORE_BLUEPRINTS
from guidepath.core.web.contract import is_page, operation_of

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_CONVERTER = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


@pytest.fixture
def document(tenant) -> dict:
    response = tenant.client().get("/api/openapi.json")  # public: no login needed
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def live_routes(app) -> dict[str, set[str]]:
    """``{openapi path: {lower-case methods}}`` from the app's URL map (browser pages,
    declared with ``@page``, are not API operations)."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or is_page(app.view_functions.get(rule.endpoint)):
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        methods = {m.lower() for m in (rule.methods or set())} - {"head", "options"}
        routes.setdefault(path, set()).update(methods)
    return routes


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def test_document_is_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"]
    assert "Error" in document["components"]["schemas"]


def test_every_live_route_is_in_the_document_with_its_methods(document, guidepath_app):
    live = live_routes(guidepath_app)
    documented = {path: {m for m in item if m in HTTP_METHODS} for path, item in document["paths"].items()}
    missing = {p: sorted(m - documented.get(p, set())) for p, m in live.items() if m - documented.get(p, set())}
    assert not missing, f"routes missing from the document: {missing}"
    invented = {p: sorted(m - live.get(p, set())) for p, m in documented.items() if m - live.get(p, set())}
    assert not invented, f"the document lists routes the app does not have: {invented}"
    assert set(documented) == set(live)


def test_no_operation_is_undocumented(document):
    undocumented = [f"{method.upper()} {path} ({op.get('operationId')})"
                    for path, method, op in operations(document)
                    if not op.get("summary") or op["summary"] == "(undocumented)"]
    assert not undocumented, f"routes without a @documented(...) declaration: {undocumented}"


def test_operation_ids_are_unique_and_path_parameters_declared(document):
    ids = Counter(op["operationId"] for _path, _method, op in operations(document))
    assert not [i for i, n in ids.items() if n > 1], ids
    for path, method, op in operations(document):
        in_path = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
        assert in_path == declared, f"{method.upper()} {path}: parameters {declared} != {in_path}"
        assert all(p.get("required") is True for p in op.get("parameters", []) if p.get("in") == "path")


def test_request_bodies_are_valid_json_schemas(document):
    checked = 0
    for path, method, op in operations(document):
        body = op.get("requestBody")
        if body is None:
            continue
        assert body.get("content"), f"{method.upper()} {path}: requestBody without content"
        for media_type, content in body["content"].items():
            schema = content.get("schema")
            assert isinstance(schema, dict), f"{method.upper()} {path} {media_type}: no schema"
            Draft202012Validator.check_schema(schema)
            checked += 1
    assert checked >= 5  # login, users, customers, devices, sessions… all have bodies


def test_component_schemas_are_valid_json_schemas(document):
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_document_passes_openapi_spec_validator(document):
    openapi_spec_validator.validate(document)  # a test dependency (pyproject.toml): never skipped


def test_servers_are_where_the_client_reached_the_api(tenant, document):
    port = tenant.server.port
    here, template = document["servers"]
    # The scheme, host and port of this request, as the client used them.
    assert here["url"] == f"http://{tenant.slug}.localhost:{port}"
    # Any account: the same scheme and port, the account's slug as a variable.
    assert template["url"] == f"http://{{tenant}}.localhost:{port}"
    assert template["variables"]["tenant"]["default"] == tenant.slug
    assert template["url"].format(tenant=tenant.slug) == here["url"]


def test_servers_follow_the_host_header_not_a_guess(tenant):
    # No port in Host (a proxy on port 80): none in the document either.
    no_port = tenant.client().get("/api/openapi.json", headers={"Host": f"{tenant.slug}.localhost"})
    assert no_port.status_code == 200, no_port.text
    assert [s["url"] for s in no_port.json()["servers"]] == [
        f"http://{tenant.slug}.localhost", "http://{tenant}.localhost"]
    # trusted_proxies is 0 here: a client claiming HTTPS is not believed.
    claimed = tenant.client().get("/api/openapi.json", headers={"X-Forwarded-Proto": "https"})
    assert claimed.json()["servers"][0]["url"] == f"http://{tenant.host}"


# -- core's routes: the full contract ------------------------------------------------------

#: Blueprints of core/web: its API areas, the document itself and the WebSocket.
CORE = {bp.name for bp in CORE_BLUEPRINTS} | {"openapi", "__flask_sock"}
#: Success statuses that carry no body.
NO_BODY = {"101", "204"}


def core_operations(document: dict):
    for path, method, op in operations(document):
        if op["operationId"].split(".")[0] in CORE:
            yield path, method, op


def core_views(app) -> dict[str, Any]:
    return {endpoint: view for endpoint, view in app.view_functions.items() if endpoint.split(".")[0] in CORE}


def response_schema(document: dict, path: str, method: str, status: int) -> dict:
    response = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_core_has_no_undocumented_or_legacy_view(guidepath_app):
    views = core_views(guidepath_app)
    assert len(views) >= 40  # every core route: auth, users, keys, records, sessions, …, /ws, this document
    missing = sorted(e for e, view in views.items() if operation_of(view) is None)
    assert not missing, f"core views without @documented(...): {missing}"
    unchecked = sorted(e for e, view in views.items() if operation_of(view).query is None)
    assert not unchecked, f"core views that do not declare their query parameters (query=[...]): {unchecked}"


def test_every_core_operation_documents_its_success_body(document):
    checked = 0
    for path, method, op in core_operations(document):
        successes = {status: r for status, r in op["responses"].items() if status[0] in "12"}
        assert successes, f"{method.upper()} {path}: no success response"
        assert "default" not in op["responses"] and "2XX" not in op["responses"], f"{method.upper()} {path}"
        for status, response in successes.items():
            if status in NO_BODY:
                assert "content" not in response, f"{method.upper()} {path} {status} documents a body"
                continue
            schema = response["content"]["application/json"].get("schema")
            assert schema and (schema.get("properties") or schema.get("type")), (
                f"{method.upper()} {path} {status}: no schema for the success body")
            Draft202012Validator.check_schema(schema)
            checked += 1
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert "$ref" in response or response["content"]["application/json"]["schema"], (method, path)
    assert checked >= 30


def test_core_operations_document_their_query_parameters(document, guidepath_app):
    views = core_views(guidepath_app)
    for path, method, op in core_operations(document):
        endpoint = op["operationId"] if op["operationId"] in views else op["operationId"].rsplit(".", 1)[0]
        declared = operation_of(views[endpoint])
        in_query = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
        assert set(in_query) == {p.name for p in declared.query}, f"{method.upper()} {path}"
        for param in in_query.values():
            schema = param["schema"]
            if schema.get("type") == "integer":
                assert "minimum" in schema and "maximum" in schema, f"{method.upper()} {path} ?{param['name']}"
        if "422" in op["responses"] or not in_query:
            continue
        pytest.fail(f"{method.upper()} {path} takes a query but does not document its 422")
    sessions = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/sessions"]["get"]["parameters"]}
    assert sessions["limit"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert sessions["since"]["format"] == sessions["until"]["format"] == "date-time"
    assert set(sessions["state"]["enum"]) == {"live", "created", "waiting", "active", "ended"}
    for paginated in ("/api/v1/customers", "/api/v1/devices", "/api/v1/users", "/api/v1/api-keys",
                      "/api/v1/audit-log"):
        assert {"limit", "cursor"} <= {p["name"] for p in document["paths"][paginated]["get"]["parameters"]}
        assert set(response_schema(document, paginated, "get", 200)["required"]) == {"items", "next"}
    audit_cursor = {p["name"]: p for p in document["paths"]["/api/v1/audit-log"]["get"]["parameters"]}["cursor"]
    assert audit_cursor["schema"]["maximum"] == 2**31 - 1  # audit_log.seq is int4 on PostgreSQL


def test_core_operations_state_their_rules(document):
    paths = document["paths"]
    for path in ("/healthz", "/readyz", "/api/openapi.json", "/api/v1/auth/login"):
        assert paths[path][next(iter(paths[path]))]["security"] == [], path  # public
    assert "security" not in paths["/api/v1/customers"]["get"]  # the document's default: key or cookie
    assert {"401", "429"} <= set(paths["/api/v1/auth/login"]["post"]["responses"])
    assert "409" in paths["/api/v1/sessions/{session_id}/state"]["post"]["responses"]
    assert {"404", "409", "503"} <= set(paths["/api/v1/sessions/{session_id}/relay-tickets"]["post"]["responses"])
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert response_schema(document, "/readyz", "get", 503) == response_schema(document, "/readyz", "get", 200)
    for path in ("/api/v1/users", "/api/v1/users/{user_id}"):  # duplicate email, the last admin
        assert all("409" in op["responses"] for m, op in paths[path].items() if m != "get"), path
    # No body is the same as {} (issue 9: the spec said "required" while no body was a 201).
    assert paths["/api/v1/sessions"]["post"]["requestBody"]["required"] is False
    assert paths["/api/v1/customers"]["post"]["requestBody"]["required"] is True
    assert "revoked" in paths["/api/v1/api-keys/{key_id}"]["get"]["description"]
    for path, method in (("/api/v1/customers/{record_id}", "delete"), ("/api/v1/users/{user_id}", "delete"),
                         ("/api/v1/api-keys/{key_id}", "delete"), ("/api/v1/auth/logout", "post")):
        assert [s for s in paths[path][method]["responses"] if s[0] == "2"] == ["204"], (method, path)
    created = paths["/api/v1/customers"]["post"]["responses"]["201"]
    assert {"CustomersGetRecord", "CustomersDeleteRecord"} <= set(created["links"])
    ws = paths["/ws"]["get"]
    assert "101" in ws["responses"] and {"401", "403"} <= set(ws["responses"])
    assert {"Upgrade", "Sec-WebSocket-Key"} <= {p["name"] for p in ws["parameters"] if p["in"] == "header"}


def test_core_schemas_name_the_objects_fields(document):
    """DESIGN.md, Public contract: snake_case fields and string ids."""
    def fields(path: str, method: str = "get", status: int = 200) -> set[str]:
        return set(response_schema(document, path, method, status)["properties"])

    assert fields("/api/v1/customers/{record_id}") == {
        "id", "email", "first_name", "last_name", "phone", "created_at", "updated_at"}
    assert fields("/api/v1/devices/{record_id}") == {
        "id", "customer_id", "manufacturer", "brand", "model", "os_name", "os_version", "memory_bytes",
        "processor", "device_name", "serial_number", "extra", "created_at", "updated_at"}
    session = fields("/api/v1/sessions/{session_id}")
    assert {"customer_id", "device_id", "agent_id", "state", "resolution", "created_at", "ended_at",
            "capabilities"} <= session
    assert "key" in fields("/api/v1/api-keys", "post", 201) and "key" not in fields("/api/v1/api-keys/{key_id}")
    items = response_schema(document, "/api/v1/sessions", "get", 200)["properties"]["items"]["items"]
    assert items["properties"]["id"]["type"] == "string"
    for path, method, op in core_operations(document):
        for status, response in op["responses"].items():
            for content in response.get("content", {}).values():
                for name in _property_names(content.get("schema", {})):
                    assert re.fullmatch(r"[a-z][a-z0-9_]*", name), f"{method.upper()} {path} {status}: {name}"


def _property_names(schema: Any):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            if key not in ("examples", "default", "const", "enum"):
                yield from _property_names(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _property_names(item)


def test_documented_examples_are_valid(document):
    for path, method, op in core_operations(document):
        schemas = [c["schema"] for c in op.get("requestBody", {}).get("content", {}).values()]
        schemas += [c["schema"] for r in op["responses"].values() for c in r.get("content", {}).values()
                    if "schema" in c]
        for schema in schemas:
            for example in schema.get("examples", []):
                validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
                errors = [e.message for e in validator.iter_errors(example)]
                assert not errors, f"{method.upper()} {path}: example {example}: {errors}"


def test_core_answers_match_their_documented_schemas(tenant, document):
    """The schemas are true: what core answers validates against them."""
    admin = tenant.admin
    answers: list[tuple[str, str, int, Any]] = []

    def call(method: str, path: str, template: str | None = None, **kwargs: Any) -> Any:
        response = admin.request(method, path, **kwargs)
        assert response.status_code < 300, (method, path, response.text)
        answers.append((method.lower(), template or path, response.status_code,
                        response.json() if response.content else None))
        return answers[-1][3]

    customer = call("POST", "/api/v1/customers", json={"first_name": "Ada", "email": "ada@example.com"})
    cid = customer["id"]
    call("GET", f"/api/v1/customers/{cid}", "/api/v1/customers/{record_id}")
    call("PATCH", f"/api/v1/customers/{cid}", "/api/v1/customers/{record_id}", json={"phone": "+44 20 7946 0958"})
    call("PUT", f"/api/v1/customers/{cid}", "/api/v1/customers/{record_id}", json={"last_name": "Lovelace"})
    call("GET", "/api/v1/customers")
    device = call("POST", "/api/v1/devices", json={"customer_id": cid, "model": "Pixel 8", "memory_bytes": 8 << 30,
                                                    "extra": {"carrier": "x"}})
    call("GET", "/api/v1/devices", params={"limit": 1})
    session = call("POST", "/api/v1/sessions")  # no body at all
    call("POST", "/api/v1/sessions", json={"customer_id": cid, "device_id": device["id"]})
    sid = session["id"]
    call("GET", f"/api/v1/sessions/{sid}", "/api/v1/sessions/{session_id}")
    call("PATCH", f"/api/v1/sessions/{sid}", "/api/v1/sessions/{session_id}", json={"customer_id": cid})
    call("POST", f"/api/v1/sessions/{sid}/state", "/api/v1/sessions/{session_id}/state", json={"state": "ended",
                                                                                              "resolution": "ok"})
    call("GET", "/api/v1/sessions", params={"state": "live", "since": "2020-01-01T00:00:00Z", "limit": 1})
    user = call("POST", "/api/v1/users", json={"email": "grace@example.com", "role": "agent",
                                                "password": "a long enough password"})
    call("GET", f"/api/v1/users/{user['id']}", "/api/v1/users/{user_id}")
    call("PATCH", f"/api/v1/users/{user['id']}", "/api/v1/users/{user_id}", json={"name": "Grace"})
    call("GET", "/api/v1/users")
    key = call("POST", "/api/v1/api-keys", json={"name": "crm"})
    call("DELETE", f"/api/v1/api-keys/{key['id']}", "/api/v1/api-keys/{key_id}")
    call("GET", f"/api/v1/api-keys/{key['id']}", "/api/v1/api-keys/{key_id}")  # revoked, still readable
    call("GET", "/api/v1/api-keys")
    call("GET", "/api/v1/audit-log", params={"limit": 2})
    call("GET", "/api/v1/plugins")
    call("GET", "/api/v1/plugins/diagnostics", "/api/v1/plugins/{name}")
    call("PUT", "/api/v1/plugins/diagnostics", "/api/v1/plugins/{name}", json={"enabled": True})
    call("GET", "/api/v1/events/types")
    call("GET", "/api/v1/auth/me")
    call("GET", "/healthz")
    call("GET", "/readyz")
    call("GET", "/api/openapi.json")
    call("DELETE", f"/api/v1/users/{user['id']}", "/api/v1/users/{user_id}")
    call("DELETE", f"/api/v1/customers/{cid}", "/api/v1/customers/{record_id}")
    login = tenant.client().post("/api/v1/auth/login", json={"email": tenant.admin_email,
                                                             "password": tenant.admin_password})
    answers.append(("post", "/api/v1/auth/login", login.status_code, login.json()))

    for method, path, status, body in answers:
        responses = document["paths"][path][method]["responses"]
        assert str(status) in responses, (method, path, status)
        if body is None:
            assert status == 204 and "content" not in responses[str(status)], (method, path)
            continue
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in
                  Draft202012Validator(response_schema(document, path, method, status),
                                       format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(body)]
        assert not errors, f"{method.upper()} {path} {status}: {errors}"


# -- query strings are checked against the declarations -------------------------------------

def _error(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["field"] == field, body
    return body


def test_an_undeclared_query_parameter_is_a_422_naming_it(tenant):
    admin = tenant.admin
    customer = admin.post("/api/v1/customers", json={}).json()
    session = admin.post("/api/v1/sessions", json={}).json()
    for method, path in (
        ("GET", "/api/v1/customers"),
        ("GET", f"/api/v1/customers/{customer['id']}"),
        ("DELETE", f"/api/v1/customers/{customer['id']}"),
        ("POST", "/api/v1/sessions"),
        ("POST", f"/api/v1/sessions/{session['id']}/state"),
        ("GET", "/api/v1/audit-log"),
        ("GET", "/api/v1/plugins"),
        ("GET", "/api/v1/auth/me"),
    ):  # /ws: tests/core/web/test_ws.py (a plain GET is not a WebSocket handshake: 400)
        body = _error(admin.request(method, path, params={"colour": "red"}, json={"state": "waiting"}), 422, "colour")
        assert "colour" in body["message"] and "allowed" in body["message"], (method, path)
    # Refused before the view ran: nothing was deleted, created or moved.
    assert admin.get(f"/api/v1/customers/{customer['id']}").status_code == 200
    assert admin.get(f"/api/v1/sessions/{session['id']}").json()["state"] == "created"
    assert len(admin.get("/api/v1/sessions").json()["items"]) == 1
    _error(tenant.client().get("/healthz", params={"verbose": "1"}), 422, "verbose")  # public routes too
    # Authentication still comes first on routes that need it.
    assert tenant.client().get("/api/v1/customers", params={"colour": "red"}).status_code == 401


@pytest.mark.parametrize("params, field", [
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "²"}, "limit"),
    ({"since": "garbage"}, "since"),
    ({"until": "2026-13-01"}, "until"),
    ({"state": "flying"}, "state"),
    ({"agent": "u" * 41}, "agent"),
    ({"cursor": "c" * 201}, "cursor"),
])
def test_session_list_parameters_out_of_their_bounds_are_422(tenant, params, field):
    _error(tenant.admin.get("/api/v1/sessions", params=params), 422, field)


def test_session_list_parameters_within_their_bounds(tenant):
    admin = tenant.admin
    for params in ({"limit": "1"}, {"limit": "200"}, {"since": "2026-01-31T12:00:00Z"},
                   {"until": "2026-01-31T12:00:00"}, {"state": "live"}, {"agent": "usr_x"}, {"cursor": ""}):
        response = admin.get("/api/v1/sessions", params=params)
        assert response.status_code == 200, (params, response.text)
    # An empty value is absent only where "" is a valid value (a plain string, as the
    # cursor); for an enum, a number or a date-time it is invalid like any other.
    for name in ("state", "limit", "since", "until"):
        response = admin.get("/api/v1/sessions", params={name: ""})
        assert response.status_code == 422 and response.json()["error"]["field"] == name, response.text


def test_routes_a_customer_may_call_name_the_customer_token(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["customerToken"] == {**schemes["customerToken"], "type": "http", "scheme": "bearer"}
    customer_routes = sorted(
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method, op in item.items()
        if {"customerToken": []} in op.get("security", []))
    assert customer_routes == [
        "GET /api/v1/sessions/{session_id}", "GET /api/v1/sessions/{session_id}/messages",
        "GET /api/v1/sessions/{session_id}/queue", "POST /api/v1/sessions/{session_id}/messages",
    ]
