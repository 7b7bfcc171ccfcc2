"""The Guided Paths HTTP API for documents: drafts, versions, archive, import/export
(runs are in :mod:`.runs`, media in :mod:`.media`).

Views are thin: they parse the request, open one transaction on the tenant's
database and call :mod:`~guidepath.guided_paths.store`, which holds the rules.
Every view is ``@documented``: the declaration checks the query string before
the view runs and is what ``GET /api/openapi.json`` says about the route.

Who may do what: any agent (session cookie or API key) reads, edits drafts and
runs paths; publishing, archiving, restoring and importing need an admin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Blueprint, Response, jsonify, request
from werkzeug.routing import BaseConverter

from guidepath.core.plugin_api import (
    PAGING,
    DomainError,
    Invalid,
    Param,
    actor_id,
    documented,
    json_body,
    page_of,
    parse_int,
    parse_json,
    query_args,
    require,
    tenant_ctx,
)

from .. import store
from ..plugin import limits_for, tenant_apps, tenant_registry
from ..sansio.document_schema import document_schema
from ..tables import MAX_VERSION
from .schemas import (
    DOCUMENT_COMPONENTS, DOCUMENT_REF, IMPORTED, JSON_SCHEMA, PATH_DETAIL, PATH_SUMMARY, PATH_WITH_ISSUES,
    VERSION, VERSION_SUMMARY,
)

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import TenantContext

    from ..sansio.step_types import StepTypeRegistry
    from ..sansio.validation import Limits

bp = Blueprint("guided_paths", __name__)

PATHS = "/api/v1/guided-paths"


class ImmutableVersion(DomainError):
    status = 405
    code = "immutable_version"


class PathRefConverter(BaseConverter):
    """``<guided_path_ref:…>``: a path's id or key, never a word a fixed route beside
    it uses (``schema``, ``import``, ``media``: ``store.RESERVED_KEYS``).

    Without it ``/guided-paths/schema`` matched both ``/guided-paths/schema`` (GET)
    and ``/guided-paths/<path_ref>`` (GET, PUT, PATCH): werkzeug lists the methods of
    every rule that matches a URL, so ``OPTIONS`` answered ``Allow: GET, PUT, PATCH…``
    and ``PUT /guided-paths/schema`` ran ``replace_draft`` on a path named "schema".
    Now such a request is a 405 naming the fixed route's methods.
    """

    # Any one segment, unless it is exactly a reserved word.
    regex = rf"(?!(?:{'|'.join(sorted(store.RESERVED_KEYS))})(?![^/]))[^/]+"
    # The regex never matches a "/" (werkzeug guesses otherwise from the "/" in it).
    part_isolating = True
    #: What the OpenAPI document says the parameter is (read by core's openapi_operations).
    #: Not ``"not": {"enum": [...]}``: a contract tester sends values a schema excludes
    #: and expects a refusal, but ``GET …/schema`` is another operation that succeeds.
    openapi_schema: ClassVar[dict[str, Any]] = {
        "type": "string",
        "description": "The path's id (gp_…) or its key (the document's id); never "
                       f"{', '.join(sorted(store.RESERVED_KEYS))}: those are the fixed routes beside this one",
    }


CONVERTER = "guided_path_ref"
# Before this blueprint's rules are added: a rule looks its converter up when it is added.
bp.record_once(lambda state: state.app.url_map.converters.setdefault(CONVERTER, PathRefConverter))
ONE_PATH = f"{PATHS}/<{CONVERTER}:path_ref>"

_DOCUMENT_RULES = (
    "The body is a Guided Path document, checked against the full document schema "
    "(`GuidedPathDocument`, also served at GET /api/v1/guided-paths/schema) and the size limits: a body "
    "that is not one is refused with 422 and every problem in `error.issues`, and nothing is saved. "
    "Problems a draft may still have (a step target that does not exist, an unreachable step, a subpath, "
    "Guided Path App or media id that does not exist in this account…) are saved and returned in `issues`; "
    "publishing refuses them. "
)
_KEY_RULES = (
    "The document's `id` is the path's key: unique in the account (409 `key_taken`; an archived path "
    "keeps its key) and not `schema`, `import` or `media` (422). "
)
_ARCHIVED = "An archived path cannot be edited (409 `path_archived`). "
_DOCUMENT = {"body": DOCUMENT_REF, "schemas": DOCUMENT_COMPONENTS}

VERSION_PARAM = Param(
    "version", {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_VERSION}, {"const": "draft"}]},
    "A published version number, or `draft`; default: the latest published version (the draft when "
    "nothing is published yet)")


def _rules() -> tuple[TenantContext, StepTypeRegistry, Limits, dict[str, dict[str, Any]]]:
    """The tenant's context, step types, size limits and allowed apps. Read them
    before opening a transaction: they may query the plugin settings (and the apps
    plugins their tables) on another connection, which on SQLite would wait for the
    transaction's write lock."""
    ctx = tenant_ctx()
    return ctx, tenant_registry(ctx), limits_for(ctx), tenant_apps(ctx)


