"""Tests for guidepath.core.files: the encrypted stream format and the tenant store."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import guidepath.core.files as files
from guidepath.core.crypto import DecryptionError, new_key
from guidepath.core.files import (
    FileInfo,
    FileStore,
    InvalidIdError,
    TenantFiles,
    decrypt_stream,
    encrypt_stream,
    new_file_id,
)
from guidepath.core.files.stream_format import HEADER_SIZE, MAGIC, TAG_SIZE

TENANT_A = "t0123456789abcdef"
TENANT_B = "tfedcba9876543210"
FILE_ID = "fil_" + "A" * 43
MiB = 1024 * 1024


# --- helpers and fixtures --------------------------------------------------------


def encrypt(data: bytes, *, key: bytes, chunk_size: int, file_id: str = FILE_ID) -> bytes:
    out = io.BytesIO()
    encrypt_stream(key, file_id, [data], out, chunk_size=chunk_size)
    return out.getvalue()


def decrypt(blob: bytes, *, key: bytes, file_id: str = FILE_ID) -> bytes:
    return b"".join(decrypt_stream(key, file_id, io.BytesIO(blob)))


def segments(blob: bytes, chunk_size: int) -> tuple[bytes, list[bytes]]:
    """Split an encrypted blob into its header and sealed chunks."""
    size = chunk_size + TAG_SIZE
    body = blob[HEADER_SIZE:]
    return blob[:HEADER_SIZE], [body[i : i + size] for i in range(0, len(body), size)]


def blocks(total: int, block: int = 64 * 1024) -> Iterator[bytes]:
    """Yield *total* bytes of varied content without ever holding them all."""
    for start in range(0, total, block):
        n = min(block, total - start)
        yield hashlib.sha256(start.to_bytes(8, "big")).digest() * (n // 32) + b"\x07" * (
            n % 32
        )


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def key_a() -> bytes:
    return new_key()


@pytest.fixture
def tenant_a(store: FileStore, key_a: bytes) -> TenantFiles:
    return store.for_tenant(TENANT_A, key_a)


@pytest.fixture
def tenant_b(store: FileStore) -> TenantFiles:
    return store.for_tenant(TENANT_B, new_key())


def read_all(tenant: TenantFiles, file_id: str) -> bytes:
    return b"".join(tenant.open(file_id))


# --- package boundary ------------------------------------------------------------


def test_files_imports_only_crypto_of_guidepath():
    import ast

    imported: set[str] = set()
    for source in Path(files.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{source.name} reaches outside the package"
                if node.level == 0:
                    imported.add(node.module or "")
    # domain.ids: the one definition of a tenant id (a leaf module, no IO).
    assert {m for m in imported if m.startswith("guidepath")} <= {"guidepath.core.crypto", "guidepath.core.domain.ids"}


# --- stream format -----------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31, 32, 33, 48, 100])
def test_stream_round_trip_around_chunk_boundaries(length):
    key = new_key()
    data = os.urandom(length)
    blob = encrypt(data, key=key, chunk_size=16)
    chunks = max(1, -(-length // 16))
    assert len(blob) == HEADER_SIZE + length + chunks * TAG_SIZE
    assert decrypt(blob, key=key) == data


def test_header_layout_is_as_documented():
    blob = encrypt(b"x", key=new_key(), chunk_size=1000)
    magic, version, chunk_size, salt = struct.unpack(">4sBI32s", blob[:HEADER_SIZE])
    assert (magic, version, chunk_size, len(salt)) == (b"GPF1", 1, 1000, 32)
    assert HEADER_SIZE == 41 and MAGIC == b"GPF1"


def test_format_matches_its_documentation_known_answer():
    """Decrypt by hand, following only the module docstring."""
    key, salt, data = new_key(), os.urandom(32), os.urandom(40)
    out = io.BytesIO()
    encrypt_stream(key, FILE_ID, [data], out, chunk_size=16, salt=salt)
    header, sealed = segments(out.getvalue(), 16)
    assert header == b"GPF1\x01" + (16).to_bytes(4, "big") + salt
    file_key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt,
        info=b"guidepath/file/" + FILE_ID.encode(),
    ).derive(key)
    plain = b""
    for i, chunk in enumerate(sealed):
        last = i == len(sealed) - 1
        nonce = i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        plain += AESGCM(file_key).decrypt(nonce, chunk, header)
    assert plain == data and len(sealed) == 3


def test_pieces_of_any_shape_are_accepted():
    key = new_key()
    pieces = [b"", b"ab", bytearray(b"cdefg"), memoryview(b"hij"), b"", b"k" * 50]
    out = io.BytesIO()
    encrypt_stream(key, FILE_ID, pieces, out, chunk_size=8)
    assert decrypt(out.getvalue(), key=key) == b"abcdefghij" + b"k" * 50


def test_str_pieces_are_refused():
    with pytest.raises(TypeError):
        encrypt_stream(new_key(), FILE_ID, ["text"], io.BytesIO())  # type: ignore[list-item]


def test_yielded_chunks_never_exceed_the_chunk_size():
    key = new_key()
    blob = encrypt(os.urandom(100), key=key, chunk_size=16)
    sizes = [len(c) for c in decrypt_stream(key, FILE_ID, io.BytesIO(blob))]
    assert sizes == [16] * 6 + [4]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=3000),
    chunk_size=st.integers(min_value=1, max_value=700),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=8),
)
def test_stream_round_trip_property(data, chunk_size, cuts):
    key = new_key()
    bounds = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    pieces = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    out = io.BytesIO()
    encrypt_stream(key, FILE_ID, pieces, out, chunk_size=chunk_size)
    chunks = list(decrypt_stream(key, FILE_ID, io.BytesIO(out.getvalue())))
    assert b"".join(chunks) == data
    assert all(len(c) == chunk_size for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= chunk_size or data == b""


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=200),
    position=st.integers(min_value=0),
    bit=st.integers(0, 7),
)
def test_any_bit_flip_is_detected_property(data, position, bit):
    key = new_key()
    blob = bytearray(encrypt(data, key=key, chunk_size=32))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(DecryptionError):
        decrypt(bytes(blob), key=key)


def test_every_truncation_is_detected():
    key = new_key()
    blob = encrypt(os.urandom(50), key=key, chunk_size=16)
    for length in range(len(blob)):
        with pytest.raises(DecryptionError):
            decrypt(blob[:length], key=key)


def test_dropping_the_last_chunk_is_detected():
    key = new_key()
    header, sealed = segments(encrypt(os.urandom(48), key=key, chunk_size=16), 16)
    with pytest.raises(DecryptionError, match="chunk 1"):
        decrypt(header + b"".join(sealed[:-1]), key=key)


def test_reordered_chunks_are_detected():
    key = new_key()
    header, sealed = segments(encrypt(os.urandom(64), key=key, chunk_size=16), 16)
    swapped = [sealed[1], sealed[0], *sealed[2:]]
    with pytest.raises(DecryptionError, match="chunk 0"):
        decrypt(header + b"".join(swapped), key=key)


def test_extension_is_detected():
    key = new_key()
    blob = encrypt(os.urandom(40), key=key, chunk_size=16)
    _, sealed = segments(blob, 16)
    with pytest.raises(DecryptionError):
        decrypt(blob + sealed[0], key=key)
    with pytest.raises(DecryptionError):
        decrypt(blob + b"\x00", key=key)


def test_chunks_of_another_file_are_not_accepted():
    key = new_key()
    header_1, sealed_1 = segments(encrypt(os.urandom(48), key=key, chunk_size=16), 16)
    _, sealed_2 = segments(encrypt(os.urandom(48), key=key, chunk_size=16), 16)
    with pytest.raises(DecryptionError):
        decrypt(header_1 + sealed_1[0] + sealed_2[1] + sealed_1[2], key=key)


def test_no_unauthenticated_data_is_yielded():
    key = new_key()
    data = os.urandom(64)
    blob = bytearray(encrypt(data, key=key, chunk_size=16))
    blob[HEADER_SIZE + 32 + 3] ^= 1  # inside chunk 1
    received: list[bytes] = []
    with pytest.raises(DecryptionError, match="chunk 1"):
        for chunk in decrypt_stream(key, FILE_ID, io.BytesIO(bytes(blob))):
            received.append(chunk)
    assert received == [data[:16]]  # chunk 0 only, which did authenticate


def test_wrong_key_or_file_id_fails():
    key = new_key()
    blob = encrypt(b"hello", key=key, chunk_size=16)
    with pytest.raises(DecryptionError):
        decrypt(blob, key=new_key())
    with pytest.raises(DecryptionError):
        decrypt(blob, key=key, file_id=new_file_id())


@pytest.mark.parametrize(
    "header, message",
    [
        (b"GPF2\x01" + (16).to_bytes(4, "big"), "bad magic"),
        (b"GPF1\x02" + (16).to_bytes(4, "big"), "version 2"),
        (b"GPF1\x01" + (0).to_bytes(4, "big"), "chunk size 0"),
        (b"GPF1\x01" + (2**32 - 1).to_bytes(4, "big"), "chunk size"),
    ],
)
def test_bad_headers_are_refused_before_reading_chunks(header, message):
    with pytest.raises(DecryptionError, match=message):
        decrypt_stream(new_key(), FILE_ID, io.BytesIO(header + bytes(32) + bytes(64)))


def test_truncated_header_is_refused():
    with pytest.raises(DecryptionError, match="header"):
        decrypt_stream(new_key(), FILE_ID, io.BytesIO(b"GPF1\x01"))


def test_encrypting_the_same_data_twice_differs():
    key = new_key()
    assert encrypt(b"same", key=key, chunk_size=16) != encrypt(b"same", key=key, chunk_size=16)


@pytest.mark.parametrize("chunk_size", [0, 16 * MiB + 1])
def test_chunk_size_is_bounded(chunk_size):
    with pytest.raises(ValueError, match="chunk_size"):
        encrypt_stream(new_key(), FILE_ID, [b"x"], io.BytesIO(), chunk_size=chunk_size)


# --- store: basics -----------------------------------------------------------------


def test_put_open_info_round_trip(tenant_a):
    before = datetime.now(timezone.utc)
    info = tenant_a.put([b"hello ", b"world"], name="report.pdf", content_type="application/pdf")
    assert isinstance(info, FileInfo)
    assert info.name == "report.pdf" and info.content_type == "application/pdf"
    assert info.size == 11
    assert info.sha256 == hashlib.sha256(b"hello world").hexdigest()
    assert before <= info.created_at <= datetime.now(timezone.utc)
    assert read_all(tenant_a, info.id) == b"hello world"
    assert tenant_a.info(info.id) == info


def test_put_accepts_binary_files(tenant_a, tmp_path):
    source = tmp_path / "upload.bin"
    data = os.urandom(200_000)
    source.write_bytes(data)
    with source.open("rb") as f:
        from_file = tenant_a.put(f)
    from_bytesio = tenant_a.put(io.BytesIO(data))
    assert read_all(tenant_a, from_file.id) == data == read_all(tenant_a, from_bytesio.id)
    assert from_file.name == "" and from_file.content_type == "application/octet-stream"


def test_text_sources_are_refused_and_leave_nothing(tenant_a, tmp_path):
    with pytest.raises(TypeError, match="bytes"):
        tenant_a.put(io.StringIO("text"))
    assert tenant_a.list() == []
    assert list((tmp_path / "files" / TENANT_A).iterdir()) == []


def test_empty_file(tenant_a):
    info = tenant_a.put([])
    assert info.size == 0 and read_all(tenant_a, info.id) == b""


def test_ids_are_generated_and_unique(tenant_a):
    ids = {tenant_a.put([b"x"]).id for _ in range(20)}
    assert len(ids) == 20
    assert all(files.ids.FILE_ID.fullmatch(i) for i in ids)


def test_list_and_delete(tenant_a):
    first = tenant_a.put([b"1"], name="one")
    second = tenant_a.put([b"2"], name="two")
    assert [i.id for i in tenant_a.list()] == [first.id, second.id]
    tenant_a.delete(first.id)
    assert tenant_a.list() == [second]
    with pytest.raises(FileNotFoundError):
        tenant_a.open(first.id)
    with pytest.raises(FileNotFoundError):
        tenant_a.info(first.id)
    with pytest.raises(FileNotFoundError):
        tenant_a.delete(first.id)


def test_list_of_a_tenant_without_files_is_empty(tenant_a):
    assert tenant_a.list() == []


def test_files_and_container_are_private(tenant_a, tmp_path):
    info = tenant_a.put([b"data"], name="n")
    container = tmp_path / "files" / TENANT_A
    assert stat.S_IMODE(container.stat().st_mode) == 0o700
    names = sorted(p.name for p in container.iterdir())
    assert names == [info.id, info.id + ".meta"]  # no temporary files left
    for path in container.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_stored_bytes_reveal_neither_contents_nor_name(tenant_a, tmp_path):
    secret = b"Customer 4711 card ending 4242 " * 100
    info = tenant_a.put([secret], name="invoice-jane-doe.pdf", content_type="application/pdf")
    stored = b"".join(p.read_bytes() for p in (tmp_path / "files" / TENANT_A).iterdir())
    for needle in (b"Customer 4711", b"4242", b"jane-doe", b"invoice", b"application/pdf"):
        assert needle not in stored
    assert info.sha256.encode() not in stored


def test_failing_source_leaves_nothing_behind(tenant_a, tmp_path):
    def broken() -> Iterator[bytes]:
        yield b"x" * 200_000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        tenant_a.put(broken())
    assert list((tmp_path / "files" / TENANT_A).iterdir()) == []
    assert tenant_a.list() == []


def test_list_ignores_foreign_and_temporary_entries(tenant_a, tmp_path):
    info = tenant_a.put([b"x"])
    container = tmp_path / "files" / TENANT_A
    (container / ".tmp-leftover").write_bytes(b"junk")
    (container / "notes.meta").write_bytes(b"junk")
    assert [i.id for i in tenant_a.list()] == [info.id]


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("a\nb", "text/plain"),
        ("a\x00b", "text/plain"),
        ("x" * 1025, "text/plain"),
        ("ok", "text/html\r\nSet-Cookie: x=1"),
        ("ok", "textplain"),
        ("ok", ""),
        ("ok", "text/plain; charset=ütf-8"),
    ],
)
def test_bad_names_and_content_types_are_refused(tenant_a, name, content_type):
    with pytest.raises(ValueError):
        tenant_a.put([b"x"], name=name, content_type=content_type)
    assert tenant_a.list() == []


def test_unicode_names_survive(tenant_a):
    info = tenant_a.put([b"x"], name="Überweisung – März 📄.pdf")
    assert tenant_a.info(info.id).name == "Überweisung – März 📄.pdf"


def test_open_is_lazy_and_closable(tenant_a):
    info = tenant_a.put(blocks(300_000))
    reader = tenant_a.open(info.id)
    first = next(reader)
    reader.close()  # e.g. the client disconnected mid-download
    assert first == next(blocks(300_000))
    unused = tenant_a.open(info.id)
    del unused  # never started: nothing was opened, nothing leaks


def test_repr_does_not_show_the_data_key(tenant_a, key_a, store):
    assert key_a.hex() not in repr(tenant_a) and TENANT_A in repr(tenant_a)
    assert "files" in repr(store)


# --- store: large files stream ---------------------------------------------------


# Measured in a fresh interpreter: tracemalloc counts every thread's allocations,
# and in a full test run the Kafka and relay threads of earlier tests allocate too.
_CONSTANT_MEMORY_SCRIPT = """
import hashlib, json, sys, tracemalloc
from pathlib import Path
from guidepath.core.crypto import new_key
from guidepath.core.files import FileStore

