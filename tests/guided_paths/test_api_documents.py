"""Guided Path documents over HTTP: drafts, publishing, immutable versions, archive,
import/export — and bad input that is refused precisely with nothing written."""

from __future__ import annotations

import copy

import pytest

from fixtures_api import PATHS, created, document, error, outbox, published, snapshot



@pytest.fixture
def agent(tenant):
    """A logged-in agent (not an admin) of the tenant."""
    email = "agent@example.com"
    response = tenant.admin.post("/api/v1/users", json={"email": email, "password": "agent-password-1",
                                                        "role": "agent"})
    assert response.status_code == 201, response.text
    return tenant.client().login(email, "agent-password-1")


def test_schema_is_served_to_authenticated_callers(tenant):
    schema = tenant.admin.get(f"{PATHS}/schema").json()
    assert schema["$id"] == "https://guidepath.dev/schemas/guided-path.v1.json"
    assert tenant.client().get(f"{PATHS}/schema").status_code == 401


def test_create_get_list_by_id_and_key(tenant):
    path = created(tenant.admin, document())
    assert path["id"].startswith("gp_") and path["key"] == "check-cable"
    assert path["status"] == "active" and path["latest_version"] is None
    assert path["issues"] == [] and path["draft"] == document()
    assert tenant.admin.get(f"{PATHS}/{path['id']}").json()["draft"] == document()
    by_key = tenant.admin.get(f"{PATHS}/check-cable").json()
    assert by_key["id"] == path["id"] and by_key["issues"] == [] and by_key["draft_changed"] is True
    listed = tenant.admin.get(PATHS).json()
    assert [p["id"] for p in listed["items"]] == [path["id"]] and listed["next"] is None
    assert "draft" not in listed["items"][0]


def test_structural_problems_refuse_the_draft_with_every_issue(tenant):
    before = snapshot(tenant)
    doc = document()
    doc["steps"]["ask"]["kind"] = "essay"           # not a kind
    del doc["steps"]["fixed"]["outcome"]            # required
    doc["steps"]["decide"]["colour"] = "red"        # unknown field
    err = error(tenant.admin.post(PATHS, json=doc), 422)
    assert err["code"] == "invalid_document"
    pointers = {i["pointer"] for i in err["issues"]}
    assert {"/steps/ask/kind", "/steps/fixed/outcome", "/steps/decide/colour"} <= pointers
    assert err["field"] == err["issues"][0]["pointer"]
    assert err["message"].startswith(f"{len(err['issues'])} problems prevent saving")
    assert snapshot(tenant) == before


def test_graph_problems_are_saved_in_a_draft_but_refuse_publishing(tenant):
    doc = document()
    doc["steps"]["decide"]["default"] = "nowhere"
    doc["steps"]["decide"]["branches"][0]["when"] = {"===": [{"var": "vars.nope"}, True]}
    path = created(tenant.admin, doc)
    codes = {(i["pointer"], i["code"]) for i in path["issues"]}
    assert ("/steps/decide/default", "graph.unknown_target") in codes
    assert any(code == "expression.unknown_variable" for _pointer, code in codes)

    before = snapshot(tenant)
    err = error(tenant.admin.post(f"{PATHS}/{path['id']}/publish"), 422)
    assert err["code"] == "invalid_document"
    assert {(i["pointer"], i["code"]) for i in err["issues"]} == codes
    assert err["message"].startswith("2 problems prevent publishing this draft")
    assert snapshot(tenant) == before
    assert tenant.admin.get(f"{PATHS}/{path['id']}").json()["latest_version"] is None