def _with_issues(path: dict[str, Any], issues: list) -> dict[str, Any]:
    return {**path, "issues": [store.issue_dict(i) for i in issues]}


# -- documents ----------------------------------------------------------------------


@bp.get(f"{PATHS}/schema")
@require("agent")
@documented("The Guided Path document JSON Schema (version 1)",
            description="What editors and the JS SDK validate documents with; the server checks every saved "
                        "document against it. The same schema is `GuidedPathDocument` in this document's "
                        "components.", query=[], returns=JSON_SCHEMA)
def document_json_schema():
    return jsonify(document_schema())


@bp.get(PATHS)
@require("agent")
@documented("List guided paths without their drafts (paginated, oldest first)",
            query=[*PAGING, Param("status", {"type": "string", "enum": ["active", "archived", "all"],
                                             "default": "active"}, "Which paths to list")],
            returns=page_of(PATH_SUMMARY))
def list_paths():
    args = query_args()
    status = args.pop("status")
    with tenant_ctx().engine.connect() as conn:
        page = store.list_paths(conn, status=None if status == "all" else status, **args)
    return jsonify(page.as_dict())


@bp.post(PATHS)
@require("agent")
@documented("Create a guided path from a document (its draft)",
            description=_DOCUMENT_RULES + _KEY_RULES, query=[], **_DOCUMENT, returns=PATH_WITH_ISSUES,
            status=201, errors=[409])
def create_path():
    document = json_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        path, issues = store.create(conn, document, registry, actor=actor_id(), limits=limits, known_apps=apps)
    response = jsonify(_with_issues(path, issues))
    response.headers["Location"] = f"{PATHS}/{path['id']}"
    return response, 201


@bp.get(ONE_PATH)
@require("agent")
@documented("Get a guided path (by id or key) with its draft and the problems publishing it would report",
            query=[], returns=PATH_WITH_ISSUES, schemas=DOCUMENT_COMPONENTS)
def get_path(path_ref: str):
    ctx, registry, limits, apps = _rules()
    with ctx.engine.connect() as conn:
        return jsonify(store.get(conn, path_ref, registry, limits=limits, known_apps=apps))


@bp.put(ONE_PATH)
@require("agent")
@documented("Replace the draft (published versions never change)",
            description=_DOCUMENT_RULES + _ARCHIVED + "The key (`id`) of a path that was published cannot "
                        "change (409 `key_immutable`); before that it may, to a key not taken (409 `key_taken`).",
            query=[], **_DOCUMENT, returns=PATH_WITH_ISSUES, errors=[409])
def replace_draft(path_ref: str):
    document = json_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        path, issues = store.replace_draft(conn, path_ref, document, registry, actor=actor_id(), limits=limits,
                                           known_apps=apps)
    return jsonify(_with_issues(path, issues))


# A component, so that the two media types share one schema (client generators would
# otherwise make two models of one name).
_MERGE_PATCH = {"GuidedPathMergePatch": {
    "type": "object", "description": "A JSON Merge Patch (RFC 7396) of the draft: a field set replaces it, null "
    "deletes it, objects merge. The result must be a Guided Path document (`GuidedPathDocument`)."}}
_MERGE_PATCH_REF = {"$ref": "#/components/schemas/GuidedPathMergePatch"}


@bp.patch(ONE_PATH)
@require("agent")
@documented(
    "Change part of the draft with a JSON Merge Patch (RFC 7396; null deletes a field)",
    description="The draft with the patch applied is then saved as by PUT: " + _DOCUMENT_RULES + _ARCHIVED,
    query=[], returns=PATH_WITH_ISSUES, errors=[409], schemas={**DOCUMENT_COMPONENTS, **_MERGE_PATCH},
    # Documented as merge-patch only (client generators mishandle a body with two media
    # types); the same patch sent as application/json is accepted too.
    body=_MERGE_PATCH_REF, body_media_type="application/merge-patch+json",
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


_NO_OPTIONS = {"type": "object", "description": "No options yet: send no body, or {} (fields are ignored)"}


@bp.post(f"{ONE_PATH}/publish")
@require("admin")
@documented(
    "Publish the draft as the next immutable version (admin)",
    description="The draft must have no problem at all: every step target, subpath (a published path of this "
                "account), Guided Path App (on the account's allowlist) and media file it names must exist; "
                "otherwise 422 lists every problem in `error.issues`. A draft identical to the latest version "
                "is refused (409 `draft_unchanged`), as is an archived path (409 `path_archived`). The version "
                "can never be changed or deleted afterwards.",
    query=[], body=_NO_OPTIONS, body_required=False, returns=VERSION, status=201, errors=[409],
    schemas=DOCUMENT_COMPONENTS,
)
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


@bp.get(f"{ONE_PATH}/versions")
@require("agent")
@documented("List the published versions, newest first (without documents)", query=PAGING,
            returns=page_of(VERSION_SUMMARY))
def list_versions(path_ref: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.list_versions(conn, path_ref, **query_args()).as_dict())


VERSION_RULE = f"{ONE_PATH}/versions/<int(min=1, max={MAX_VERSION}):version>"


@bp.get(VERSION_RULE)
@require("agent")
@documented("Get one published version with its document", description="Published versions are immutable.",
            query=[], returns=VERSION, schemas=DOCUMENT_COMPONENTS)
def get_version(path_ref: str, version: int):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.get_version(conn, path_ref, version))


