"""Guided Path media: images and videos that message steps show.

The bytes live in the tenant's file store (encrypted under the tenant's data key,
stored under an id the store generates); a row in ``guided_path_media`` marks a
file as Guided Path media, which is what makes it readable through
``GET /api/v1/guided-paths/media/{file_id}`` — no other file of the tenant (a
recording, an export) can be fetched there, whatever id a caller tries.

Uploads are checked before anything is kept: the content type must be one of
:data:`CONTENT_TYPES` (no SVG or HTML: they can carry scripts), the first bytes
must really be that kind of file, and the size is capped (the plugin setting
``max_media_bytes``) while the body streams into the store, so a large upload
never sits in memory. A refused upload leaves nothing behind.

Example::

    info = media.upload(ctx, request.stream, content_type="image/png", max_bytes=20 << 20,
                        actor="user:usr_…")
    chunks, row = media.open_media(ctx, info["file_id"])
    page = media.list_media(conn, limit=50, cursor=None)
    media.delete_media(ctx, file_id, actor="user:usr_…")  # 409 while a path shows it

Deleting is refused while any draft or published version of a path shows the
media: a published version is immutable and runs pinned to it must still render.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

import logging

from sqlalchemy import select

from guidepath.core.plugin_api import (
    Conflict,
    Invalid,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
    Page,
    audit,
    decode_cursor,
    encode_cursor,
    iso,
    utcnow,
)

from .tables import guided_path_media, guided_path_versions, guided_paths

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import TenantContext

#: Content types an admin may upload, with a check of the file's first bytes.
CONTENT_TYPES: dict[str, Any] = {
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "image/gif": lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    "video/mp4": lambda head: head[4:8] == b"ftyp",
    "video/webm": lambda head: head.startswith(b"\x1a\x45\xdf\xa3"),
}
_HEAD_BYTES = 12
_CHUNK = 64 * 1024
_FILE_ID = re.compile(r"fil_[A-Za-z0-9_-]{43}")
URL = "/api/v1/guided-paths/media/{file_id}"


def _describe(row: Any) -> dict[str, Any]:
    return {"file_id": row.file_id, "content_type": row.content_type, "size": row.size,
            "sha256": row.sha256, "created_by": row.created_by, "created_at": iso(row.created_at),
            "url": URL.format(file_id=row.file_id)}


def check_content_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"Guided Path media must be sent as one of {', '.join(CONTENT_TYPES)} "
            f"(the body's Content-Type), not {kind or 'nothing'!r}", field="Content-Type")
    return kind


def _checked_chunks(source: BinaryIO, content_type: str, max_bytes: int) -> Iterator[bytes]:
    """The body in chunks; raises (so the store throws the partial file away) when
    it is empty, too large, or does not start like ``content_type``."""
    size = 0
    head = b""
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            break
        if len(head) < _HEAD_BYTES:
            head += chunk[:_HEAD_BYTES - len(head)]
            if len(head) >= _HEAD_BYTES and not CONTENT_TYPES[content_type](head):
                raise Invalid(f"the body is not a {content_type} file (its first bytes say otherwise)",
                              field="body")
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"Guided Path media may be at most {max_bytes} bytes (plugin setting "
                           "max_media_bytes of guided_paths)", field="body")
        yield chunk
    if size == 0:
        raise Invalid("the body is empty; send the file's bytes", field="body")
    if len(head) < _HEAD_BYTES and not CONTENT_TYPES[content_type](head):
        raise Invalid(f"the body is not a {content_type} file (its first bytes say otherwise)", field="body")


def upload(ctx: TenantContext, source: BinaryIO, *, content_type: str, max_bytes: int, name: str = "",
           actor: str | None) -> dict[str, Any]:
    """Stream ``source`` into the tenant's file store and record it as media."""
    kind = check_content_type(content_type)
    try:
        info = ctx.files.put(_checked_chunks(source, kind, max_bytes), name=name, content_type=kind)
    except ValueError as exc:  # the store's own checks (a name with control characters)
        raise Invalid(str(exc), field="name") from None
    try:
        with ctx.begin() as conn:
            conn.execute(guided_path_media.insert().values(
                file_id=info.id, content_type=kind, size=info.size, sha256=info.sha256,
                created_by=actor, created_at=utcnow()))
            row = conn.execute(select(guided_path_media).where(guided_path_media.c.file_id == info.id)).one()
    except BaseException:
        ctx.files.delete(info.id)  # no file without its row
        raise
    return _describe(row)


