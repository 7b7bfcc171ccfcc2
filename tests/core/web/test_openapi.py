"""``GET /api/openapi.json`` is true to the live app: every route documented, none invented.

A route added without an entry in ``core/web/openapi.py``'s ``OPERATIONS`` (or an
``openapi`` attribute on a plugin's view) makes these tests fail.
"""

from __future__ import annotations

import re
from collections import Counter

import openapi_spec_validator
import pytest
from jsonschema import Draft202012Validator

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_CONVERTER = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


@pytest.fixture
def document(tenant) -> dict:
    response = tenant.client().get("/api/openapi.json")  # public: no login needed
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def live_routes(app) -> dict[str, set[str]]:
    """``{openapi path: {lower-case methods}}`` from the app's URL map."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
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
    assert not undocumented, (
        "routes without an OPERATIONS entry in core/web/openapi.py (or an `openapi` "
        f"attribute on the view): {undocumented}"
    )


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
