"""Encrypted file storage, one folder ("container") per tenant.

Layout under the store's root::

    <root>/<tenant_id>/              mode 0700, one per tenant
        fil_<id>                     contents, in the chunked format of stream_format
        fil_<id>.meta                sealed FileInfo record (name, type, size, ...)
        .tmp-*                       files being written

Everything is encrypted under the tenant's data key, which the caller unwraps with
the master key and hands to :meth:`FileStore.for_tenant`; this package never sees
the master key. Deleting a tenant's data key makes its container unreadable
(crypto-shredding); :meth:`FileStore.destroy_container` removes the bytes too.

A file is written to a temporary file in its container, synced, then renamed into
place with ``os.replace``, so a crash never leaves a half-written file under a real
id. The metadata sidecar is published last and removed first: it is the commit
record, and a file exists exactly when its sidecar does.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from guidepath.core.crypto import check_key

from .ids import FILE_ID, check_file_id, check_tenant_id, new_file_id
from .metadata import FileInfo, check_content_type, check_name, open_info, seal_info
from .stream_format import DEFAULT_CHUNK_SIZE, decrypt_stream, encrypt_stream

_META_SUFFIX = ".meta"
_TEMP_PREFIX = ".tmp-"


class FileStore:
    """The root folder that holds every tenant's container."""

    def __init__(self, root: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.root = Path(root)
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r})"

    def container_path(self, tenant_id: str) -> Path:
        """Return the folder of *tenant_id*'s container (it may not exist yet)."""
        return self.root / check_tenant_id(tenant_id)

    def for_tenant(self, tenant_id: str, data_key: bytes) -> TenantFiles:
        """Return the files of one tenant, read and written with its data key."""
        check_key(data_key)
        return TenantFiles(
            self.container_path(tenant_id),
            tenant_id,
            bytes(data_key),
            chunk_size=self.chunk_size,
        )

    def destroy_container(self, tenant_id: str) -> None:
        """Delete a tenant's container and every file in it; no-op if absent.

        Idempotent, so an interrupted tenant deletion can simply be retried.
        """
        container = self.container_path(tenant_id)
        try:
            # rmtree refuses a symlinked container rather than following it.
            shutil.rmtree(container)
        except FileNotFoundError:
            pass


