"""The Guided Paths HTTP API: documents, versions, import/export and runs.

Views are thin: they parse the request, open one transaction on the tenant's
database and call :mod:`.store` or :mod:`.runs`, which hold the rules. Every view
has an ``openapi`` attribute (a test fails for an undocumented route).

Who may do what: any agent (session cookie or API key) reads, edits drafts and
runs paths; publishing, archiving, restoring and importing need an admin.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Callable

from flask import Blueprint, Response, jsonify, request

from guidepath.core.domain.errors import DomainError, Invalid
from guidepath.core.domain.records import page_limit
from guidepath.core.domain.validation import validate
from guidepath.core.plugins import PluginError
from guidepath.core.web.auth import actor_id, require
from guidepath.core.web.body import BadJSON, json_body
from guidepath.core.web.tenant import tenant_ctx

from . import media, runs, store
from .plugin import limits_for, settings, tenant_apps, tenant_registry
from .step_types import document_schema

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.tenancy.context import TenantContext

    from .step_types import StepTypeRegistry
    from .validation import Limits

bp = Blueprint("guided_paths", __name__)
log = logging.getLogger("guidepath.guided_paths")

PATHS = "/api/v1/guided-paths"
RUNS = "/api/v1/runs"


class ImmutableVersion(DomainError):
    status = 405
    code = "immutable_version"


def _body(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def _document_body(description: str) -> dict[str, Any]:
    return _body({"type": "object", "description": "A Guided Path document; its JSON Schema is "
                  "served at GET /api/v1/guided-paths/schema.", "required": ["id", "title", "steps"]},
                 description)


def _documented(summary: str, **extra: Any) -> Callable[[Callable], Callable]:
    def mark(view: Callable) -> Callable:
        view.openapi = {"summary": summary, **extra}  # type: ignore[attr-defined]
        return view
    return mark


def _reject_unknown(allowed: set[str]) -> None:
    unknown = set(request.args) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"unknown query parameter {name!r}; allowed: {', '.join(sorted(allowed)) or 'none'}",
                      field=name)


def _paging() -> dict[str, Any]:
    return {"limit": page_limit(request.args.get("limit")), "cursor": request.args.get("cursor") or None}


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
@_documented("The Guided Path document JSON Schema (version 1)")
def document_json_schema():
    return jsonify(document_schema())


@bp.get(PATHS)
@require("agent")
@_documented("List guided paths without their drafts: ?status=active (default)|archived|all, limit, cursor")
def list_paths():
    _reject_unknown({"status", "limit", "cursor"})
    status = request.args.get("status") or "active"
    with tenant_ctx().engine.connect() as conn:
        page = store.list_paths(conn, status=None if status == "all" else status, **_paging())
    return jsonify(page.as_dict())


@bp.post(PATHS)
@require("agent")
@_documented("Create a guided path from a document (its draft); problems that do not prevent "
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
@_documented("Get a guided path (by id or key) with its draft and the problems publishing it would report")
def get_path(path_ref: str):
    ctx, registry, limits, apps = _rules()
    with ctx.engine.connect() as conn:
        return jsonify(store.get(conn, path_ref, registry, limits=limits, known_apps=apps))


@bp.put(f"{PATHS}/<path_ref>")
@require("agent")
@_documented("Replace the draft (published versions never change)",
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
@_documented(
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
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadJSON(f"the body is not valid JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise Invalid(f"a merge patch must be a JSON object, got {type(data).__name__}", field="body")
    return data


@bp.post(f"{PATHS}/<path_ref>/publish")
@require("admin")
@_documented("Publish the draft as the next immutable version (admin); 422 lists every problem")
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
@_documented("List the published versions, newest first (without documents)")
def list_versions(path_ref: str):
    _reject_unknown({"limit", "cursor"})
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.list_versions(conn, path_ref, **_paging()).as_dict())


@bp.get(f"{PATHS}/<path_ref>/versions/<int:version>")
@require("agent")
@_documented("Get one published version with its document")
def get_version(path_ref: str, version: int):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.get_version(conn, path_ref, version))


@bp.route(f"{PATHS}/<path_ref>/versions/<int:version>", methods=["PUT", "PATCH", "DELETE"])
@require("agent")
@_documented("Refused (405): published versions are immutable; edit the draft and publish again")
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
@_documented("Archive a path (admin): no new runs or edits; runs in progress go on")
def archive(path_ref: str):
    json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        return jsonify(store.set_status(conn, path_ref, store.ARCHIVED, actor=actor_id()))


@bp.post(f"{PATHS}/<path_ref>/restore")
@require("admin")
@_documented("Restore an archived path (admin)")
def restore(path_ref: str):
    json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        return jsonify(store.set_status(conn, path_ref, store.ACTIVE, actor=actor_id()))


@bp.post(f"{PATHS}/import")
@require("admin")
@_documented("Import a document (admin): creates the path or replaces the draft of the path with "
             "its id; ?publish=true publishes it too (all or nothing)",
             requestBody=_document_body("A document, as exported"))
def import_path():
    _reject_unknown({"publish"})
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
@_documented("Export a document as a JSON file: the latest published version, ?version=N, or "
             "?version=draft (the draft is exported when nothing is published yet)")
def export_path(path_ref: str):
    _reject_unknown({"version"})
    raw = request.args.get("version") or None
    version: int | str | None = raw
    if raw not in (None, "draft"):
        if not raw.isdigit() or int(raw) < 1:
            raise Invalid("version must be a version number or 'draft'", field="version")
        version = int(raw)
    with tenant_ctx().engine.connect() as conn:
        document, filename = store.export_document(conn, path_ref, version)
    response = Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- media --------------------------------------------------------------------------

MEDIA = f"{PATHS}/media"


@bp.post(MEDIA)
@require("admin")
@_documented(
    "Upload an image or video for message steps (admin): the raw bytes as the body, with "
    "their Content-Type (image/png, image/jpeg, image/gif, image/webp, video/mp4, video/webm); "
    "?name= an optional file name. Streamed into the tenant's encrypted file store; at most "
    "the guided_paths setting max_media_bytes (413 beyond)",
    requestBody={"required": True, "content": {
        kind: {"schema": {"type": "string", "format": "binary"}} for kind in media.CONTENT_TYPES}},
)
def upload_media():
    _reject_unknown({"name"})
    ctx = tenant_ctx()
    limit = settings(ctx)["max_media_bytes"]
    kind = media.check_content_type(request.content_type)
    declared = request.content_length
    if declared is not None and declared > limit:
        raise media.TooLarge(f"Guided Path media may be at most {limit} bytes (plugin setting "
                             "max_media_bytes of guided_paths)", field="body")
    # The app-wide request limit is for JSON bodies; this body streams to the file
    # store and is capped by the tenant's own setting instead.
    request.max_content_length = limit
    described = media.upload(ctx, request.stream, content_type=kind, max_bytes=limit,
                             name=request.args.get("name", ""), actor=actor_id())
    response = jsonify(described)
    response.headers["Location"] = described["url"]
    return response, 201


@bp.get(MEDIA)
@require("agent")
@_documented("List the tenant's Guided Path media (any agent): file id, content type, size, sha256, "
             "who uploaded it and when, its URL; paginated (limit, cursor)")
def list_media():
    _reject_unknown({"limit", "cursor"})
    with tenant_ctx().engine.connect() as conn:
        page = media.list_media(conn, **_paging())
    return jsonify(page.as_dict())


@bp.delete(f"{MEDIA}/<file_id>")
@require("admin")
@_documented("Delete Guided Path media (admin): the row and the encrypted file; 409 media_in_use "
             "(naming the drafts and versions) while any path shows it")
def delete_media(file_id: str):
    media.delete_media(tenant_ctx(), file_id, actor=actor_id())
    return "", 204


@bp.get(f"{MEDIA}/<file_id>")
@require("agent")
@_documented("Download Guided Path media (any agent): the file's bytes with their content type; "
             "Range requests (206, 416) and If-None-Match (304) are answered; "
             "404 for an id that is not this tenant's Guided Path media")
def download_media(file_id: str):
    chunks, described = media.open_media(tenant_ctx(), file_id)
    response = Response(chunks, mimetype=described["content_type"], direct_passthrough=True)
    response.headers["Content-Length"] = str(described["size"])
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["ETag"] = f'"{described["sha256"]}"'
    # Served bytes are never a document with scripts, even if a browser opens one alone.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Range requests (a video player seeking: 206 with Content-Range, 416 beyond the
    # end) and If-None-Match (304) by werkzeug; a range skips the decrypted chunks
    # before it, so seeking costs decrypting what comes before the range.
    return response.make_conditional(request, accept_ranges=True, complete_length=described["size"])


# -- runs ---------------------------------------------------------------------------


def _env() -> runs.RunEnv:
    return runs.RunEnv.for_tenant(tenant_ctx(), actor_id())


MAX_PLUGIN_ACTIONS = 10
"""Actions plugins may complete in a row for one request (a path of ten actions back
to back is already unusual; a cycle of them must not hold the request forever)."""

ACTION_ANSWER_SCHEMA = {**runs.ACTION_SCHEMA, "required": ["ok", "result"]}


def _performed(run: dict[str, Any]) -> dict[str, Any]:
    """Let the enabled plugins do the actions the run reached (hook ``perform_action``).

    Each completion is its own transaction, after the caller's committed: a plugin
    reads whatever it needs (the session's device, say) with the run's step safely
    recorded, and a plugin that fails leaves the run waiting for the action, as if
    nobody handled it.
    """
    ctx = tenant_ctx()
    for _ in range(MAX_PLUGIN_ACTIONS):
        view = run.get("view") or {}
        if run.get("status") != "waiting_action" or view.get("type") != "action":
            break
        try:
            answer = ctx.hooks.first_answer("perform_action", tenant=ctx.tenant, action=view.get("action"),
                                            action_input=view.get("input"), run=run, ctx=ctx)
        except PluginError:
            break  # logged with the plugin's name; the run waits for a host to report
        if answer is None:
            break
        plugin_name, result = answer
        try:
            validate(ACTION_ANSWER_SCHEMA, result)
        except Invalid as exc:
            log.error("perform_action returned a bad answer", extra={"plugin": plugin_name, "error": exc.message})
            break
        env = runs.RunEnv.for_tenant(ctx, f"plugin:{plugin_name}")
        with ctx.begin() as conn:
            run = runs.complete_action(conn, env, run["id"], view["step_id"], result)
    return run


def _shown(run: dict[str, Any], apps: dict[str, dict[str, Any]] | None = None) -> Response:
    """The run as JSON; an ``app`` view gets the registered app (``view.app``: where
    to embed it and its schemas) or ``view.app_error`` when it may not be used
    (``app_not_allowed``) or the step's input does not fit it (``app_input_invalid``)."""
    view = run.get("view")
    if view and view.get("type") == "app":
        if apps is None:
            apps = tenant_apps(tenant_ctx())
        app = apps.get(view.get("app_id"))
        code, problem = "app_not_allowed", runs.app_problem(view.get("app_id"), app)
        if problem is None:
            code, problem = "app_input_invalid", runs.app_input_problem(view.get("app_id"), app, view.get("input"))
        view["app"] = None if problem else {
            key: app.get(key) for key in ("app_id", "title", "url", "origin", "input_schema", "output_schema")}
        view["app_error"] = {"code": code, "message": problem} if problem else None
    return jsonify(run)


@bp.post(RUNS)
@require("agent")
@_documented("Start a run on the latest published version of a path (the run stays pinned to it)",
             requestBody=_body(runs.START_SCHEMA))
def start_run():
    data = json_body()
    env = _env()
    with tenant_ctx().begin() as conn:
        run = runs.start(conn, env, data)
    run = _performed(run)
    response = _shown(run)
    response.headers["Location"] = f"{RUNS}/{run['id']}"
    return response, 201


@bp.get(RUNS)
@require("agent")
@_documented("List runs: ?session_id=, ?status= (a status or 'live'), ?path_id= (id or key), limit, cursor")
def list_runs():
    _reject_unknown({"session_id", "status", "path_id", "limit", "cursor"})
    args = request.args
    with tenant_ctx().engine.connect() as conn:
        page = runs.list_runs(conn, session_id=args.get("session_id") or None, status=args.get("status") or None,
                              path_id=args.get("path_id") or None, **_paging())
    return jsonify(page.as_dict())


@bp.get(f"{RUNS}/<run_id>")
@require("agent")
@_documented("Get a run (resume): status, the current step rendered in the run's locale (`view`), "
             "variables, answers and the recorded history")
def get_run(run_id: str):
    with tenant_ctx().engine.connect() as conn:
        run = runs.get(conn, run_id)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/answers")
@require("agent")
@_documented("Answer the step the run waits on; 409 if it waits on another step",
             requestBody=_body(runs.ANSWER_SCHEMA))
def answer_run(run_id: str):
    data = json_body()
    env = _env()
    with tenant_ctx().begin() as conn:
        run = runs.answer(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/back")
@require("agent")
@_documented("Undo the last answer: the run waits on that step again", requestBody={
    **_body(runs.BACK_SCHEMA), "required": False})
def back_run(run_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = runs.back(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/actions/<step_id>")
@require("agent")
@_documented("Report the result of the action the run waits on (ok=false continues at on_error)",
             requestBody=_body(runs.ACTION_SCHEMA))
def complete_action(run_id: str, step_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = runs.complete_action(conn, env, run_id, step_id, data)
    run = _performed(run)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/apps/<step_id>")
@require("agent")
@_documented("Report a Guided Path App's output: the app must be on the tenant's allowlist (409 "
             "app_not_allowed) and the output must match the app's declared output_schema and the "
             "step's output_schema (422 invalid_output, nothing stored)",
             requestBody=_body(runs.APP_SCHEMA))
def complete_app(run_id: str, step_id: str):
    data = json_body()
    env = _env()
    apps = tenant_apps(tenant_ctx())
    with tenant_ctx().begin() as conn:
        run = runs.complete_app(conn, env, run_id, step_id, data, apps)
    run = _performed(run)
    return _shown(run, apps)


@bp.post(f"{RUNS}/<run_id>/abandon")
@require("agent")
@_documented("Abandon the run for good")
def abandon_run(run_id: str):
    json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = runs.abandon(conn, env, run_id)
    return _shown(run)


@bp.post(f"{RUNS}/<run_id>/handover")
@require("agent")
@_documented("Hand a self-service run over to the agents: attach it to a waiting support session",
             requestBody={**_body(runs.HANDOVER_SCHEMA), "required": False})
def hand_over_run(run_id: str):
    data = json_body(allow_empty=True)
    env = _env()
    with tenant_ctx().begin() as conn:
        run = runs.hand_over(conn, env, run_id, data)
    run = _performed(run)
    return _shown(run)
