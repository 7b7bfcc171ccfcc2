"""The on-disk format of an encrypted file: chunked AES-256-GCM (the STREAM
construction, as in Tink's streaming AEAD).

A single AES-GCM message cannot be checked until it has been read whole, so a
large file is cut into chunks that are each sealed and checked on their own; the
reader can then stream a file of any size in constant memory and never hand out a
byte that has not been authenticated.

Layout (all integers big-endian)::

    header   magic    4 bytes   b"GPF1"
             version  1 byte    1
             chunk    4 bytes   plaintext bytes per chunk (1 .. 16 MiB)
             salt    32 bytes   random, fresh for every file
    chunk 0  AES-256-GCM ciphertext of `chunk` plaintext bytes + 16-byte tag
    chunk 1  ...
    chunk n  the last chunk: 0 .. `chunk` plaintext bytes + 16-byte tag

Every chunk but the last holds exactly ``chunk`` plaintext bytes; the last holds
1 to ``chunk`` bytes (0 only for an empty file), so a reader learns that a chunk is
the last one by reaching the end of the file.

Keys and nonces:

- The file key is ``HKDF-SHA256(data_key, salt=salt, info=b"guidepath/file/" +
  file_id)``: a file copied under another id, or into another tenant's container,
  does not decrypt; the random salt gives every file its own key, so the nonces
  below never repeat under one key.
- The nonce of chunk *i* is ``i`` as an 11-byte counter followed by one flag byte,
  1 for the last chunk and 0 otherwise. Chunks swapped or reordered fail (wrong
  counter); a file cut at a chunk boundary fails (its new last chunk was sealed with
  flag 0); bytes appended fail (the real last chunk was sealed with flag 1).
- The associated data of every chunk is the header, so changing the header
  (version, chunk size, salt) makes every chunk fail.

A failure raises :class:`~guidepath.core.crypto.DecryptionError` *before* the
chunk's plaintext is yielded. Chunks before the damaged one have already been
yielded by then (that is what streaming means): a consumer must treat the
exception as the failure of the whole file, e.g. abort the HTTP response.

This module does no IO beyond the file objects it is given.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from guidepath.core.crypto import DecryptionError, check_key, hkdf_sha256

MAGIC = b"GPF1"
VERSION = 1
SALT_SIZE = 32
TAG_SIZE = 16
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 1
MAX_CHUNK_SIZE = 16 * 1024 * 1024

_HEADER = struct.Struct(">4sBI32s")
HEADER_SIZE = _HEADER.size
_COUNTER_BYTES = 11
_MAX_CHUNKS = 1 << (8 * _COUNTER_BYTES)


def encrypt_stream(
    data_key: bytes,
    file_id: str,
    source: Iterable[bytes],
    out: BinaryIO,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    salt: bytes | None = None,
) -> None:
    """Encrypt the byte pieces of *source* into *out*.

    Pieces may have any size; at most one chunk plus the current piece is held in
    memory. *salt* exists for known-answer tests; leave it out otherwise.
    """
    check_key(data_key)
    _check_chunk_size(chunk_size)
    if salt is None:
        salt = os.urandom(SALT_SIZE)
    if len(salt) != SALT_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes")
    header = _HEADER.pack(MAGIC, VERSION, chunk_size, salt)
    aead = AESGCM(_file_key(data_key, file_id, salt))
    out.write(header)

    counter = 0
    pending = bytearray()
    for piece in source:
        view = memoryview(piece).cast("B")
        while view:
            if len(pending) == chunk_size:
                # More data follows, so the buffered chunk is not the last one.
                out.write(aead.encrypt(_nonce(counter, last=False), pending, header))
                counter += 1
                pending.clear()
            take = chunk_size - len(pending)
            pending += view[:take]
            view = view[take:]
    out.write(aead.encrypt(_nonce(counter, last=True), pending, header))


def decrypt_stream(data_key: bytes, file_id: str, src: BinaryIO) -> Iterator[bytes]:
    """Yield the authenticated plaintext chunks of an encrypted file read from *src*.

    Raises :class:`DecryptionError` on a wrong key or id, tampering, reordering,
    truncation or extension, before yielding anything from the offending chunk.
    """
    check_key(data_key)
    header = _read_up_to(src, HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        raise DecryptionError("encrypted file is truncated (incomplete header)")
    magic, version, chunk_size, salt = _HEADER.unpack(header)
    if magic != MAGIC:
        raise DecryptionError("not a guidepath encrypted file (bad magic)")
    if version != VERSION:
        raise DecryptionError(f"unsupported encrypted file version {version}")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError(f"encrypted file has an invalid chunk size {chunk_size}")
    return _decrypt_chunks(data_key, file_id, src, header, chunk_size, salt)


def _decrypt_chunks(
    data_key: bytes,
    file_id: str,
    src: BinaryIO,
    header: bytes,
    chunk_size: int,
    salt: bytes,
) -> Iterator[bytes]:
    aead = AESGCM(_file_key(data_key, file_id, salt))
    segment = chunk_size + TAG_SIZE
    # Read one byte past a full segment: if it is there, the segment is not last.
    buffered = _read_up_to(src, segment + 1)
    counter = 0
    while len(buffered) > segment:
        sealed = buffered[:segment]
        yield _open_chunk(aead, sealed, counter, header, last=False)
        counter += 1
        buffered = buffered[segment:] + _read_up_to(src, segment)
    if len(buffered) < TAG_SIZE:
        raise DecryptionError(
            f"encrypted file is truncated (chunk {counter} is incomplete)"
        )
    yield _open_chunk(aead, buffered, counter, header, last=True)


def _open_chunk(
    aead: AESGCM, sealed: bytes, counter: int, header: bytes, *, last: bool
) -> bytes:
    try:
        return aead.decrypt(_nonce(counter, last=last), sealed, header)
    except InvalidTag:
        raise DecryptionError(
            f"encrypted file failed authentication at chunk {counter}: wrong key or"
            " file id, or the file was modified, truncated, reordered or extended"
        ) from None


def _file_key(data_key: bytes, file_id: str, salt: bytes) -> bytes:
    if not isinstance(file_id, str) or not file_id:
        raise ValueError("file_id must be a non-empty string")
    return hkdf_sha256(
        data_key, salt=salt, info=b"guidepath/file/" + file_id.encode("utf-8")
    )


def _nonce(counter: int, *, last: bool) -> bytes:
    if counter >= _MAX_CHUNKS:
        raise OverflowError("too many chunks for the nonce counter")
    return counter.to_bytes(_COUNTER_BYTES, "big") + (b"\x01" if last else b"\x00")


def _check_chunk_size(chunk_size: int) -> None:
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(
            f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}"
        )


def _read_up_to(src: BinaryIO, size: int) -> bytes:
    """Read *size* bytes, or fewer only at end of file (raw reads may be short)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = src.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)