class TenantFiles:
    """One tenant's files. Get it from :meth:`FileStore.for_tenant`."""

    __slots__ = ("_container", "_data_key", "_chunk_size", "tenant_id")

    def __init__(
        self,
        container: Path,
        tenant_id: str,
        data_key: bytes,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._container = container
        self.tenant_id = tenant_id
        self._data_key = data_key
        self._chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"TenantFiles(tenant_id={self.tenant_id!r})"

    def put(
        self,
        source: BinaryIO | Iterable[bytes],
        *,
        name: str = "",
        content_type: str = "application/octet-stream",
    ) -> FileInfo:
        """Store the bytes of *source* (a binary file object or an iterable of
        ``bytes``) under a new id and return its :class:`FileInfo`.

        The source is streamed: memory use does not grow with the file's size. If
        reading the source fails, nothing is left behind.
        """
        check_name(name)
        check_content_type(content_type)
        self._container.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_id = new_file_id()
        created_at = datetime.now(timezone.utc)
        tally = _Tally()
        pieces = _tap(_pieces_of(source, self._chunk_size), tally)
        temps: list[Path] = []
        content_path = self._content_path(file_id)
        try:
            content_tmp = self._write_temp(
                temps,
                lambda f: encrypt_stream(
                    self._data_key, file_id, pieces, f, chunk_size=self._chunk_size
                ),
            )
            info = FileInfo(
                id=file_id,
                name=name,
                content_type=content_type,
                size=tally.size,
                created_at=created_at,
                sha256=tally.digest.hexdigest(),
            )
            record = seal_info(self._data_key, info)
            meta_tmp = self._write_temp(temps, lambda f: f.write(record))
            os.replace(content_tmp, content_path)
            os.replace(meta_tmp, self._meta_path(file_id))
            _fsync_dir(self._container)
        except BaseException:
            # The id is fresh, so anything under it is ours to remove; the
            # sidecar (the commit record) goes first.
            for path in (self._meta_path(file_id), content_path, *temps):
                path.unlink(missing_ok=True)
            raise
        return info

    def open(self, file_id: str) -> Iterator[bytes]:
        """Return an iterator over the decrypted contents of *file_id*, in chunks.

        Raises :class:`FileNotFoundError` at once for an unknown id, and
        :class:`~guidepath.core.crypto.DecryptionError` while iterating if the file
        was tampered with or truncated (before the bad chunk's data is yielded).
        The file is closed when iteration ends or the iterator is closed.
        """
        self._require(file_id)
        return self._read(self._content_path(file_id), file_id)

    def info(self, file_id: str) -> FileInfo:
        """Return the metadata of *file_id* (decrypted from its sidecar)."""
        self._require(file_id)
        try:
            blob = self._meta_path(file_id).read_bytes()
        except FileNotFoundError:
            raise _not_found(file_id) from None
        return open_info(self._data_key, file_id, blob)

    def delete(self, file_id: str) -> None:
        """Delete *file_id*; raises :class:`FileNotFoundError` if it does not exist.

        The bytes are unlinked, not overwritten: on modern storage only destroying
        the tenant's data key really erases them.
        """
        check_file_id(file_id)
        content = self._content_path(file_id)
        try:
            self._meta_path(file_id).unlink()
        except FileNotFoundError:
            content.unlink(missing_ok=True)  # leftover of an interrupted delete
            raise _not_found(file_id) from None
        content.unlink(missing_ok=True)

    def list(self) -> list[FileInfo]:
        """Return every file of the tenant, oldest first."""
        try:
            entries = list(os.scandir(self._container))
        except FileNotFoundError:
            return []
        infos: list[FileInfo] = []
        for entry in entries:
            file_id = entry.name.removesuffix(_META_SUFFIX)
            if entry.name == file_id or not FILE_ID.fullmatch(file_id):
                continue
            try:
                infos.append(self.info(file_id))
            except FileNotFoundError:
                continue  # deleted while we were listing
        infos.sort(key=lambda info: (info.created_at, info.id))
        return infos

    def _read(self, path: Path, file_id: str) -> Iterator[bytes]:
        with open(path, "rb") as f:
            yield from decrypt_stream(self._data_key, file_id, f)

    def _require(self, file_id: str) -> None:
        check_file_id(file_id)
        if not (
            self._meta_path(file_id).is_file() and self._content_path(file_id).is_file()
        ):
            raise _not_found(file_id)

    def _content_path(self, file_id: str) -> Path:
        return self._container / check_file_id(file_id)

    def _meta_path(self, file_id: str) -> Path:
        return self._container / (check_file_id(file_id) + _META_SUFFIX)

    def _write_temp(self, temps: list[Path], write: Callable[[BinaryIO], object]) -> Path:
        """Write a new mode-0600 temporary file in the container and sync it."""
        fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self._container)
        path = Path(name)
        temps.append(path)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        return path


@dataclass
class _Tally:
    """Size and SHA-256 of the plaintext, computed while it streams through."""

    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


def _pieces_of(source: BinaryIO | Iterable[bytes], size: int) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if read is None:
        yield from source  # type: ignore[misc]
        return
    while True:
        piece = read(size)
        if not piece:
            return
        yield piece


def _tap(pieces: Iterable[bytes], tally: _Tally) -> Iterator[bytes]:
    for piece in pieces:
        if isinstance(piece, str):
            raise TypeError("file contents must be bytes, not str (open in 'rb' mode)")
        view = memoryview(piece)
        tally.size += view.nbytes
        tally.digest.update(view)
        yield piece


def _not_found(file_id: str) -> FileNotFoundError:
    return FileNotFoundError(
        errno.ENOENT, "no such file in this tenant's container", file_id
    )


def _fsync_dir(directory: Path) -> None:
    """Make renames in *directory* durable (POSIX needs the directory synced too)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