def test_publish_makes_numbered_immutable_versions(tenant):
    admin = tenant.admin
    path = created(admin, document())
    response = admin.post(f"{PATHS}/{path['id']}/publish")
    assert response.status_code == 201, response.text
    v1 = response.json()
    assert v1["version"] == 1 and v1["document"] == document() and v1["published_by"].startswith("user:")
    assert response.headers["Location"].endswith(f"/{path['id']}/versions/1")

    unchanged = error(admin.post(f"{PATHS}/{path['id']}/publish"), 409)
    assert unchanged["code"] == "draft_unchanged"

    changed = admin.patch(f"{PATHS}/{path['id']}", json={"title": "Check the cable, again"})
    assert changed.status_code == 200 and changed.json()["draft_changed"] is True
    assert admin.post(f"{PATHS}/{path['id']}/publish").json()["version"] == 2

    versions = admin.get(f"{PATHS}/{path['id']}/versions").json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    assert versions["items"][0]["title"] == "Check the cable, again"
    assert admin.get(f"{PATHS}/{path['id']}/versions/1").json()["document"] == document()
    assert error(admin.get(f"{PATHS}/{path['id']}/versions/3"), 404)["field"] == "version"

    events = outbox(tenant, "guided_path.")
    assert events == [("guided_path.published", {"path_id": path["id"], "path_key": "check-cable", "version": 1}),
                      ("guided_path.published", {"path_id": path["id"], "path_key": "check-cable", "version": 2})]


def test_published_versions_cannot_be_edited(tenant):
    admin = tenant.admin
    path = published(admin, document())
    before = snapshot(tenant)
    for method in ("put", "patch", "delete"):
        response = getattr(admin, method)(f"{PATHS}/{path['id']}/versions/1", json=document(title="Hacked"))
        err = error(response, 405)
        assert err["code"] == "immutable_version"
        assert "cannot be changed" in err["message"] and "publish it as a new version" in err["message"]
    assert snapshot(tenant) == before
    assert admin.get(f"{PATHS}/{path['id']}/versions/1").json()["document"]["title"] == "Check the cable"


def test_put_replaces_and_patch_merges_the_draft(tenant):
    admin = tenant.admin
    path = created(admin, document())
    new = document(title="Cable check")
    new["steps"]["fixed"]["message"] = "All good."
    replaced = admin.put(f"{PATHS}/{path['id']}", json=new)
    assert replaced.status_code == 200 and replaced.json()["draft"] == new
    assert replaced.json()["title"] == "Cable check"

    patched = admin.patch(f"{PATHS}/{path['id']}", json={"description": "Five seconds.",
                                                         "steps": {"fixed": {"message": None}}})
    draft = patched.json()["draft"]
    assert draft["description"] == "Five seconds." and "message" not in draft["steps"]["fixed"]
    merge = admin.patch(f"{PATHS}/{path['id']}", data='{"title": "Merge-patched"}',
                        headers={"Content-Type": "application/merge-patch+json"})
    assert merge.status_code == 200 and merge.json()["title"] == "Merge-patched"

    before = snapshot(tenant)
    err = error(admin.patch(f"{PATHS}/{path['id']}", json={"steps": {"ask": {"kind": 5}}}), 422)
    assert err["code"] == "invalid_document" and err["field"] == "/steps/ask/kind"
    assert snapshot(tenant) == before


def test_ids_are_unique_and_fixed_once_published(tenant):
    admin = tenant.admin
    first = created(admin, document("one"))
    created(admin, document("two"))
    assert error(admin.post(PATHS, json=document("one")), 409)["code"] == "key_taken"
    # Renaming a draft that was never published is fine; onto a taken id is not.
    assert error(admin.put(f"{PATHS}/{first['id']}", json=document("two")), 409)["code"] == "key_taken"
    renamed = admin.put(f"{PATHS}/{first['id']}", json=document("uno"))
    assert renamed.status_code == 200 and renamed.json()["key"] == "uno"
    admin.post(f"{PATHS}/{first['id']}/publish").raise_for_status()
    assert error(admin.put(f"{PATHS}/uno", json=document("eins")), 409)["code"] == "key_immutable"
    assert error(admin.post(PATHS, json=document("schema")), 422)["field"] == "/id"


