"""Guided Path documents in a tenant's database: drafts, published versions, archive.

Plain functions over a tenant :class:`~sqlalchemy.Connection`, like
``guidepath.core.domain``: the caller owns the transaction (so an API request, the
CLI and the demo seeding share one code path) and passes in the step types and the
size limits, so this module holds no state and knows nothing of Flask.

The rules:

* A **draft** is saved only if it is structurally a Guided Path document (the
  published JSON Schema, JSON only, size limits): otherwise nothing is written and
  :class:`InvalidDocument` carries *every* problem. Graph-level problems (a missing
  target, an unreachable step, an unknown variable…) are allowed while editing and
  reported with the draft.
* **Publishing** runs the full validation, including subpath targets against the
  tenant's published paths; any problem refuses it, with all problems listed.
  A published version is immutable: there is no function that changes one.
* A path is known by its id (``gp_…``) or by its key, the document's ``id`` slug.
  The two cannot be confused: keys never contain ``_``.

Example::

    with ctx.begin() as conn:
        path, issues = store.create(conn, document, registry, actor="user:usr_…")
        version = store.publish(conn, path["id"], registry, actor="user:usr_…", emit=ctx.emit)
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping, Optional, Sequence

from sqlalchemy import Connection, select

from guidepath.core.plugin_api import Conflict, Invalid, NotFound, audit, new_id
from guidepath.core.plugin_api import (
    DEFAULT_PAGE,
    Page,
    decode_cursor,
    encode_cursor,
    iso,
    keyset_page,
    utcnow,
)

from .tables import PATH_STATUSES, guided_path_media, guided_path_versions, guided_paths
from .sansio.validation import DEFAULT_LIMITS, Issue, Limits, validate_document

if TYPE_CHECKING:  # pragma: no cover
    from .sansio.step_types import StepTypeRegistry

Emit = Callable[[Connection, str, dict[str, Any]], None]
#: ``{app_id: app}``, the tenant's allowlist of Guided Path Apps; ``None`` skips the
#: check while editing (the API always passes it; publishing treats ``None`` as empty).
KnownApps = Optional[Mapping[str, Mapping[str, Any]]]

ACTIVE, ARCHIVED = PATH_STATUSES

#: Issue codes that make a document unsavable even as a draft: it is not a Guided
#: Path document at all (or too big to keep). Everything else is editing work in
#: progress, reported with the draft and refused only at publish time.
_STRUCTURAL_PREFIXES = ("schema.", "document.", "step_config.", "validation.")
_STRUCTURAL_CODES = frozenset({"limits.document_too_large", "limits.too_many_steps"})

#: Keys that would shadow routes under /api/v1/guided-paths/.
RESERVED_KEYS = frozenset({"schema", "import", "media"})

_PATH_ID = re.compile(r"gp_[0-9a-z]{26}")
_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class InvalidDocument(Invalid):
    """A document with problems: 422 with every problem in ``error.issues``.

    ``field`` is the first problem's JSON Pointer, ``message`` counts them and
    quotes the first. ``details`` is merged into the JSON error object by the
    API (see ``api/documents.py``); it is the attribute the kernel's error
    rendering would read for extra fields.
    """

    code = "invalid_document"

    def __init__(self, issues: Sequence[Issue], *, doing: str = "saving this document") -> None:
        issues = list(issues)
        count = len(issues)
        first = issues[0] if issues else None
        message = f"{count} problem{'s' if count != 1 else ''} prevent{'s' if count == 1 else ''} {doing}"
        if first is not None:
            message += f"; the first, at {first.pointer or 'the document root'}: {first.message}"
        super().__init__(message, field=first.pointer if first else None)
        self.issues = issues
        self.details = {"issues": [issue_dict(i) for i in issues]}


def issue_dict(issue: Issue) -> dict[str, str]:
    return {"pointer": issue.pointer, "code": issue.code, "message": issue.message}


def is_structural(issue: Issue) -> bool:
    return issue.code in _STRUCTURAL_CODES or issue.code.startswith(_STRUCTURAL_PREFIXES)


# -- reading ------------------------------------------------------------------------


def _row(conn: Connection, ref: str, *, lock: bool = False) -> Any:
    """The path row for an id (``gp_…``) or a key; 404 naming what was asked for."""
    t = guided_paths
    if isinstance(ref, str) and _PATH_ID.fullmatch(ref):
        query = select(t).where(t.c.id == ref)
    elif isinstance(ref, str) and _KEY.fullmatch(ref):
        query = select(t).where(t.c.key == ref)
    else:
        raise NotFound(f"guided path {ref!r} not found", field="id")
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"guided path {ref!r} not found", field="id")
    return row


def path_row(conn: Connection, ref: str, *, lock: bool = False) -> Any:
    """The ``guided_paths`` row of an id or key (locked on PostgreSQL with ``lock``); 404 if none."""
    return _row(conn, ref, lock=lock)


def version_document(conn: Connection, path_id: str, version: int) -> dict:
    """The document of a published version (which always exists for a run's pin)."""
    row = _version_row(conn, path_id, version)
    if row is None:
        raise NotFound(f"guided path {path_id!r} has no version {version}", field="version")
    return row.document


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "title": row.title,
        "status": row.status,
        "latest_version": row.latest_version,
        "draft_updated_at": iso(row.draft_updated_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _full(conn: Connection, row: Any, issues: Sequence[Issue] | None) -> dict[str, Any]:
    out = _summary(row)
    latest = _version_row(conn, row.id, row.latest_version) if row.latest_version else None
    out["draft"] = row.draft
    out["draft_changed"] = latest is None or _canonical(latest.document) != _canonical(row.draft)
    if issues is not None:
        out["issues"] = [issue_dict(i) for i in issues]
    return out


def get(conn: Connection, ref: str, registry: StepTypeRegistry | None = None,
        *, limits: Limits = DEFAULT_LIMITS, known_apps: KnownApps = None) -> dict[str, Any]:
    """A path with its draft; with ``registry``, also the draft's ``issues`` (what
    publishing it now would refuse, subpath targets, apps and media included)."""
    row = _row(conn, ref)
    issues = None
    if registry is not None:
        issues = validate_document(row.draft, registry, limits=limits, **_known(conn, known_apps))
    return _full(conn, row, issues)


def path_id_for(conn: Connection, ref: str) -> str:
    return _row(conn, ref).id


def list_paths(conn: Connection, *, status: str | None = ACTIVE, limit: int = DEFAULT_PAGE,
               cursor: str | None = None) -> Page:
    """Paths without their drafts, oldest first; ``status`` ``None`` lists all."""
    t = guided_paths
    query = select(t)
    if status is not None:
        if status not in PATH_STATUSES:
            raise Invalid(f"status must be one of {', '.join(PATH_STATUSES)} or 'all'", field="status")
        query = query.where(t.c.status == status)
    return keyset_page(conn, query, t.c.id, limit=limit, cursor=cursor, render=_summary)


def _known(conn: Connection, known_apps: KnownApps) -> dict[str, Any]:
    """What names in a document must exist: published paths, apps, media."""
    return {"known_paths": published_documents(conn), "known_apps": known_apps,
            "known_media": media_ids(conn)}


def media_ids(conn: Connection) -> set[str]:
    """File ids of the tenant's Guided Path media (what message steps may show)."""
    return set(conn.execute(select(guided_path_media.c.file_id)).scalars())


def published_documents(conn: Connection) -> dict[str, dict]:
    """``{key: latest published document}`` of the tenant's active paths: what
    subpath steps may name."""
    p, v = guided_paths, guided_path_versions
    rows = conn.execute(
        select(p.c.key, v.c.document)
        .join(v, (v.c.path_id == p.c.id) & (v.c.version == p.c.latest_version))
        .where(p.c.status == ACTIVE)
    ).all()
    return {r.key: r.document for r in rows}


def latest_published(conn: Connection, key: str) -> tuple[str, int, dict] | None:
    """``(path id, version, document)`` of the latest published version of ``key``
    (archived or not: a published parent keeps working), or ``None``."""
    p, v = guided_paths, guided_path_versions
    row = conn.execute(
        select(p.c.id, v.c.version, v.c.document)
        .join(v, (v.c.path_id == p.c.id) & (v.c.version == p.c.latest_version))
        .where(p.c.key == key)
    ).first()
    return (row.id, row.version, row.document) if row else None


def _version_row(conn: Connection, path_id: str, version: int) -> Any:
    v = guided_path_versions
    return conn.execute(select(v).where(v.c.path_id == path_id, v.c.version == version)).first()


def get_version(conn: Connection, ref: str, version: int) -> dict[str, Any]:
    """One published version, document included."""
    row = _row(conn, ref)
    found = _version_row(conn, row.id, version)
    if found is None:
        published = f"versions 1 to {row.latest_version}" if row.latest_version else "no versions yet"
        raise NotFound(f"guided path {row.key!r} has no version {version} ({published})", field="version")
    return {**_version_summary(found, row.key), "document": found.document}


def _version_summary(row: Any, key: str) -> dict[str, Any]:
    return {"path_id": row.path_id, "key": key, "version": row.version,
            "title": _title_of(row.document), "published_at": iso(row.published_at),
            "published_by": row.published_by}


def list_versions(conn: Connection, ref: str, *, limit: int = DEFAULT_PAGE,
                  cursor: str | None = None) -> Page:
    """Published versions, newest first, without their documents."""
    row = _row(conn, ref)
    v = guided_path_versions
    query = select(v).where(v.c.path_id == row.id).order_by(v.c.version.desc()).limit(limit + 1)
    if cursor:
        query = query.where(v.c.version < _decode_version_cursor(cursor))
    rows = conn.execute(query).all()
    items = [_version_summary(r, row.key) for r in rows[:limit]]
    return Page(items, encode_cursor(f"v{items[-1]['version']}") if len(rows) > limit else None)


# -- writing ------------------------------------------------------------------------


def check_draft(document: Any, registry: StepTypeRegistry, *, limits: Limits = DEFAULT_LIMITS,
                known_paths: Mapping[str, dict] | None = None, known_apps: KnownApps = None,
                known_media: Collection[str] | None = None) -> list[Issue]:
    """Every issue of ``document``; raises :class:`InvalidDocument` when it cannot
    even be saved as a draft (structural problems), with *all* issues listed."""
    issues = validate_document(document, registry, known_paths=known_paths, limits=limits,
                               known_apps=known_apps, known_media=known_media)
    if any(is_structural(i) for i in issues):
        raise InvalidDocument(issues, doing="saving this document")
    return issues


def create(conn: Connection, document: Any, registry: StepTypeRegistry, *, actor: str | None = None,
           limits: Limits = DEFAULT_LIMITS, known_apps: KnownApps = None) -> tuple[dict[str, Any], list[Issue]]:
    """A new path whose draft is ``document``; 409 if its ``id`` (key) is taken."""
    issues = check_draft(document, registry, limits=limits, **_known(conn, known_apps))
    key = document["id"]
    _refuse_taken_key(conn, key)
    now = utcnow()
    path_id = new_id("gp")
    conn.execute(guided_paths.insert().values(
        id=path_id, key=key, title=_title_of(document), status=ACTIVE,
        draft=copy.deepcopy(document), draft_updated_at=now, latest_version=None,
        created_at=now, updated_at=now,
    ))
    return _full(conn, _row(conn, path_id), None), issues


def _refuse_taken_key(conn: Connection, key: str, *, other_than: str | None = None) -> None:
    if key in RESERVED_KEYS:
        raise Invalid(f"{key!r} is reserved (it names an API route); choose another id", field="/id")
    t = guided_paths
    row = conn.execute(select(t.c.id, t.c.status).where(t.c.key == key)).first()
    if row is not None and row.id != other_than:
        archived = " (archived: restore it instead)" if row.status == ARCHIVED else ""
        raise Conflict(f"a guided path with id {key!r} already exists{archived}; choose another id",
                       field="/id", code="key_taken")


def replace_draft(conn: Connection, ref: str, document: Any, registry: StepTypeRegistry, *,
                  actor: str | None = None, limits: Limits = DEFAULT_LIMITS, known_apps: KnownApps = None
                  ) -> tuple[dict[str, Any], list[Issue]]:
    """PUT: the draft becomes ``document``. Published versions never change."""
    row = _row(conn, ref, lock=True)
    _refuse_archived(row, "edit")
    issues = check_draft(document, registry, limits=limits, **_known(conn, known_apps))
    key = document["id"]
    if key != row.key:
        if row.latest_version is not None:
            raise Conflict(
                f"the id of a published path cannot change (it is {row.key!r}; subpaths and "
                "runs refer to it); import the document as a new path instead",
                field="/id", code="key_immutable",
            )
        _refuse_taken_key(conn, key, other_than=row.id)
    now = utcnow()
    conn.execute(guided_paths.update().where(guided_paths.c.id == row.id).values(
        key=key, title=_title_of(document), draft=copy.deepcopy(document),
        draft_updated_at=now, updated_at=now,
    ))
    return _full(conn, _row(conn, row.id), None), issues


def patch_draft(conn: Connection, ref: str, patch: Any, registry: StepTypeRegistry, *,
                actor: str | None = None, limits: Limits = DEFAULT_LIMITS, known_apps: KnownApps = None
                ) -> tuple[dict[str, Any], list[Issue]]:
    """PATCH: apply a JSON Merge Patch (RFC 7396) to the draft, then as PUT."""
    if not isinstance(patch, dict):
        raise Invalid("a merge patch must be a JSON object", field="body")
    row = _row(conn, ref)
    return replace_draft(conn, row.id, merge_patch(row.draft, patch), registry,
                         actor=actor, limits=limits, known_apps=known_apps)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class Published:
    path: dict[str, Any]
    version: int


def publish(conn: Connection, ref: str, registry: StepTypeRegistry, *, actor: str | None, emit: Emit,
            limits: Limits = DEFAULT_LIMITS, known_apps: KnownApps = None) -> Published:
    """Make the draft version N+1, immutable. Any problem refuses it, all listed.

    ``known_apps`` is the tenant's allowlist of Guided Path Apps (``{app_id: app}``
    from the ``list_guided_path_apps`` hook); ``None`` means no app is allowed, so
    a draft with an ``app`` step is refused."""
    row = _row(conn, ref, lock=True)
    _refuse_archived(row, "publish")
    issues = validate_document(row.draft, registry, limits=limits, **_known(conn, known_apps or {}))
    if issues:
        raise InvalidDocument(issues, doing="publishing this draft")
    if row.latest_version is not None:
        latest = _version_row(conn, row.id, row.latest_version)
        if _canonical(latest.document) == _canonical(row.draft):
            raise Conflict(
                f"the draft is identical to version {row.latest_version}, which is already published; "
                "change the draft first",
                code="draft_unchanged",
            )
    version = (row.latest_version or 0) + 1
    now = utcnow()
    conn.execute(guided_path_versions.insert().values(
        path_id=row.id, version=version, document=copy.deepcopy(row.draft),
        published_at=now, published_by=actor,
    ))
    conn.execute(guided_paths.update().where(guided_paths.c.id == row.id)
                 .values(latest_version=version, updated_at=now))
    audit.record(conn, actor, "guided_path.published", row.id, {"key": row.key, "version": version})
    emit(conn, "guided_path.published", {"path_id": row.id, "path_key": row.key, "version": version})
    return Published(_full(conn, _row(conn, row.id), []), version)


def set_status(conn: Connection, ref: str, status: str, *, actor: str | None) -> dict[str, Any]:
    """Archive (no new runs, no edits) or restore a path; runs in progress go on."""
    row = _row(conn, ref, lock=True)
    if row.status == status:
        raise Conflict(f"guided path {row.key!r} is already {status}", field="status",
                       code=f"already_{status}")
    conn.execute(guided_paths.update().where(guided_paths.c.id == row.id)
                 .values(status=status, updated_at=utcnow()))
    audit.record(conn, actor, "guided_path.archived" if status == ARCHIVED else "guided_path.restored",
                 row.id, {"key": row.key})
    return _full(conn, _row(conn, row.id), None)


def _refuse_archived(row: Any, doing: str) -> None:
    if row.status == ARCHIVED:
        raise Conflict(f"guided path {row.key!r} is archived; restore it before you {doing} it",
                       code="path_archived")


# -- import and export ------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    path: dict[str, Any]
    issues: list[Issue]
    created: bool
    version: int | None


def import_document(conn: Connection, document: Any, registry: StepTypeRegistry, *, actor: str | None,
                    emit: Emit, publish_it: bool = False, limits: Limits = DEFAULT_LIMITS,
                    known_apps: KnownApps = None) -> Imported:
    """Create the path, or replace the draft of the path with the document's ``id``;
    with ``publish_it``, publish it too (all or nothing: the caller's transaction
    rolls the draft back if publishing is refused)."""
    key = document.get("id") if isinstance(document, dict) else None
    existing = None
    if isinstance(key, str) and _KEY.fullmatch(key):
        existing = conn.execute(select(guided_paths.c.id).where(guided_paths.c.key == key)).first()
    if existing is None:
        path, issues = create(conn, document, registry, actor=actor, limits=limits, known_apps=known_apps)
    else:
        path, issues = replace_draft(conn, existing.id, document, registry, actor=actor, limits=limits,
                                     known_apps=known_apps)
    audit.record(conn, actor, "guided_path.imported", path["id"], {"key": path["key"]})
    version = None
    if publish_it:
        if path["latest_version"] is not None and not path["draft_changed"]:
            version = path["latest_version"]  # importing the same file twice is not an error
        else:
            published = publish(conn, path["id"], registry, actor=actor, emit=emit, limits=limits,
                                known_apps=known_apps)
            path, issues, version = published.path, [], published.version
    return Imported(path, issues, existing is None, version)


def export_document(conn: Connection, ref: str, version: int | str | None = None) -> tuple[dict, str]:
    """``(document, file name)``: a published version (the latest by default), or
    the draft with ``version="draft"`` or when nothing was published yet."""
    row = _row(conn, ref)
    if version == "draft" or (version is None and row.latest_version is None):
        return copy.deepcopy(row.draft), f"{row.key}.draft.json"
    number = row.latest_version if version is None else version
    found = get_version(conn, row.id, int(number))
    return found["document"], f"{row.key}.v{number}.json"


# -- helpers ----------------------------------------------------------------------


def _title_of(document: dict) -> str:
    """The title in the document's default locale, for lists and logs."""
    title = document.get("title")
    if isinstance(title, dict):
        locales = document.get("locales") or []
        title = title.get(locales[0]) if locales and locales[0] in title else next(iter(title.values()), "")
    return str(title or "")[:200]


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _decode_version_cursor(cursor: str) -> int:
    return int(decode_cursor(cursor, re.compile(r"v[1-9][0-9]{0,8}"))[1:])
