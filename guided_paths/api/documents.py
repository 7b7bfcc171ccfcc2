"""The Guided Paths HTTP API for documents: drafts, versions, archive, import/export
(runs are in :mod:`.runs`, media in :mod:`.media`).

Views are thin: they parse the request, open one transaction on the tenant's
database and call :mod:`~guidepath.guided_paths.store`, which holds the rules.
Every view has an ``openapi`` attribute (a test fails for an undocumented route).

Who may do what: any agent (session cookie or API key) reads, edits drafts and
runs paths; publishing, archiving, restoring and importing need an admin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from guidepath.core.plugin_api import (
    DomainError,
    Invalid,
    actor_id,
    documented,
    int_param,
    json_body,
    paging,
    parse_json,
    reject_unknown,
    require,
    tenant_ctx,
)

from .. import store
from ..plugin import limits_for, tenant_apps, tenant_registry
from ..sansio.document_schema import document_schema
from ..tables import MAX_VERSION

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import TenantContext

    from ..sansio.step_types import StepTypeRegistry
    from ..sansio.validation import Limits

bp = Blueprint("guided_paths", __name__)

PATHS = "/api/v1/guided-paths"


class ImmutableVersion(DomainError):
    status = 405
    code = "immutable_version"


def _document_body(description: str) -> dict[str, Any]:
    schema = {"type": "object", "description": "A Guided Path document; its JSON Schema is "
              "served at GET /api/v1/guided-paths/schema.", "required": ["id", "title", "steps"]}
    return {"required": True, "description": description, "content": {"application/json": {"schema": schema}}}


def _rules() -> tuple[TenantContext, StepTypeRegistry, Limits, dict[str, dict[str, Any]]]:
    """The tenant's context, step types, size limits and allowed apps. Read them
    before opening a transaction: they may query the plugin settings (and the apps
    plugins their tables) on another connection, which on SQLite would wait for the
    transaction's write lock."""
    ctx = tenant_ctx()
    return ctx, tenant_registry(ctx), limits_for(ctx), tenant_apps(ctx)


def _with_issues(path: dict[str, Any], issues: list) -> dict[str, Any]:
    return {**path, "issues": [store.issue_dict(i) for i in issues]}


def _flag(name: str) -> bool:
    raw = request.args.get(name)
    if raw in (None, "", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise Invalid(f"{name} must be true or false", field=name)


# -- documents ----------------------------------------------------------------------


@bp.get(f"{PATHS}/schema")
@require("agent")
@documented("The Guided Path document JSON Schema (version 1)")
def document_json_schema():
    return jsonify(document_schema())


@bp.get(PATHS)
@require("agent")
@documented("List guided paths without their drafts: ?status=active (default)|archived|all, limit, cursor")
def list_paths():
    reject_unknown({"status", "limit", "cursor"})
    status = request.args.get("status") or "active"
    with tenant_ctx().engine.connect() as conn:
        page = store.list_paths(conn, status=None if status == "all" else status, **paging())
    return jsonify(page.as_dict())


@bp.post(PATHS)
@require("agent")
@documented("Create a guided path from a document (its draft); problems that do not prevent "
             "saving a draft are returned in `issues`",
             requestBody=_document_body("The document; its `id` becomes the path's key"))
def create_path():
    document = json_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        path, issues = store.create(conn, document, registry, actor=actor_id(), limits=limits, known_apps=apps)
    response = jsonify(_with_issues(path, issues))
    response.headers["Location"] = f"{PATHS}/{path['id']}"
    return response, 201


@bp.get(f"{PATHS}/<path_ref>")
@require("agent")
@documented("Get a guided path (by id or key) with its draft and the problems publishing it would report")
def get_path(path_ref: str):
    ctx, registry, limits, apps = _rules()
    with ctx.engine.connect() as conn:
        return jsonify(store.get(conn, path_ref, registry, limits=limits, known_apps=apps))


@bp.put(f"{PATHS}/<path_ref>")
@require("agent")
@documented("Replace the draft (published versions never change)",
             requestBody=_document_body("The whole new draft document"))
def replace_draft(path_ref: str):
    document = json_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        path, issues = store.replace_draft(conn, path_ref, document, registry, actor=actor_id(), limits=limits,
                                           known_apps=apps)
    return jsonify(_with_issues(path, issues))


@bp.patch(f"{PATHS}/<path_ref>")
@require("agent")
@documented(
    "Change part of the draft with a JSON Merge Patch (RFC 7396; null deletes a field)",
    requestBody={"required": True, "content": {
        "application/merge-patch+json": {"schema": {"type": "object"}},
        "application/json": {"schema": {"type": "object"}},
    }},
)
def patch_draft(path_ref: str):
    patch = _merge_patch_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        path, issues = store.patch_draft(conn, path_ref, patch, registry, actor=actor_id(), limits=limits,
                                         known_apps=apps)
    return jsonify(_with_issues(path, issues))


def _merge_patch_body() -> dict[str, Any]:
    if request.mimetype != "application/merge-patch+json":
        return json_body()
    data = parse_json(request.get_data(cache=True))
    if not isinstance(data, dict):
        raise Invalid(f"a merge patch must be a JSON object, got {type(data).__name__}", field="body")
    return data


@bp.post(f"{PATHS}/<path_ref>/publish")
@require("admin")
@documented("Publish the draft as the next immutable version (admin); 422 lists every problem")
def publish(path_ref: str):
    json_body(allow_empty=True)  # no options yet; refuse a malformed body all the same
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        published = store.publish(conn, path_ref, registry, actor=actor_id(), emit=ctx.emit, limits=limits,
                                  known_apps=apps)
        version = store.get_version(conn, published.path["id"], published.version)
    response = jsonify(version)
    response.headers["Location"] = f"{PATHS}/{version['path_id']}/versions/{version['version']}"
    return response, 201


@bp.get(f"{PATHS}/<path_ref>/versions")
@require("agent")
@documented("List the published versions, newest first (without documents)")
def list_versions(path_ref: str):
    reject_unknown({"limit", "cursor"})
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.list_versions(conn, path_ref, **paging()).as_dict())


