"""The master key: the root of envelope encryption and of derived credentials.

Each tenant's data is encrypted under its own random *data key*; only the data key,
*wrapped* (encrypted) by the master key, is stored in the tenant directory. Losing a
tenant's wrapped key destroys its data (crypto-shredding), and the master key never
touches tenant data directly.

The master key is also the parent of per-tenant service credentials (the PostgreSQL
role password, the Redis ACL password): they are derived with HKDF instead of
stored, so the only secret on disk is the master key file itself.

The key file holds the base64 of 32 bytes. It is created with mode 0600 and a file
that group or others may access is refused, like OpenSSH does with private keys:
a key that other users could have read must be treated as leaked.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from pathlib import Path

from .aead import KEY_SIZE, DecryptionError, new_key, open_sealed, seal
from .kdf import hkdf_sha256

# A purpose is a short label; it may not contain "/" so that the HKDF info string
# "guidepath/{purpose}/{tenant_id}" is unambiguous (no two pairs give one label).
_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_WRAP_INFO = b"guidepath/key-wrap"


def _check_purpose(purpose: str) -> None:
    if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
        raise ValueError(
            f"purpose must match {_PURPOSE.pattern} (lowercase, no '/'): {purpose!r}"
        )


def _check_tenant_id(tenant_id: str) -> None:
    # The tenancy package owns the exact id format; here we only need a non-empty
    # label, so that derivation and wrapping are always bound to some tenant.
    if not isinstance(tenant_id, str) or not tenant_id:
        raise ValueError("tenant_id must be a non-empty string")


class MasterKey:
    """32 secret bytes with the few operations guidepath needs from them.

    The raw bytes are not exposed; ``repr`` and ``str`` never show them, so a
    ``MasterKey`` can appear in a log line or a traceback without leaking.
    """

    __slots__ = ("_key", "_wrap_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
            raise ValueError(f"a master key must be exactly {KEY_SIZE} bytes")
        self._key = bytes(key)
        # Wrapping uses a derived key rather than the master key itself, so the
        # master key is only ever used as HKDF input (one key, one job).
        self._wrap_key = hkdf_sha256(self._key, info=_WRAP_INFO)

    def __repr__(self) -> str:
        return "MasterKey(<redacted>)"

    __str__ = __repr__

    @classmethod
    def generate(cls) -> MasterKey:
        """Return a new random master key."""
        return cls(new_key())

    @classmethod
    def from_base64(cls, text: str | bytes) -> MasterKey:
        """Parse the base64 text of exactly 32 bytes (surrounding whitespace allowed).

        The error message never repeats *text*: it is, or is close to, a secret.
        """
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError, TypeError, AttributeError):
            raise ValueError("master key is not valid base64") from None
        if len(raw) != KEY_SIZE:
            raise ValueError(
                f"master key must be the base64 of exactly {KEY_SIZE} bytes,"
                f" got {len(raw)} bytes"
            )
        return cls(raw)

    def to_base64(self) -> str:
        """Return the key as base64 text, the form written to the key file."""
        return base64.b64encode(self._key).decode("ascii")

    @classmethod
    def load_or_create(cls, path: Path) -> MasterKey:
        """Load the key file at *path*, creating it with a new key if it is missing.

        Creation is atomic: the key is written and synced to a temporary file made
        with ``O_CREAT | O_EXCL`` and mode 0600, then hard-linked to *path*, which
        fails if another process won the race; in that case its key is loaded. So
        *path* never exists half-written and a key is never silently replaced.
        """
        path = Path(path)
        try:
            return cls._load(path)
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = cls.generate()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW, 0o600)
        try:
            try:
                os.write(fd, (key.to_base64() + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return cls._load(path)
            _fsync_dir(path.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return key

    @classmethod
    def _load(cls, path: Path) -> MasterKey:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"master key file {path} is not a regular file")
            if info.st_mode & 0o077:
                raise PermissionError(
                    f"master key file {path} is accessible by group or others"
                    f" (mode {stat.S_IMODE(info.st_mode):04o}); treat the key as"
                    f" leaked, or if you are sure it is not: chmod 600 {path}"
                )
            text = _read_small(fd, limit=1024)
        finally:
            os.close(fd)
        try:
            return cls.from_base64(text)
        except ValueError as e:
            raise ValueError(f"master key file {path}: {e}") from None

    def wrap(self, data_key: bytes, tenant_id: str) -> bytes:
        """Encrypt a tenant's data key so it can be stored in the tenant directory.

        The tenant id is authenticated with it: a wrapped key copied onto another
        tenant's row does not unwrap there.
        """
        _check_tenant_id(tenant_id)
        if not isinstance(data_key, (bytes, bytearray)) or len(data_key) != KEY_SIZE:
            raise ValueError(f"a data key must be exactly {KEY_SIZE} bytes")
        return seal(self._wrap_key, bytes(data_key), _wrap_aad(tenant_id))

    def unwrap(self, wrapped: bytes, tenant_id: str) -> bytes:
        """Return the data key wrapped by :meth:`wrap` for the same tenant.

        Raises :class:`DecryptionError` for another tenant, another master key or a
        modified value.
        """
        _check_tenant_id(tenant_id)
        try:
            return open_sealed(self._wrap_key, wrapped, _wrap_aad(tenant_id))
        except DecryptionError:
            raise DecryptionError(
                f"wrapped data key does not open for tenant {tenant_id!r}: it belongs"
                " to another tenant, was wrapped by another master key, or was modified"
            ) from None

    def derive(self, purpose: str, tenant_id: str, length: int = 32) -> bytes:
        """Derive a per-tenant secret for *purpose* (HKDF-SHA256).

        The same inputs always give the same bytes, so nothing needs storing; a new
        master key gives new secrets.
        """
        _check_purpose(purpose)
        _check_tenant_id(tenant_id)
        info = f"guidepath/{purpose}/{tenant_id}".encode()
        return hkdf_sha256(self._key, info=info, length=length)

    def derive_password(self, purpose: str, tenant_id: str) -> str:
        """Derive a per-tenant password (43 URL-safe characters, 256 bits).

        The alphabet (``A-Z a-z 0-9 - _``) needs no quoting in a libpq connection
        string, a URL or a Redis ``ACL SETUSER`` rule.
        """
        raw = self.derive(purpose, tenant_id)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _wrap_aad(tenant_id: str) -> bytes:
    return b"guidepath/data-key/" + tenant_id.encode("utf-8")


# O_NOFOLLOW refuses a symlink planted where the key file should be.
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _read_small(fd: int, *, limit: int) -> bytes:
    """Read at most *limit* bytes: a key file is tiny, a huge one is not ours."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable (POSIX needs the directory synced too)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
