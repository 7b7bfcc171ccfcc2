"""Tenant files: contents and names encrypted at rest, one container per tenant.

Files are stored under ids generated here, never under user-supplied strings, in a
folder per tenant, encrypted with the tenant's data key (envelope encryption: the
caller unwraps that key with the master key). See ``store`` for the layout and
``stream_format`` for the encrypted format.

This package may import ``guidepath.core.crypto`` and nothing else of guidepath:
the tenancy and web layers decide *which* tenant and key; this layer only keeps
the bytes.
"""

from __future__ import annotations

from .ids import InvalidIdError, check_file_id, check_tenant_id, new_file_id
from .metadata import FileInfo
from .store import FileStore, TenantFiles
from .stream_format import DEFAULT_CHUNK_SIZE, decrypt_stream, encrypt_stream

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FileInfo",
    "FileStore",
    "InvalidIdError",
    "TenantFiles",
    "check_file_id",
    "check_tenant_id",
    "decrypt_stream",
    "encrypt_stream",
    "new_file_id",
]
