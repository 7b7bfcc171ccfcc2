"""The Guided Path media API: admins upload images and videos for message steps,
agents list and download them, admins delete what no path shows.

Views are thin: the rules (content sniffing, size cap, what may be deleted) are in
:mod:`~guidepath.guided_paths.media`. Every view has an ``openapi`` attribute (a
test fails for an undocumented route).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from guidepath.core.plugin_api import TooLarge, actor_id, documented, paging, reject_unknown, require, tenant_ctx

from .. import media
from ..plugin import settings

bp = Blueprint("guided_path_media", __name__)

MEDIA = "/api/v1/guided-paths/media"


@bp.post(MEDIA)
@require("admin")
@documented(
    "Upload an image or video for message steps (admin): the raw bytes as the body, with "
    "their Content-Type (image/png, image/jpeg, image/gif, image/webp, video/mp4, video/webm); "
    "?name= an optional file name. Streamed into the tenant's encrypted file store; at most "
    "the guided_paths setting max_media_bytes (413 beyond)",
    requestBody={"required": True, "content": {
        kind: {"schema": {"type": "string", "format": "binary"}} for kind in media.CONTENT_TYPES}},
)
def upload_media():
    reject_unknown({"name"})
    ctx = tenant_ctx()
    limit = settings(ctx)["max_media_bytes"]
    kind = media.check_content_type(request.content_type)
    declared = request.content_length
    if declared is not None and declared > limit:
        raise TooLarge(f"Guided Path media may be at most {limit} bytes (plugin setting "
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
@documented("List the tenant's Guided Path media (any agent): file id, content type, size, sha256, "
             "who uploaded it and when, its URL; paginated (limit, cursor)")
def list_media():
    reject_unknown({"limit", "cursor"})
    with tenant_ctx().engine.connect() as conn:
        page = media.list_media(conn, **paging())
    return jsonify(page.as_dict())


@bp.delete(f"{MEDIA}/<file_id>")
@require("admin")
@documented("Delete Guided Path media (admin): the row and the encrypted file; 409 media_in_use "
             "(naming the drafts and versions) while any path shows it")
def delete_media(file_id: str):
    media.delete_media(tenant_ctx(), file_id, actor=actor_id())
    return "", 204


@bp.get(f"{MEDIA}/<file_id>")
@require("agent")
@documented("Download Guided Path media (any agent): the file's bytes with their content type; "
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
