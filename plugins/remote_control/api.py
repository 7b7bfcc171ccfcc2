"""Routes of the remote control plugin: recordings (and the ``/nexus`` viewer page,
:mod:`.viewer`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, stream_with_context

from guidepath.core.plugin_api import actor_id, audit, documented, require, support_sessions, tenant_ctx

from . import recordings

bp = Blueprint("remote_control", __name__)

RECORDINGS = "/api/v1/sessions/<session_id>/recordings"

RECORDING = {
    "type": "object",
    "required": ["id", "kind", "size", "created_at", "sha256"],
    "properties": {
        "id": {"type": "string", "description": "The file id: GET …/recordings/{id} downloads it"},
        "kind": {"enum": list(recordings.KINDS)},
        "size": {"type": "integer", "minimum": 0},
        "created_at": {"type": "string", "format": "date-time"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}
#: Every recording at once: `next` is always null (a session has a handful).
RECORDINGS_PAGE = {
    "type": "object", "required": ["items", "next"],
    "properties": {"items": {"type": "array", "items": RECORDING},
                   "next": {"type": "null", "description": "Always null: every recording is listed at once"}},
}


@bp.get(RECORDINGS)
@require("agent")
@documented("The session's recordings (remote control and camera), oldest first", query=[],
            returns=RECORDINGS_PAGE)
def list_recordings(session_id: str):
    ctx = tenant_ctx()
    with ctx.engine.connect() as conn:
        support_sessions.get(conn, session_id)  # 404 for an unknown session
    return jsonify({"items": recordings.list_for(ctx.files, session_id), "next": None})


@bp.get(RECORDINGS + "/<file_id>")
@require("agent")
@documented("A recording's decrypted bytes, as a file download",
            description="The format is described in docs/relay-protocol.md (Recordings). Each download is "
                        "written to the audit log (recording.opened). 404 for a file that is not one of this "
                        "session's recordings.",
            query=[], returns={"type": "string", "format": "binary"}, returns_media_type=recordings.CONTENT_TYPE)
def get_recording(session_id: str, file_id: str):
    ctx = tenant_ctx()
    with ctx.engine.connect() as conn:
        support_sessions.get(conn, session_id)
    info = recordings.get(ctx.files, session_id, file_id)
    with ctx.begin() as conn:  # who replayed a customer's screen is worth an audit line
        audit.record(conn, actor_id(), "recording.opened", file_id, {"session_id": session_id})
    chunks = ctx.files.open(file_id)
    return Response(stream_with_context(chunks), mimetype=info.content_type,
                    headers={"Content-Length": str(info.size),
                             "Content-Disposition": f'attachment; filename="{info.name}"'})