def _row(conn: Any, file_id: str) -> Any:
    row = None
    if isinstance(file_id, str) and _FILE_ID.fullmatch(file_id):
        row = conn.execute(select(guided_path_media).where(guided_path_media.c.file_id == file_id)).first()
    if row is None:
        raise NotFound(f"there is no Guided Path media {file_id!r}", field="file_id")
    return row


def open_media(ctx: TenantContext, file_id: str) -> tuple[Iterator[bytes], dict[str, Any]]:
    """``(decrypted chunks, description)``; 404 unless ``file_id`` is this tenant's media."""
    with ctx.engine.connect() as conn:
        row = _row(conn, file_id)
    try:
        return ctx.files.open(row.file_id), _describe(row)
    except FileNotFoundError:
        raise NotFound(f"the file of Guided Path media {file_id!r} is gone", field="file_id") from None


def list_media(conn: Any, *, limit: int, cursor: str | None) -> Page:
    """A page of the tenant's media, in file id order (``next`` resumes after it)."""
    query = select(guided_path_media).order_by(guided_path_media.c.file_id).limit(limit + 1)
    if cursor:
        query = query.where(guided_path_media.c.file_id > decode_cursor(cursor, _FILE_ID))
    rows = conn.execute(query).all()
    items = [_describe(r) for r in rows[:limit]]
    return Page(items, encode_cursor(items[-1]["file_id"]) if len(rows) > limit else None)


def _shown_media(document: Any) -> set[str]:
    """The file ids a path document's message steps show."""
    steps = document.get("steps") if isinstance(document, dict) else None
    found: set[str] = set()
    for step in (steps or {}).values() if isinstance(steps, dict) else ():
        media = step.get("media") if isinstance(step, dict) else None
        for item in media if isinstance(media, list) else ():
            if isinstance(item, dict) and isinstance(item.get("file_id"), str):
                found.add(item["file_id"])
    return found


def usages(conn: Any, file_id: str) -> list[str]:
    """Where ``file_id`` is shown: ``"{key} draft"`` and ``"{key} v{n}"``, sorted."""
    used = [f"{row.key} draft" for row in conn.execute(select(guided_paths.c.key, guided_paths.c.draft))
            if file_id in _shown_media(row.draft)]
    versions = select(guided_paths.c.key, guided_path_versions.c.version, guided_path_versions.c.document).join_from(
        guided_path_versions, guided_paths, guided_path_versions.c.path_id == guided_paths.c.id)
    used += [f"{row.key} v{row.version}" for row in conn.execute(versions) if file_id in _shown_media(row.document)]
    return sorted(used)


def delete_media(ctx: TenantContext, file_id: str, *, actor: str | None) -> None:
    """Delete media no path shows (409 ``media_in_use`` naming where it is shown).

    The row goes in one transaction with its audit entry; the encrypted file after
    the commit (a file left behind by a crash is unreadable through the API, which
    only serves files that have a row)."""
    with ctx.begin() as conn:
        row = _row(conn, file_id)
        shown = usages(conn, row.file_id)
        if shown:
            listed = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
            raise MediaInUse(f"Guided Path media {file_id!r} is shown by {listed}; remove it from those "
                             "steps (published versions stay as they are: archive the path instead)",
                             field="file_id")
        conn.execute(guided_path_media.delete().where(guided_path_media.c.file_id == row.file_id))
        audit.record(conn, actor, "guided_path_media.deleted", row.file_id,
                     {"content_type": row.content_type, "size": row.size, "sha256": row.sha256})
    try:
        ctx.files.delete(row.file_id)
    except FileNotFoundError:
        pass
    except OSError:
        log.warning("media file left behind", extra={"file_id": row.file_id, "tenant_id": ctx.id})


class MediaInUse(Conflict):
    code = "media_in_use"
