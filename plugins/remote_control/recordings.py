"""Finding a session's recordings among the tenant's files.

The relay writes each recording as one file of the tenant's encrypted store, named
after the session (:func:`guidepath.relay.hosting.recording_name`); the file id is in
the ``recording.saved`` event. Listing scans the tenant's files, which is fine for
hundreds of files; an index table is the next step when tenants keep thousands.
"""

from __future__ import annotations

from typing import Any

from guidepath.core.plugin_api import FileInfo, NotFound, iso
from guidepath.relay.hosting import recording_name
from guidepath.relay.recording import CONTENT_TYPE

KINDS = ("remote_control", "camera")


def _is_of(info: FileInfo, session_id: str) -> str | None:
    if info.content_type != CONTENT_TYPE:
        return None
    for kind in KINDS:
        if info.name == recording_name(kind, session_id):
            return kind
    return None


def describe(info: FileInfo, kind: str) -> dict[str, Any]:
    return {"id": info.id, "kind": kind, "size": info.size, "created_at": iso(info.created_at),
            "sha256": info.sha256}


def list_for(files: Any, session_id: str) -> list[dict[str, Any]]:
    """The session's recordings, oldest first."""
    found = []
    for info in files.list():
        kind = _is_of(info, session_id)
        if kind is not None:
            found.append(describe(info, kind))
    return found


def get(files: Any, session_id: str, file_id: str) -> FileInfo:
    """The recording's file info; 404 for any file that is not this session's recording."""
    try:
        info = files.info(file_id)
    except (FileNotFoundError, ValueError):
        raise NotFound(f"recording {file_id!r} not found", field="file_id") from None
    if _is_of(info, session_id) is None:
        raise NotFound(f"recording {file_id!r} not found", field="file_id")
    return info