@bp.route(VERSION_RULE, methods=["PUT", "PATCH", "DELETE"])
@require("agent")
@documented("Refused: published versions are immutable",
            description="Always 405 `immutable_version` for a version that exists (404 for one that does not): "
                        "edit the draft (PUT /api/v1/guided-paths/{path_ref}) and publish it as a new version. "
                        "Any body is ignored.",
            query=[], returns={"$ref": "#/components/schemas/Error"}, status=405)
def change_version(path_ref: str, version: int):
    with tenant_ctx().engine.connect() as conn:
        found = store.get_version(conn, path_ref, version)  # 404 first for a version that does not exist
    raise ImmutableVersion(
        f"version {version} of {found['key']!r} is published and cannot be changed or deleted; "
        f"edit the draft (PUT {PATHS}/{found['path_id']}) and publish it as a new version",
        field="version",
    )


@bp.post(f"{ONE_PATH}/archive")
@require("admin")
@documented("Archive a path (admin): no new runs or edits; runs in progress go on",
            description="409 `already_archived` if it is.", query=[], body=_NO_OPTIONS, body_required=False,
            returns=PATH_DETAIL, errors=[409], schemas=DOCUMENT_COMPONENTS)
def archive(path_ref: str):
    json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        return jsonify(store.set_status(conn, path_ref, store.ARCHIVED, actor=actor_id()))


@bp.post(f"{ONE_PATH}/restore")
@require("admin")
@documented("Restore an archived path (admin)", description="409 `already_active` if it is not archived.",
            query=[], body=_NO_OPTIONS, body_required=False, returns=PATH_DETAIL, errors=[409],
            schemas=DOCUMENT_COMPONENTS)
def restore(path_ref: str):
    json_body(allow_empty=True)
    with tenant_ctx().begin() as conn:
        return jsonify(store.set_status(conn, path_ref, store.ACTIVE, actor=actor_id()))


@bp.post(f"{PATHS}/import")
@require("admin")
@documented(
    "Import a document (admin): creates the path, or replaces the draft of the path with its id",
    description="201 when it created the path, 200 when it replaced a draft. " + _DOCUMENT_RULES + _KEY_RULES
                + _ARCHIVED + "With ?publish=true the draft is published too, all or nothing: if publishing "
                "is refused (422 with every problem, 409) nothing is saved; importing a file identical to the "
                "latest version publishes nothing and answers that version.",
    query=[Param("publish", {"type": "boolean", "default": False}, "Also publish the imported draft")],
    **_DOCUMENT, returns=IMPORTED, status=201, responses={200: IMPORTED}, errors=[409],
)
def import_path():
    publish_it = query_args()["publish"]
    document = json_body()
    ctx, registry, limits, apps = _rules()
    with ctx.begin() as conn:
        result = store.import_document(conn, document, registry, actor=actor_id(), emit=ctx.emit,
                                       publish_it=publish_it, limits=limits, known_apps=apps)
    body = {**_with_issues(result.path, result.issues), "created": result.created,
            "published_version": result.version}
    return jsonify(body), 201 if result.created else 200


@bp.get(f"{ONE_PATH}/export")
@require("agent")
@documented("Export a document as a JSON file (Content-Disposition: attachment)",
            description="The latest published version, ?version=N, or ?version=draft; the draft when nothing "
                        "is published yet. 404 for a version that does not exist.",
            query=[VERSION_PARAM], returns=DOCUMENT_REF, schemas=DOCUMENT_COMPONENTS)
def export_path(path_ref: str):
    raw = query_args()["version"]
    # The declaration documents "an integer or 'draft'"; Param checks one type, so the number is parsed here.
    version = raw if raw in (None, "draft") else parse_int(raw, field="version", minimum=1, maximum=MAX_VERSION)
    with tenant_ctx().engine.connect() as conn:
        document, filename = store.export_document(conn, path_ref, version)
    response = Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
