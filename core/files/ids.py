"""The two identifiers that become path components: tenant ids and file ids.

Paths in a container are built only from these, never from user text, so they are
checked against strict patterns at every entry point: a ``../x`` or a name with a
trailing newline is refused before it can reach the filesystem.
"""

from __future__ import annotations

import re

from guidepath.core.crypto import new_token
from guidepath.core.domain.ids import TENANT_ID

FILE_ID = re.compile(r"fil_[A-Za-z0-9_-]{43}")
FILE_ID_PREFIX = "fil"


class InvalidIdError(ValueError):
    """A tenant id or file id does not have the shape guidepath generates."""


def check_tenant_id(tenant_id: str) -> str:
    """Return *tenant_id* if it is ``t`` + 16 lowercase hex digits, else raise."""
    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise InvalidIdError(f"invalid tenant id {tenant_id!r}")
    return tenant_id


def check_file_id(file_id: str) -> str:
    """Return *file_id* if it is an id :func:`new_file_id` could produce, else raise."""
    if not isinstance(file_id, str) or not FILE_ID.fullmatch(file_id):
        raise InvalidIdError(f"invalid file id {file_id!r}")
    return file_id


def new_file_id() -> str:
    """Return a fresh random file id, ``fil_`` + 43 URL-safe characters."""
    return new_token(FILE_ID_PREFIX)