def blocks(total, block=64 * 1024):
    for start in range(0, total, block):
        n = min(block, total - start)
        yield hashlib.sha256(start.to_bytes(8, "big")).digest() * (n // 32) + b"\\x07" * (n % 32)

total = int(sys.argv[2])
tenant = FileStore(Path(sys.argv[1])).for_tenant("t0123456789abcdef", new_key())
expected = hashlib.sha256()
for block in blocks(total):
    expected.update(block)
tracemalloc.start()
info = tenant.put(blocks(total), name="big.bin")
put_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
digest, size = hashlib.sha256(), 0
for chunk in tenant.open(info.id):
    digest.update(chunk)
    size += len(chunk)
read_peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({
    "size": size, "info_size": info.size, "sha256": digest.hexdigest(),
    "info_sha256": info.sha256, "expected_sha256": expected.hexdigest(),
    "put_peak": put_peak, "read_peak": read_peak,
}))
"""


def test_large_file_streams_in_constant_memory(tmp_path):
    total = 20 * MiB + 123  # ten times the memory bound below
    done = subprocess.run(
        [sys.executable, "-c", _CONSTANT_MEMORY_SCRIPT, str(tmp_path / "files"), str(total)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    measured = json.loads(done.stdout)

    assert measured["info_size"] == measured["size"] == total
    assert measured["info_sha256"] == measured["sha256"] == measured["expected_sha256"]
    assert measured["put_peak"] < 2 * MiB, measured
    assert measured["read_peak"] < 2 * MiB, measured


# --- store: tampering and isolation -----------------------------------------------


@pytest.fixture
def big_file(tenant_a: TenantFiles, tmp_path: Path) -> tuple[FileInfo, Path]:
    info = tenant_a.put(blocks(4 * 64 * 1024 + 10))  # five chunks
    return info, tmp_path / "files" / TENANT_A / info.id


def test_tampered_byte_is_detected(tenant_a, big_file):
    info, path = big_file
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(DecryptionError):
        read_all(tenant_a, info.id)


def test_truncated_file_is_detected(tenant_a, big_file):
    info, path = big_file
    segment = 64 * 1024 + TAG_SIZE
    with path.open("r+b") as f:
        f.truncate(HEADER_SIZE + 4 * segment)  # exactly the last chunk removed
    with pytest.raises(DecryptionError, match="chunk 3"):
        read_all(tenant_a, info.id)


def test_swapped_chunks_are_detected(tenant_a, big_file):
    info, path = big_file
    header, sealed = segments(path.read_bytes(), 64 * 1024)
    sealed[1], sealed[2] = sealed[2], sealed[1]
    path.write_bytes(header + b"".join(sealed))
    with pytest.raises(DecryptionError, match="chunk 1"):
        read_all(tenant_a, info.id)


def test_tampered_metadata_is_detected(tenant_a, big_file):
    info, path = big_file
    meta = path.with_name(info.id + ".meta")
    blob = bytearray(meta.read_bytes())
    blob[-1] ^= 0x01
    meta.write_bytes(bytes(blob))
    with pytest.raises(DecryptionError):
        tenant_a.info(info.id)


def test_wrong_data_key_fails(store, tenant_a):
    info = tenant_a.put([b"secret"], name="n")
    impostor = store.for_tenant(TENANT_A, new_key())
    with pytest.raises(DecryptionError):
        read_all(impostor, info.id)
    with pytest.raises(DecryptionError):
        impostor.info(info.id)


def test_other_tenant_cannot_reach_a_file_by_id(tenant_a, tenant_b):
    info = tenant_a.put([b"tenant A only"])
    with pytest.raises(FileNotFoundError):
        tenant_b.open(info.id)
    with pytest.raises(FileNotFoundError):
        tenant_b.info(info.id)
    with pytest.raises(FileNotFoundError):
        tenant_b.delete(info.id)
    assert tenant_b.list() == []
    assert read_all(tenant_a, info.id) == b"tenant A only"


def test_file_copied_into_another_container_does_not_decrypt(tenant_a, tenant_b, tmp_path):
    info = tenant_a.put([b"tenant A only"], name="a.txt")
    root = tmp_path / "files"
    (root / TENANT_B).mkdir(mode=0o700)
    for name in (info.id, info.id + ".meta"):
        shutil.copy2(root / TENANT_A / name, root / TENANT_B / name)
    with pytest.raises(DecryptionError):
        read_all(tenant_b, info.id)
    with pytest.raises(DecryptionError):
        tenant_b.info(info.id)


def test_file_copied_under_another_id_does_not_decrypt(tenant_a, tmp_path):
    info = tenant_a.put([b"original"])
    other = tenant_a.put([b"other"])
    container = tmp_path / "files" / TENANT_A
    for suffix in ("", ".meta"):
        shutil.copy2(container / (info.id + suffix), container / (other.id + suffix))
    with pytest.raises(DecryptionError):
        read_all(tenant_a, other.id)
    with pytest.raises(DecryptionError):
        tenant_a.info(other.id)


# --- store: identifiers and containers ---------------------------------------------


@pytest.mark.parametrize(
    "tenant_id",
    [
        "",
        "../x",
        "t0123456789abcde",
        "t0123456789abcdef0",
        "T0123456789abcdef",
        "t0123456789ABCDEF",
        "t0123456789abcdef\n",
        "t0123456789abcde/",
        "x0123456789abcdef",
    ],
)
def test_invalid_tenant_ids_are_refused(store, tenant_id):
    with pytest.raises(InvalidIdError):
        store.for_tenant(tenant_id, new_key())
    with pytest.raises(InvalidIdError):
        store.destroy_container(tenant_id)


@pytest.mark.parametrize(
    "file_id",
    [
        "",
        "../x",
        "fil_../../../../etc/passwd",
        "fil_" + "A" * 42,
        "fil_" + "A" * 44,
        "fil_" + "A" * 43 + "\n",
        "fil_" + "A" * 43 + ".meta",
        "cus_" + "A" * 43,
        "fil_" + "A" * 41 + "/.",
    ],
)
def test_invalid_file_ids_are_refused(tenant_a, file_id):
    with pytest.raises(InvalidIdError):
        tenant_a.open(file_id)
    with pytest.raises(InvalidIdError):
        tenant_a.info(file_id)
    with pytest.raises(InvalidIdError):
        tenant_a.delete(file_id)


def test_invalid_id_error_is_a_value_error():
    assert issubclass(InvalidIdError, ValueError)


def test_data_key_must_be_256_bits(store):
    with pytest.raises(ValueError, match="32 bytes"):
        store.for_tenant(TENANT_A, b"short")


def test_destroy_container_removes_everything(store, tenant_a, tenant_b, tmp_path):
    kept = tenant_b.put([b"B stays"])
    for i in range(3):
        tenant_a.put([b"A goes %d" % i], name=f"f{i}")
    (tmp_path / "files" / TENANT_A / ".tmp-crashed").write_bytes(b"partial")
    store.destroy_container(TENANT_A)
    assert not (tmp_path / "files" / TENANT_A).exists()
    assert tenant_a.list() == []
    store.destroy_container(TENANT_A)  # idempotent
    assert read_all(tenant_b, kept.id) == b"B stays"


def test_container_is_recreated_on_next_put(store, tenant_a):
    tenant_a.put([b"x"])
    store.destroy_container(TENANT_A)
    info = tenant_a.put([b"y"])
    assert read_all(tenant_a, info.id) == b"y"
