"""guidepath.guided_paths.store on a tenant database of its own (no HTTP): the rules
of drafts, versions, archive and import/export, and its small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import guidepath.guided_paths as package
from guidepath.core.db import migrate
from guidepath.core.db.engines import make_engine
from guidepath.core.domain.errors import Conflict, Invalid, NotFound
from guidepath.guided_paths import store
from guidepath.guided_paths.sansio.step_types import StepTypeRegistry
from guidepath.guided_paths.tables import guided_path_versions
from guidepath.guided_paths.sansio.validation import Issue

from fixtures_api import document


FOLDER = str(Path(package.__file__).parent / "migrations")


@pytest.fixture
def conn(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tenant.db'}")
    with engine.begin() as connection:
        migrate.upgrade("tenant", connection, extra_locations=[FOLDER])
    with engine.begin() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def registry():
    return StepTypeRegistry.with_builtins()


class Events(list):
    def __call__(self, conn, event_type, data):
        self.append((event_type, data))


def test_merge_patch_follows_rfc_7396():
    # The examples of RFC 7396, appendix A.
    cases = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, expected in cases:
        assert store.merge_patch(target, patch) == expected, (target, patch)
    original = {"a": {"b": 1}}
    store.merge_patch(original, {"a": {"b": 2}})
    assert original == {"a": {"b": 1}}


def test_invalid_document_counts_and_points_at_the_first_problem():
    issues = [Issue("/steps/a/next", "graph.unknown_target", "step 'x' does not exist"),
              Issue("/title", "schema.type", "must be string or object, not integer")]
    exc = store.InvalidDocument(issues, doing="publishing this draft")
    assert exc.status == 422 and exc.code == "invalid_document" and exc.field == "/steps/a/next"
    assert exc.message == ("2 problems prevent publishing this draft; the first, at /steps/a/next: "
                           "step 'x' does not exist")
    assert exc.details == {"issues": [store.issue_dict(i) for i in issues]}
    assert store.InvalidDocument(issues[:1]).message.startswith("1 problem prevents saving this document")


def test_structural_issues_are_those_a_draft_cannot_keep():
    assert store.is_structural(Issue("", "schema.required", ""))
    assert store.is_structural(Issue("", "limits.document_too_large", ""))
    assert store.is_structural(Issue("", "step_config.type", ""))
    assert not store.is_structural(Issue("", "graph.dead_end", ""))
    assert not store.is_structural(Issue("", "limits.text_too_long", ""))
    assert not store.is_structural(Issue("", "step.unknown_type", ""))


def test_create_publish_and_versions(conn, registry):
    events = Events()
    path, issues = store.create(conn, document(), registry, actor="user:usr_1")
    assert issues == [] and path["draft_changed"] is True
    first = store.publish(conn, path["id"], registry, actor="user:usr_1", emit=events)
    assert first.version == 1 and first.path["latest_version"] == 1 and first.path["draft_changed"] is False
    with pytest.raises(Conflict) as unchanged:
        store.publish(conn, path["id"], registry, actor="user:usr_1", emit=events)
    assert unchanged.value.code == "draft_unchanged"
    for i in range(2, 5):
        store.patch_draft(conn, path["id"], {"title": f"Title {i}"}, registry)
        assert store.publish(conn, "check-cable", registry, actor=None, emit=events).version == i
    assert [e[1]["version"] for e in events] == [1, 2, 3, 4]

    page = store.list_versions(conn, path["id"], limit=3)
    assert [v["version"] for v in page.items] == [4, 3, 2] and page.next
    rest = store.list_versions(conn, path["id"], limit=3, cursor=page.next)
    assert [v["version"] for v in rest.items] == [1] and rest.next is None
    with pytest.raises(Invalid):
        store.list_versions(conn, path["id"], cursor=store.encode_cursor("v0"))
    stored = conn.execute(select(guided_path_versions.c.version, guided_path_versions.c.published_by)
                          .order_by(guided_path_versions.c.version)).all()
    assert [tuple(r) for r in stored] == [(1, "user:usr_1"), (2, None), (3, None), (4, None)]


def test_published_documents_are_what_subpaths_may_name(conn, registry):
    events = Events()
    a, _ = store.create(conn, document("a"), registry)
    store.create(conn, document("draft-only"), registry)
    store.publish(conn, a["id"], registry, actor=None, emit=events)
    assert list(store.published_documents(conn)) == ["a"]
    store.set_status(conn, "a", store.ARCHIVED, actor=None)
    assert store.published_documents(conn) == {}
    # A published parent keeps running an archived child.
    path_id, version, doc = store.latest_published(conn, "a")
    assert (path_id, version, doc["id"]) == (a["id"], 1, "a")
    assert store.latest_published(conn, "draft-only") is None


def test_export_picks_the_version(conn, registry):
    events = Events()
    path, _ = store.create(conn, document(), registry)
    assert store.export_document(conn, path["id"])[1] == "check-cable.draft.json"
    store.publish(conn, path["id"], registry, actor=None, emit=events)
    store.patch_draft(conn, path["id"], {"title": "Newer"}, registry)
    doc, name = store.export_document(conn, "check-cable")
    assert name == "check-cable.v1.json" and doc["title"] == "Check the cable"
    assert store.export_document(conn, "check-cable", "draft")[0]["title"] == "Newer"
    with pytest.raises(NotFound):
        store.export_document(conn, "check-cable", 2)


def test_import_creates_then_replaces_the_draft(conn, registry):
    events = Events()
    first = store.import_document(conn, document(), registry, actor="cli", emit=events, publish_it=True)
    assert first.created and first.version == 1
    second = store.import_document(conn, document(title="Renamed"), registry, actor="cli", emit=events)
    assert not second.created and second.version is None and second.path["title"] == "Renamed"
    assert second.path["id"] == first.path["id"]
    with pytest.raises(store.InvalidDocument) as refused:
        store.import_document(conn, {"id": "x"}, registry, actor="cli", emit=events)
    assert {i["pointer"] for i in refused.value.details["issues"]} >= {"/schema_version", "/title"}


def test_lookups_refuse_what_is_neither_an_id_nor_a_key(conn):
    for ref in ("", "UPPER", "has space", "gp_short", "x" * 64, "../etc"):
        with pytest.raises(NotFound):
            store.get(conn, ref)
    with pytest.raises(Invalid):
        store.list_paths(conn, cursor="!!")
    with pytest.raises(Invalid):
        store.list_paths(conn, status="deleted")