def test_archive_and_restore(tenant):
    admin = tenant.admin
    path = published(admin, document())
    archived = admin.post(f"{PATHS}/{path['id']}/archive")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert error(admin.post(f"{PATHS}/{path['id']}/archive"), 409)["code"] == "already_archived"
    assert admin.get(PATHS).json()["items"] == []
    assert [p["id"] for p in admin.get(PATHS, params={"status": "archived"}).json()["items"]] == [path["id"]]
    assert [p["id"] for p in admin.get(PATHS, params={"status": "all"}).json()["items"]] == [path["id"]]
    assert error(admin.put(f"{PATHS}/{path['id']}", json=document(title="x")), 409)["code"] == "path_archived"
    assert error(admin.post(f"{PATHS}/{path['id']}/publish"), 409)["code"] == "path_archived"
    # Archived paths keep their versions readable.
    assert admin.get(f"{PATHS}/{path['id']}/versions/1").status_code == 200
    restored = admin.post(f"{PATHS}/{path['id']}/restore")
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    assert error(admin.get(PATHS, params={"status": "gone"}), 422)["field"] == "status"


def test_agents_edit_drafts_but_admins_publish_archive_and_import(tenant, agent):
    path = created(agent, document())
    assert agent.put(f"{PATHS}/{path['id']}", json=document(title="By an agent")).status_code == 200
    before = snapshot(tenant)
    for action in ("publish", "archive", "restore"):
        assert error(agent.post(f"{PATHS}/{path['id']}/{action}"), 403)["code"] == "forbidden"
    assert error(agent.post(f"{PATHS}/import", json=document("other")), 403)["code"] == "forbidden"
    assert snapshot(tenant) == before
    assert tenant.client().get(PATHS).status_code == 401


def test_export_then_import_round_trips(tenant, tenant_factory):
    admin = tenant.admin
    path = published(admin, document())
    admin.patch(f"{PATHS}/{path['id']}", json={"title": "Draft title"}).raise_for_status()

    exported = admin.get(f"{PATHS}/{path['id']}/export")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="check-cable.v1.json"'
    assert exported.json() == document()
    assert admin.get(f"{PATHS}/check-cable/export", params={"version": "draft"}).json()["title"] == "Draft title"
    assert error(admin.get(f"{PATHS}/check-cable/export", params={"version": "0"}), 422)["field"] == "version"
    assert error(admin.get(f"{PATHS}/check-cable/export", params={"version": "7"}), 404)["field"] == "version"

    other = tenant_factory()
    imported = other.admin.post(f"{PATHS}/import", params={"publish": "true"}, json=exported.json())
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert body["created"] is True and body["published_version"] == 1 and body["key"] == "check-cable"
    # Importing the same file again changes nothing and is not an error.
    again = other.admin.post(f"{PATHS}/import", params={"publish": "true"}, json=exported.json())
    assert again.status_code == 200 and again.json()["published_version"] == 1
    assert len(other.admin.get(f"{PATHS}/check-cable/versions").json()["items"]) == 1


def test_import_with_publish_is_all_or_nothing(tenant):
    admin = tenant.admin
    published(admin, document())
    before = snapshot(tenant)
    broken = document()
    broken["steps"]["decide"]["default"] = "nowhere"   # fine in a draft, not publishable
    err = error(admin.post(f"{PATHS}/import", params={"publish": "true"}, json=broken), 422)
    assert err["code"] == "invalid_document" and err["issues"][0]["code"] == "graph.unknown_target"
    assert snapshot(tenant) == before
    # Without publish the draft is stored, problems reported.
    draft_only = admin.post(f"{PATHS}/import", json=broken)
    assert draft_only.status_code == 200 and draft_only.json()["issues"][0]["pointer"] == "/steps/decide/default"
    assert error(admin.post(f"{PATHS}/import", params={"publish": "maybe"}, json=broken), 422)["field"] == "publish"


def test_subpath_cycles_refuse_publishing(tenant):
    admin = tenant.admin
    child = document("child")
    published(admin, child)
    parent = document("parent")
    parent["steps"]["decide"]["default"] = "run_child"
    parent["steps"]["run_child"] = {"type": "subpath", "path_id": "child", "next": "escalate"}
    published(admin, parent)

    looped = copy.deepcopy(child)
    looped["steps"]["decide"]["default"] = "run_parent"
    looped["steps"]["run_parent"] = {"type": "subpath", "path_id": "parent", "next": "escalate"}
    admin.put(f"{PATHS}/child", json=looped).raise_for_status()
    before = snapshot(tenant)
    err = error(admin.post(f"{PATHS}/child/publish"), 422)
    assert err["issues"] == [{"pointer": "/steps/run_parent/path_id", "code": "subpath.cycle",
                              "message": "subpaths loop: child → parent → child"}]
    assert snapshot(tenant) == before

    missing = document("lonely")
    missing["steps"]["decide"]["default"] = "run_missing"
    missing["steps"]["run_missing"] = {"type": "subpath", "path_id": "not-published", "next": "escalate"}
    path = created(admin, missing)
    assert [i["code"] for i in path["issues"]] == ["subpath.unknown_path"]


