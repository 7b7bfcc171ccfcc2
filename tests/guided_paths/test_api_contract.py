"""The Guided Paths routes keep their declarations (``@documented``).

* The query string is checked before a view runs: a parameter the route does not
  declare, or a value of the wrong type or out of its bounds, is a 422 naming it,
  and a refused write changes nothing.
* What ``GET /api/openapi.json`` says a route answers is what it answers: each
  response of a full flow is checked against the schema declared for its status.
* The fixed routes beside ``/guided-paths/{path_ref}`` (``schema``, ``import``,
  ``media``) list only their own methods.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fixtures_api import PATHS, RUNS, created, document, error, published, snapshot
from guidepath.guided_paths.tables import MAX_VERSION

MEDIA = f"{PATHS}/media"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
OURS = ("/api/v1/guided-paths", "/api/v1/runs", "/guided-paths/")


@pytest.fixture
def openapi(tenant) -> dict[str, Any]:
    return tenant.client().get("/api/openapi.json").json()


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def check_declared(openapi: dict[str, Any], method: str, template: str, response) -> None:
    """Fail unless ``response`` is one the document declares for ``method template``:
    its status is listed, with its media type, and a JSON body matches the schema."""
    responses = openapi["paths"][template][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {template} answered {status}, not declared: {sorted(responses)}"
    pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
    declared = responses[status]
    if "$ref" in declared:
        pointer = declared["$ref"].removeprefix("#")
        declared = openapi["components"]["responses"][pointer.rsplit("/", 1)[1]]
    if "content" not in declared:
        assert response.content == b"", f"{method} {template} {status} has a body it does not declare"
        return
    media_type = response.headers.get("Content-Type", "").split(";")[0]
    assert media_type in declared["content"], f"{method} {template} {status}: {media_type} not declared"
    if media_type != "application/json" or "schema" not in declared["content"][media_type]:
        return
    registry = Registry().with_resource("urn:openapi", Resource(contents=openapi, specification=DRAFT202012))
    schema_pointer = f"{pointer}/content/{_escape(media_type)}/schema"
    validator = Draft202012Validator({"$ref": f"urn:openapi#{schema_pointer}"}, registry=registry)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not problems, f"{method} {template} {status} does not match its declared schema: {problems[:5]}"


# -- the fixed routes beside /guided-paths/{path_ref} -----------------------------------


@pytest.mark.parametrize("path, allowed", [
    (f"{PATHS}/schema", {"GET", "HEAD", "OPTIONS"}),
    (f"{PATHS}/import", {"POST", "OPTIONS"}),
    (MEDIA, {"GET", "HEAD", "POST", "OPTIONS"}),
])
def test_fixed_routes_list_only_their_own_methods(tenant, path, allowed):
    response = tenant.admin.request("OPTIONS", path)
    assert response.status_code == 200
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed
    # A method of /guided-paths/{path_ref} no longer reaches it with path_ref "schema"…
    for method in {"PUT", "PATCH", "DELETE"} - allowed:
        refused = tenant.admin.request(method, path, json={})
        assert error(refused, 405)["code"] == "method_not_allowed"
        assert set(refused.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_the_words_of_fixed_routes_are_not_path_refs(tenant, openapi):
    assert tenant.admin.get(f"{PATHS}/schema/versions").status_code == 404
    assert tenant.admin.request("OPTIONS", f"{PATHS}/import/export").status_code == 404
    parameter = next(p for p in openapi["paths"][f"{PATHS}/{{path_ref}}"]["get"]["parameters"]
                     if p["name"] == "path_ref")
    assert parameter["schema"]["type"] == "string"
    assert "never import, media, schema" in parameter["schema"]["description"]
    # A path's own key still works, also one that merely starts like a fixed word.
    path = created(tenant.admin, document("schema-check"))
    assert tenant.admin.get(f"{PATHS}/schema-check").json()["id"] == path["id"]


# -- query strings --------------------------------------------------------------------


@pytest.fixture
def ids(tenant) -> dict[str, str]:
    """A published path and a run on it, for routes that need ids."""
    path = published(tenant.admin, document())
    run = tenant.admin.post(RUNS, json={"path_id": path["id"]}).json()
    return {"path": path["id"], "run": run["id"], "step": run["current_step"]}


UNDECLARED = [
    ("GET", PATHS),
    ("POST", PATHS),
    ("GET", f"{PATHS}/schema"),
    ("GET", f"{PATHS}/{{path}}"),
    ("PUT", f"{PATHS}/{{path}}"),
    ("POST", f"{PATHS}/{{path}}/publish"),
    ("GET", f"{PATHS}/{{path}}/versions/1"),
    ("DELETE", f"{PATHS}/{{path}}/versions/1"),
    ("GET", f"{PATHS}/{{path}}/export"),
    ("POST", f"{PATHS}/import"),
    ("GET", RUNS),
    ("POST", RUNS),
    ("GET", f"{RUNS}/{{run}}"),
    ("POST", f"{RUNS}/{{run}}/answers"),
    ("POST", f"{RUNS}/{{run}}/abandon"),
    ("GET", MEDIA),
    ("POST", MEDIA),
    ("GET", "/guided-paths/runs/{run}"),
    ("GET", "/guided-paths/assets/run-page.js"),
]


@pytest.mark.parametrize("method, template", UNDECLARED)
def test_an_undeclared_query_parameter_is_a_422_naming_it(tenant, ids, method, template):
    before = snapshot(tenant)
    body = {"step_id": ids["step"], "value": True} if template.endswith("/answers") else document()
    response = tenant.admin.request(method, template.format(**ids), params={"colour": "red"}, json=body)
    err = error(response, 422)
    assert err["field"] == "colour" and err["message"].startswith("unknown query parameter 'colour'")
    assert snapshot(tenant) == before


@pytest.mark.parametrize("raw", ["", "0", "-1", "1.0", "abc", "²", "draft2", str(MAX_VERSION + 1),
                                 "9223372036854775808", "1" * 5000])
def test_a_bad_version_is_a_422(tenant, ids, raw):
    err = error(tenant.admin.get(f"{PATHS}/{ids['path']}/export", params={"version": raw}), 422)
    assert err["field"] == "version"


def test_good_versions_export(tenant, ids):
    for version in ("1", "draft", None):
        response = tenant.admin.get(f"{PATHS}/{ids['path']}/export", params={"version": version})
        assert response.status_code == 200, response.text
    assert error(tenant.admin.get(f"{PATHS}/{ids['path']}/export", params={"version": "2"}), 404)["field"] == "version"
    # In the path, a version beyond the column's range matches no route.
    assert tenant.admin.get(f"{PATHS}/{ids['path']}/versions/{MAX_VERSION + 1}").status_code == 404


@pytest.mark.parametrize("template", [PATHS, f"{PATHS}/{{path}}/versions", RUNS, MEDIA])
@pytest.mark.parametrize("raw", ["0", "-1", "abc", "²", "201", "9223372036854775808"])
def test_a_bad_limit_is_a_422(tenant, ids, template, raw):
    err = error(tenant.admin.get(template.format(**ids), params={"limit": raw}), 422)
    assert err["field"] == "limit"


@pytest.mark.parametrize("path, name, raw", [
    (PATHS, "status", "deleted"),
    (RUNS, "status", "finished"),
    (RUNS, "session_id", "s" * 41),
    (MEDIA, "cursor", "c" * 201),
])
def test_bad_filters_are_422_naming_them(tenant, path, name, raw):
    assert error(tenant.admin.get(path, params={name: raw}), 422)["field"] == name


def test_publish_must_be_a_boolean_and_nothing_is_imported_otherwise(tenant):
    before = snapshot(tenant)
    err = error(tenant.admin.post(f"{PATHS}/import", params={"publish": "yes"}, json=document()), 422)
    assert err["field"] == "publish"
    assert snapshot(tenant) == before
    imported = tenant.admin.post(f"{PATHS}/import", params={"publish": "1"}, json=document())
    assert imported.status_code == 201 and imported.json()["published_version"] == 1


def test_declared_filters_still_filter(tenant, ids):
    archived = created(tenant.admin, document("old-one"))
    assert tenant.admin.post(f"{PATHS}/{archived['id']}/archive").status_code == 200
    listed = {s: [p["key"] for p in tenant.admin.get(PATHS, params={"status": s}).json()["items"]]
              for s in ("active", "archived", "all")}
    assert listed == {"active": ["check-cable"], "archived": ["old-one"], "all": ["check-cable", "old-one"]}
    live = tenant.admin.get(RUNS, params={"status": "live", "path_id": "check-cable"}).json()["items"]
    assert [r["id"] for r in live] == [ids["run"]]
    assert tenant.admin.get(RUNS, params={"status": "completed"}).json()["items"] == []
    first = tenant.admin.get(PATHS, params={"status": "all", "limit": "1"}).json()
    second = tenant.admin.get(PATHS, params={"status": "all", "limit": "1", "cursor": first["next"]}).json()
    assert [p["key"] for p in first["items"] + second["items"]] == ["check-cable", "old-one"]


# -- what the document says -------------------------------------------------------------


def operations(openapi: dict[str, Any]):
    for path, item in openapi["paths"].items():
        if path.startswith(OURS):
            for method, operation in item.items():
                yield f"{method.upper()} {path}", operation


def test_every_operation_declares_its_query_and_its_success(openapi):
    ours = dict(operations(openapi))
    assert len(ours) >= 26
    for name, operation in ours.items():
        responses = operation["responses"]
        assert "default" not in responses and "2XX" not in responses, name
        assert "422" in responses, f"{name}: no declared query (a query is checked, so 422 is listed)"
        successes = {s: r for s, r in responses.items() if s < "400"}
        assert successes or name.endswith("/versions/{version}"), name  # immutable: 405 only
        for status, response in successes.items():
            if status in ("204", "304"):
                assert "content" not in response, name
            else:
                assert all(c.get("schema") for c in response["content"].values()), f"{name} {status}"


def test_the_document_schema_is_a_component_every_document_route_refers_to(openapi):
    components = openapi["components"]["schemas"]
    assert components["GuidedPathDocument"]["required"] == ["schema_version", "id", "title", "start", "steps"]
    assert "$id" not in components["GuidedPathDocument"] and "$defs" not in components["GuidedPathDocument"]
    assert {"GuidedPathStep", "GuidedPathMessageStep", "GuidedPathText"} <= set(components)
    ref = {"$ref": "#/components/schemas/GuidedPathDocument"}
    paths = openapi["paths"]
    for path, method in [(PATHS, "post"), (f"{PATHS}/{{path_ref}}", "put"), (f"{PATHS}/import", "post")]:
        assert paths[path][method]["requestBody"]["content"]["application/json"]["schema"] == ref
    assert paths[f"{PATHS}/{{path_ref}}/export"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"] == ref
    patch = paths[f"{PATHS}/{{path_ref}}"]["patch"]["requestBody"]["content"]
    assert set(patch) == {"application/merge-patch+json"}  # application/json is accepted, undocumented


def test_business_rules_are_stated(openapi):
    paths = openapi["paths"]
    start = paths[RUNS]["post"]
    assert "exactly one of `path_id` and `path_key`" in start["description"]
    by_id, by_key = start["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert (by_id["required"], by_key["required"]) == (["path_id"], ["path_key"])
    assert "path_key" not in by_id["properties"] and "path_id" not in by_key["properties"]
    assert {"404", "409"} <= set(start["responses"]) and "201" in start["responses"]
    immutable = paths[f"{PATHS}/{{path_ref}}/versions/{{version}}"]
    for method in ("put", "patch", "delete"):
        assert "immutable" in immutable[method]["summary"] and "405" in immutable[method]["responses"]
        assert not [s for s in immutable[method]["responses"] if s.startswith("2")]
    assert immutable["get"]["parameters"][1]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}
    create = paths[PATHS]["post"]
    assert "publishing refuses them" in create["description"]
    assert "409" in create["responses"] and "key_taken" in create["description"]
    publish = paths[f"{PATHS}/{{path_ref}}/publish"]["post"]
    assert "must exist" in publish["description"] and "201" in publish["responses"]
    export = paths[f"{PATHS}/{{path_ref}}/export"]["get"]
    [version] = [p for p in export["parameters"] if p["in"] == "query"]
    assert version["schema"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}
    # Creating a path links to the operations on it.
    assert "GuidedPathsGetPath" in create["responses"]["201"]["links"]


def test_pages_and_files_have_their_own_media_types(openapi):
    paths = openapi["paths"]
    page = paths["/guided-paths/runs/{run_id}"]["get"]["responses"]
    assert set(page["200"]["content"]) == {"text/html"}
    asset = paths["/guided-paths/assets/{name}"]["get"]
    assert set(asset["responses"]["200"]["content"]) == {"text/javascript", "text/css"} and asset["security"] == []
    download = paths[f"{MEDIA}/{{file_id}}"]["get"]["responses"]
    assert set(download["200"]["content"]) == {"image/png", "image/jpeg", "image/gif", "image/webp",
                                               "video/mp4", "video/webm"}
    assert "content" not in download["304"] and {"206", "416"} <= set(download)
    upload = paths[MEDIA]["post"]
    assert upload["requestBody"]["content"]["image/png"]["schema"] == {"type": "string", "format": "binary"}
    assert {"201", "413", "415"} <= set(upload["responses"])
    assert "content" not in paths[f"{MEDIA}/{{file_id}}"]["delete"]["responses"]["204"]


def test_responses_are_what_the_document_declares(tenant, openapi):
    """A full flow through every route; each answer checked against its declaration."""
    admin = tenant.admin

    def call(method: str, template: str, status: int, *, values: dict | None = None, **kwargs):
        response = admin.request(method, template.format(**(values or {})), **kwargs)
        assert response.status_code == status, (method, template, response.status_code, response.text)
        check_declared(openapi, method, template, response)
        return response

    one = f"{PATHS}/{{path_ref}}"
    call("GET", f"{PATHS}/schema", 200)
    path = call("POST", PATHS, 201, json=document()).json()
    ref = {"path_ref": path["id"]}
    call("POST", PATHS, 409, json=document())
    call("POST", PATHS, 422, json={"id": "x"})
    call("GET", one, 200, values=ref)
    call("GET", one, 404, values={"path_ref": "no-such-path"})
    call("GET", PATHS, 200, params={"status": "all"})
    call("PUT", one, 200, values=ref, json=document(title="Check the cable again"))
    call("PATCH", one, 200, values=ref, data=b'{"title": "Patched"}',
         headers={"Content-Type": "application/merge-patch+json"})
    call("PATCH", one, 415, values=ref, data=b"{}", headers={"Content-Type": "text/plain"})
    call("POST", f"{one}/publish", 201, values=ref)
    call("POST", f"{one}/publish", 409, values=ref)
    call("GET", f"{one}/versions", 200, values=ref)
    version = f"{one}/versions/{{version}}"
    call("GET", version, 200, values={**ref, "version": 1})
    call("DELETE", version, 405, values={**ref, "version": 1})
    call("PUT", version, 404, values={**ref, "version": 7})
    call("GET", f"{one}/export", 200, values=ref, params={"version": "1"})
    call("POST", f"{PATHS}/import", 200, json=document(title="Imported"))
    call("POST", f"{PATHS}/import", 201, json=document("second"), params={"publish": "true"})

    run = call("POST", RUNS, 201, json={"path_key": "check-cable"}).json()
    call("POST", RUNS, 422, json={"path_key": "check-cable", "path_id": path["id"]})
    call("POST", RUNS, 404, json={"path_key": "nothing-here"})
    at = {"run_id": run["id"]}
    call("GET", RUNS, 200, params={"status": "live"})
    call("GET", f"{RUNS}/{{run_id}}", 200, values=at)
    call("GET", "/guided-paths/runs/{run_id}", 200, values=at)
    call("POST", f"{RUNS}/{{run_id}}/back", 409, values=at)  # nothing to undo yet
    answer = {"step_id": run["current_step"], "value": True}
    call("POST", f"{RUNS}/{{run_id}}/answers", 422, values=at, json={**answer, "value": "maybe"})
    call("POST", f"{RUNS}/{{run_id}}/answers", 200, values=at, json=answer)  # and it ends
    call("POST", f"{RUNS}/{{run_id}}/answers", 409, values=at, json=answer)
    finished = {**at, "step_id": run["current_step"]}
    call("POST", f"{RUNS}/{{run_id}}/actions/{{step_id}}", 409, values=finished, json={"ok": True, "result": {}})
    call("POST", f"{RUNS}/{{run_id}}/apps/{{step_id}}", 409, values=finished, json={"output": {}})
    other = {"run_id": call("POST", RUNS, 201, json={"path_id": path["id"]}).json()["id"]}
    call("POST", f"{RUNS}/{{run_id}}/abandon", 200, values=other)
    call("POST", f"{RUNS}/{{run_id}}/abandon", 409, values=other)
    call("POST", f"{RUNS}/{{run_id}}/handover", 409, values=other)
    call("GET", "/guided-paths/assets/{name}", 200, values={"name": "run-page.js"})

    media = call("POST", MEDIA, 201, data=PNG, headers={"Content-Type": "image/png"}, params={"name": "a.png"})
    file_ref = {"file_id": media.json()["file_id"]}
    call("POST", MEDIA, 415, data=PNG, headers={"Content-Type": "image/svg+xml"})
    call("GET", MEDIA, 200)
    whole = call("GET", f"{MEDIA}/{{file_id}}", 200, values=file_ref)
    call("GET", f"{MEDIA}/{{file_id}}", 206, values=file_ref, headers={"Range": "bytes=0-9"})
    call("GET", f"{MEDIA}/{{file_id}}", 304, values=file_ref, headers={"If-None-Match": whole.headers["ETag"]})
    call("GET", f"{MEDIA}/{{file_id}}", 416, values=file_ref, headers={"Range": "bytes=100000-"})
    call("DELETE", f"{MEDIA}/{{file_id}}", 204, values=file_ref)

    call("POST", f"{one}/archive", 200, values=ref)
    call("POST", f"{one}/archive", 409, values=ref)
    call("POST", f"{one}/restore", 200, values=ref)
