"""What is known about a stored file, and how it is kept encrypted at rest.

File names and content types are customer data (a name alone can say who a
customer is or what went wrong), so they are sealed like the contents. The sealed
record lives in a sidecar next to the content file; its key is derived from the
tenant's data key and the file id, so a record moved to another id or another
tenant's container does not open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from guidepath.core.crypto import DecryptionError, hkdf_sha256, open_sealed, seal

MAX_NAME_LENGTH = 1024
MAX_CONTENT_TYPE_LENGTH = 255
_RECORD_VERSION = 1


@dataclass(frozen=True)
class FileInfo:
    """A stored file's metadata; ``sha256`` is the hex digest of the plaintext."""

    id: str
    name: str
    content_type: str
    size: int
    created_at: datetime
    sha256: str


def check_name(name: str) -> str:
    """Accept any file name a person might give, but no control characters.

    Names are never used as paths; control characters are refused because they
    have no place in a file name and cause trouble in headers and logs.
    """
    if not isinstance(name, str):
        raise TypeError("name must be a str")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"file name is longer than {MAX_NAME_LENGTH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ValueError("file name contains control characters")
    return name


def check_content_type(content_type: str) -> str:
    """Accept a ``type/subtype`` media type in printable ASCII.

    It is sent back verbatim in a ``Content-Type`` header, so anything that could
    break out of a header line (CR, LF, non-ASCII) is refused here.
    """
    if not isinstance(content_type, str):
        raise TypeError("content_type must be a str")
    if (
        not 3 <= len(content_type) <= MAX_CONTENT_TYPE_LENGTH
        or not all(" " <= c <= "~" for c in content_type)
        or "/" not in content_type
        or content_type != content_type.strip()
    ):
        raise ValueError(f"invalid content type {content_type!r}")
    return content_type


def seal_info(data_key: bytes, info: FileInfo) -> bytes:
    """Return the encrypted record of *info* for its sidecar file."""
    record = {
        "v": _RECORD_VERSION,
        "name": info.name,
        "content_type": info.content_type,
        "size": info.size,
        "created_at": info.created_at.isoformat(),
        "sha256": info.sha256,
    }
    plaintext = json.dumps(record, separators=(",", ":")).encode("utf-8")
    return seal(_record_key(data_key, info.id), plaintext, _aad(info.id))


def open_info(data_key: bytes, file_id: str, blob: bytes) -> FileInfo:
    """Decrypt a sidecar record; raises :class:`DecryptionError` if it does not open."""
    plaintext = open_sealed(_record_key(data_key, file_id), blob, _aad(file_id))
    try:
        record = json.loads(plaintext)
        if record["v"] != _RECORD_VERSION:
            raise ValueError(f"unsupported metadata version {record['v']!r}")
        return FileInfo(
            id=file_id,
            name=record["name"],
            content_type=record["content_type"],
            size=int(record["size"]),
            created_at=datetime.fromisoformat(record["created_at"]),
            sha256=record["sha256"],
        )
    except (ValueError, KeyError, TypeError) as e:
        # It authenticated, so we wrote it: only a bug or a format change gets here.
        raise DecryptionError(f"file metadata record is unreadable: {e}") from None


def _record_key(data_key: bytes, file_id: str) -> bytes:
    return hkdf_sha256(data_key, info=b"guidepath/file-meta/" + file_id.encode())


def _aad(file_id: str) -> bytes:
    return b"guidepath/file-meta/" + file_id.encode()