def test_bad_requests_are_precise(tenant):
    admin = tenant.admin
    before = snapshot(tenant)
    assert error(admin.post(PATHS, data="{oops", headers={"Content-Type": "application/json"}), 400)["code"] == "malformed_json"
    assert error(admin.post(PATHS, data="{}", headers={"Content-Type": "text/plain"}), 415)["code"] == "unsupported_media_type"
    assert error(admin.post(PATHS, json=[document()]), 422)["field"] == "body"
    assert error(admin.get(f"{PATHS}/gp_00000000000000000000000000"), 404)["field"] == "id"
    assert error(admin.get(f"{PATHS}/Not A Key"), 404)["code"] == "not_found"
    assert error(admin.get(PATHS, params={"colour": "red"}), 422)["field"] == "colour"
    assert error(admin.get(PATHS, params={"cursor": "bm9wZQ"}), 422)["field"] == "cursor"
    assert snapshot(tenant) == before


def test_pagination(tenant):
    admin = tenant.admin
    ids = [created(admin, document(f"path-{i}"))["id"] for i in range(3)]
    first = admin.get(PATHS, params={"limit": 2}).json()
    second = admin.get(PATHS, params={"limit": 2, "cursor": first["next"]}).json()
    assert [p["id"] for p in first["items"] + second["items"]] == ids and second["next"] is None


def test_document_size_limit_is_a_tenant_setting(tenant, enable_plugin):
    enable_plugin(tenant, "guided_paths", {"max_document_bytes": 1024})
    big = document(description="x" * 2000)
    err = error(tenant.admin.post(PATHS, json=big), 422)
    assert [i["code"] for i in err["issues"]] == ["limits.document_too_large"]
    assert tenant.admin.post(PATHS, json=document()).status_code == 201


def test_disabled_plugin_routes_are_404(tenant, enable_plugin):
    enable_plugin(tenant, "guided_paths", enabled=False)
    assert tenant.admin.get(PATHS).status_code == 404
    assert tenant.admin.post(PATHS, json=document()).status_code == 404


# -- numbers and bodies the database cannot take are refused before it (no 500) -------


@pytest.mark.parametrize("version", ["9223372036854775808", "2147483648", "²", "٣", "0", "-1"])
def test_an_export_version_out_of_range_or_not_ascii_is_a_422(tenant, version):
    path = published(tenant.admin, document())
    body = error(tenant.admin.get(f"{PATHS}/{path['id']}/export", params={"version": version}), 422)
    assert body["field"] == "version" and "2147483647" in body["message"]


@pytest.mark.parametrize("version", ["9223372036854775808", "2147483648"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_a_version_number_out_of_range_in_the_path_is_a_404(tenant, method, version):
    path = published(tenant.admin, document())
    response = tenant.admin.request(method, f"{PATHS}/{path['id']}/versions/{version}", json={})
    assert error(response, 404)["code"] == "not_found"


def test_the_largest_version_number_is_simply_not_found(tenant):
    path = published(tenant.admin, document())
    assert error(tenant.admin.get(f"{PATHS}/{path['id']}/versions/2147483647"), 404)["field"] == "version"
    assert error(tenant.admin.get(f"{PATHS}/{path['id']}/versions/0"), 404)["code"] == "not_found"


def test_a_merge_patch_nested_too_deep_is_a_400_and_changes_nothing(tenant):
    path = created(tenant.admin, document())
    before = snapshot(tenant)
    deep = "[" * 100_000 + "]" * 100_000
    response = tenant.admin.patch(f"{PATHS}/{path['id']}", data=deep,
                                  headers={"Content-Type": "application/merge-patch+json"})
    assert error(response, 400)["code"] == "json_too_deep"
    assert snapshot(tenant) == before