@bp.get(f"{PATHS}/<path_ref>/versions/<int(min=1, max={MAX_VERSION}):version>")
@require("agent")
@documented("Get one published version with its document")
def get_version(path_ref: str, version: int):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.get_version(conn, path_ref, version))


@bp.route(f"{PATHS}/<path_ref>/versions/<int(min=1, max={MAX_VERSION}):version>", methods=["PUT", "PATCH", "DELETE"])
@require("agent")
@documented("Refused (405): published versions are immutable; edit the draft and publish again")
def change_version(path_ref: str, version: int):
    with tenant_ctx().engine.connect() as conn:
        found = store.get_version(conn, path_ref, version)  # 404 first for a version that does not exist
    raise ImmutableVersion(
        f"version {version} of {found['key']!r} is published and cannot be changed or deleted; "
        f"edit the draft (PUT {PATHS}/{found['path_id']}) and publish it as a new version",
        field="version",
    )


@bp.post(f"{PATHS}/<path_ref>/archive")
@require("admin")
@documented("Archive a path (admin): no new runs or edits; runs in progress go on")
def archive(path_ref: str):
    json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        return jsonify(store.set_status(conn, path_ref, store.ARCHIVED, actor=actor_id()))


@bp.post(f"{PATHS}/<path_ref>/restore")
@require("admin")
@documented("Restore an archived path (admin)")
def restore(path_ref: str):
    json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        return jsonify(store.set_status(conn, path_ref, store.ACTIVE, actor=actor_id()))


@bp.post(f"{PATHS}/import")
@require("admin")
@documented("Import a document (admin): creates the path or replaces the draft of the path with "
             "its id; ?publish=true publishes it too (all or nothing)",
             requestBody=_document_body("A document, as exported"))
def import_path():
    reject_unknown({"publish"})
    publish_it = _flag("publish")
    document = json_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        result = store.import_document(conn, document, registry, actor=actor_id(), emit=ctx.emit,
                                       publish_it=publish_it, limits=limits, known_apps=apps)
    body = {**_with_issues(result.path, result.issues), "created": result.created,
            "published_version": result.version}
    return jsonify(body), 201 if result.created else 200


@bp.get(f"{PATHS}/<path_ref>/export")
@require("agent")
@documented("Export a document as a JSON file: the latest published version, ?version=N, or "
             "?version=draft (the draft is exported when nothing is published yet)")
def export_path(path_ref: str):
    reject_unknown({"version"})
    raw = request.args.get("version") or None
    version: int | str | None = raw
    if raw not in (None, "draft"):
        version = int_param("version", minimum=1, maximum=MAX_VERSION)
    with tenant_ctx().engine.connect() as conn:
        document, filename = store.export_document(conn, path_ref, version)
    response = Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
