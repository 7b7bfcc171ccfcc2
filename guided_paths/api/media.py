"""The Guided Path media API: admins upload images and videos for message steps,
agents list and download them, admins delete what no path shows.

Views are thin: the rules (content sniffing, size cap, what may be deleted) are in
:mod:`~guidepath.guided_paths.media`. Every view is ``@documented``: the
declaration checks the query string before the view runs and is what
``GET /api/openapi.json`` says about the route.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from guidepath.core.plugin_api import (
    PAGING,
    Param,
    TooLarge,
    actor_id,
    documented,
    page_of,
    query_args,
    require,
    tenant_ctx,
)

from .. import media
from ..plugin import settings
from .schemas import BINARY, MEDIA as MEDIA_ITEM

bp = Blueprint("guided_path_media", __name__)

MEDIA = "/api/v1/guided-paths/media"

NAME = Param("name", {"type": "string", "maxLength": 1024, "pattern": "^[^\\x00-\\x1f\\x7f]*$"},
             "The file's name, kept with it (no control characters; the file store's limit of 1,024 characters)")


@bp.post(MEDIA)
@require("admin")
@documented(
    "Upload an image or video for message steps (admin)",
    description="The raw bytes as the body, with their Content-Type: one of "
                f"{', '.join(media.CONTENT_TYPES)} (415 otherwise; no SVG or HTML). The first bytes must "
                "really be that kind of file and the body may not be empty (422). Streamed into the "
                "account's encrypted file store; at most the guided_paths setting max_media_bytes (413 "
                "beyond, nothing kept). The answer's `url` (also in Location) downloads it.",
    query=[NAME], returns=MEDIA_ITEM, status=201,
    requestBody={"required": True, "content": {kind: {"schema": BINARY} for kind in media.CONTENT_TYPES}},
)
def upload_media():
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
                             name=query_args()["name"] or "", actor=actor_id())
    response = jsonify(described)
    response.headers["Location"] = described["url"]
    return response, 201


@bp.get(MEDIA)
@require("agent")
@documented("List the account's Guided Path media (any agent; paginated): file id, content type, size, "
            "sha256, who uploaded it and when, its URL", query=PAGING, returns=page_of(MEDIA_ITEM))
def list_media():
    with tenant_ctx().engine.connect() as conn:
        page = media.list_media(conn, **query_args())
    return jsonify(page.as_dict())


@bp.delete(f"{MEDIA}/<file_id>")
@require("admin")
@documented("Delete Guided Path media (admin): the row and the encrypted file",
            description="Refused with 409 `media_in_use` (naming the drafts and versions) while any draft or "
                        "published version shows it: published versions are immutable and their runs must "
                        "still render.", query=[], status=204, errors=[409])
def delete_media(file_id: str):
    media.delete_media(tenant_ctx(), file_id, actor=actor_id())
    return "", 204


@bp.get(f"{MEDIA}/<file_id>")
@require("agent")
@documented("Download Guided Path media (any agent): the file's bytes with their content type",
            description="Range requests (206 with Content-Range; 416 beyond the end) and If-None-Match with "
                        "the ETag (its sha256; 304) are answered. 404 for an id that is not this account's "
                        "Guided Path media (no other file of the account is reachable here).",
            query=[], returns=BINARY, returns_media_type=tuple(media.CONTENT_TYPES),
            responses={206: BINARY, 304: None}, errors=[416])
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
