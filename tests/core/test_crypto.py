"""Tests for guidepath.core.crypto: AEAD, the master key, passwords, tokens."""

from __future__ import annotations

import ast
import base64
import hashlib
import os
import re
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import guidepath.core.crypto as crypto
from guidepath.core.crypto import (
    DEFAULT_PARAMS,
    Argon2Params,
    DecryptionError,
    MasterKey,
    constant_time_equals,
    hash_password,
    hash_token,
    needs_rehash,
    new_key,
    new_token,
    open_sealed,
    seal,
    verify_password,
)

TENANT_A = "t0123456789abcdef"
TENANT_B = "tfedcba9876543210"
CHEAP = Argon2Params.for_tests()


# --- package boundary --------------------------------------------------------


def _guidepath_imports(package_dir: Path) -> set[str]:
    """Absolute guidepath modules imported by the .py files of *package_dir*."""
    found: set[str] = set()
    for source in package_dir.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("guidepath"))
            elif isinstance(node, ast.ImportFrom):
                if node.level > 1:
                    found.add("." * node.level + (node.module or ""))
                elif node.level == 0 and (node.module or "").startswith("guidepath"):
                    found.add(node.module or "")
    return found


def test_crypto_imports_no_other_guidepath_package():
    assert _guidepath_imports(Path(crypto.__file__).parent) == set()


def test_public_names_are_exported():
    for name in crypto.__all__:
        assert hasattr(crypto, name), name


# --- aead --------------------------------------------------------------------


def test_seal_round_trip_with_aad():
    key = new_key()
    blob = seal(key, b"secret", b"context")
    assert open_sealed(key, blob, b"context") == b"secret"
    assert b"secret" not in blob


def test_seal_uses_a_fresh_nonce_each_time():
    key = new_key()
    assert seal(key, b"same") != seal(key, b"same")


def test_new_key_is_32_random_bytes():
    assert len(new_key()) == 32
    assert new_key() != new_key()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda key, blob: (new_key(), blob, b"ctx"), id="wrong-key"),
        pytest.param(lambda key, blob: (key, blob, b"other"), id="wrong-aad"),
        pytest.param(lambda key, blob: (key, blob[:-1], b"ctx"), id="truncated"),
        pytest.param(lambda key, blob: (key, blob[:20], b"ctx"), id="too-short"),
        pytest.param(lambda key, blob: (key, blob + b"x", b"ctx"), id="extended"),
        pytest.param(
            lambda key, blob: (key, blob[:15] + bytes([blob[15] ^ 1]) + blob[16:], b"ctx"),
            id="bit-flip",
        ),
    ],
)
def test_open_sealed_refuses_anything_but_the_original(mutate):
    key = new_key()
    blob = seal(key, b"payload", b"ctx")
    with pytest.raises(DecryptionError, match="authentication|too short"):
        open_sealed(*mutate(key, blob))


def test_every_single_byte_change_is_detected():
    key = new_key()
    blob = seal(key, b"payload", b"ctx")
    for i in range(len(blob)):
        tampered = blob[:i] + bytes([blob[i] ^ 0x80]) + blob[i + 1 :]
        with pytest.raises(DecryptionError):
            open_sealed(key, tampered, b"ctx")


def test_decryption_error_is_a_value_error():
    assert issubclass(DecryptionError, ValueError)


@pytest.mark.parametrize("key", [b"", b"k" * 16, b"k" * 31, b"k" * 33, "k" * 32])
def test_only_256_bit_keys_are_accepted(key):
    with pytest.raises(ValueError, match="32 bytes"):
        seal(key, b"x")


# --- master key: parsing and repr ----------------------------------------------


def test_from_base64_round_trip():
    raw = os.urandom(32)
    key = MasterKey.from_base64(base64.b64encode(raw).decode() + "\n")
    assert key.to_base64() == base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "text, message",
    [
        ("not base64!!", "not valid base64"),
        ("", "exactly 32 bytes"),
        (base64.b64encode(b"x" * 31).decode(), "exactly 32 bytes, got 31"),
        (base64.b64encode(b"x" * 33).decode(), "exactly 32 bytes, got 33"),
        (base64.b64encode(b"x" * 64).decode(), "exactly 32 bytes, got 64"),
    ],
)
def test_from_base64_refuses_wrong_input_with_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message) as info:
        MasterKey.from_base64(text)
    if text:
        assert text not in str(info.value)  # never echo (near-)secret input


def test_constructor_needs_exactly_32_bytes():
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        MasterKey(b"x" * 16)


def test_repr_and_str_never_show_the_key():
    raw = os.urandom(32)
    key = MasterKey(raw)
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert "redacted" in shown
        assert key.to_base64() not in shown
        assert raw.hex() not in shown
    assert not hasattr(key, "__dict__")  # no stray attribute can carry the key


# --- master key: the key file --------------------------------------------------


def test_load_or_create_writes_a_0600_file_once(tmp_path):
    path = tmp_path / "secrets" / "master.key"
    created = MasterKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.from_base64(path.read_text()).to_base64() == created.to_base64()
    loaded = MasterKey.load_or_create(path)
    assert loaded.to_base64() == created.to_base64()
    assert sorted(p.name for p in path.parent.iterdir()) == ["master.key"]


def test_concurrent_creation_agrees_on_one_key(tmp_path):
    path = tmp_path / "master.key"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(MasterKey.load_or_create(path).to_base64())

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert MasterKey.load_or_create(path).to_base64() == results[0]
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "master.key"
    original = MasterKey.load_or_create(path)
    path.chmod(mode)
    with pytest.raises(PermissionError, match=f"group or others.*{mode:04o}.*chmod 600"):
        MasterKey.load_or_create(path)
    assert MasterKey.from_base64(path.read_text()).to_base64() == original.to_base64()


def test_key_file_with_garbage_is_refused_not_replaced(tmp_path):
    path = tmp_path / "master.key"
    path.write_text("definitely not a key\n")
    path.chmod(0o600)
    with pytest.raises(ValueError, match=f"{re.escape(str(path))}.*base64"):
        MasterKey.load_or_create(path)
    assert path.read_text() == "definitely not a key\n"


def test_symlinked_key_file_is_refused(tmp_path):
    real = tmp_path / "real.key"
    MasterKey.load_or_create(real)
    link = tmp_path / "master.key"
    link.symlink_to(real)
    with pytest.raises(OSError):
        MasterKey.load_or_create(link)


# --- master key: wrapping and derivation ---------------------------------------


def test_wrap_unwrap_round_trip():
    master = MasterKey.generate()
    data_key = new_key()
    wrapped = master.wrap(data_key, TENANT_A)
    assert data_key not in wrapped
    assert master.unwrap(wrapped, TENANT_A) == data_key


def test_wrapped_key_moved_to_another_tenant_does_not_unwrap():
    master = MasterKey.generate()
    wrapped = master.wrap(new_key(), TENANT_A)
    with pytest.raises(DecryptionError, match="another tenant"):
        master.unwrap(wrapped, TENANT_B)


def test_wrapped_key_does_not_unwrap_with_another_master_key():
    wrapped = MasterKey.generate().wrap(new_key(), TENANT_A)
    with pytest.raises(DecryptionError):
        MasterKey.generate().unwrap(wrapped, TENANT_A)


def test_tampered_wrapped_key_does_not_unwrap():
    master = MasterKey.generate()
    wrapped = bytearray(master.wrap(new_key(), TENANT_A))
    wrapped[-1] ^= 1
    with pytest.raises(DecryptionError):
        master.unwrap(bytes(wrapped), TENANT_A)


def test_wrap_refuses_a_data_key_of_the_wrong_size_or_no_tenant():
    master = MasterKey.generate()
    with pytest.raises(ValueError, match="32 bytes"):
        master.wrap(b"short", TENANT_A)
    with pytest.raises(ValueError, match="tenant_id"):
        master.wrap(new_key(), "")


def test_derive_is_hkdf_sha256_with_the_documented_label():
    raw = os.urandom(32)
    expected = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"guidepath/postgres/{TENANT_A}".encode(),
    ).derive(raw)
    assert MasterKey(raw).derive("postgres", TENANT_A) == expected


def test_derive_is_deterministic_and_separates_purposes_tenants_and_masters():
    master = MasterKey.generate()
    base = master.derive("postgres", TENANT_A)
    assert master.derive("postgres", TENANT_A) == base
    others = {
        master.derive("redis", TENANT_A),
        master.derive("postgres", TENANT_B),
        MasterKey.generate().derive("postgres", TENANT_A),
    }
    assert base not in others and len(others) == 3
    assert len(master.derive("postgres", TENANT_A, length=64)) == 64


@pytest.mark.parametrize("purpose", ["", "a/b", "Postgres", "x y", "1abc", "é"])
def test_derive_refuses_ambiguous_purposes(purpose):
    with pytest.raises(ValueError, match="purpose"):
        MasterKey.generate().derive(purpose, TENANT_A)


def test_derive_password_is_url_safe_and_full_strength():
    master = MasterKey.generate()
    password = master.derive_password("redis", TENANT_A)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", password)
    assert password == master.derive_password("redis", TENANT_A)
    assert password != master.derive_password("redis", TENANT_B)
    assert password != master.derive_password("postgres", TENANT_A)
    padded = password + "="
    assert base64.urlsafe_b64decode(padded) == master.derive("redis", TENANT_A)


# --- passwords -----------------------------------------------------------------


def test_hash_and_verify():
    encoded = hash_password("correct horse", params=CHEAP)
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horsE", encoded)
    assert not verify_password("", encoded)


def test_hash_is_phc_encoded_and_salted():
    first = hash_password("pw", params=CHEAP)
    second = hash_password("pw", params=CHEAP)
    pattern = r"\$argon2id\$v=19\$m=8,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}"
    assert re.fullmatch(pattern, first)
    assert first != second


def test_default_parameters_are_the_owasp_ones_and_interoperate():
    assert (DEFAULT_PARAMS.memory_cost, DEFAULT_PARAMS.iterations, DEFAULT_PARAMS.lanes) == (
        19456,
        2,
        1,
    )
    encoded = hash_password("pässwörd")  # one real-cost hash: ~50 ms
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not needs_rehash(encoded)
    # Same format as the reference implementation (checked by cryptography itself).
    Argon2id.verify_phc_encoded("pässwörd".encode(), encoded)
    foreign = Argon2id(
        salt=os.urandom(16), length=32, iterations=2, lanes=1, memory_cost=19456
    ).derive_phc_encoded(b"from elsewhere")
    assert verify_password("from elsewhere", foreign)


def test_unicode_passwords_are_normalised():
    encoded = hash_password("caf\u00e9", params=CHEAP)  # composed é
    assert verify_password("cafe\u0301", encoded)  # e + combining accent


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "garbage",
        None,
        b"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=16$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=8,t=0,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFz!GhhaGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g$",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g\n",
    ],
)
def test_malformed_hashes_verify_false_and_need_rehash(encoded):
    assert verify_password("pw", encoded) is False
    assert needs_rehash(encoded) is True


def test_non_str_password_does_not_verify():
    encoded = hash_password("pw", params=CHEAP)
    assert verify_password(b"pw", encoded) is False  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hash_password(b"pw")  # type: ignore[arg-type]


def test_needs_rehash_when_parameters_change():
    encoded = hash_password("pw", params=CHEAP)
    assert not needs_rehash(encoded, params=CHEAP)
    assert needs_rehash(encoded)  # default parameters are stronger
    assert needs_rehash(encoded, params=Argon2Params(memory_cost=16, iterations=1))


def test_process_wide_parameters_can_be_lowered_and_restored():
    previous = crypto.set_default_params(CHEAP)
    try:
        assert crypto.default_params() == CHEAP
        encoded = hash_password("pw")
        assert encoded.startswith("$argon2id$v=19$m=8,t=1,p=1$")
        assert not needs_rehash(encoded)
    finally:
        assert crypto.set_default_params(previous) == CHEAP
    assert crypto.default_params() == previous == DEFAULT_PARAMS
    assert needs_rehash(encoded)
    with pytest.raises(TypeError):
        crypto.set_default_params((8, 1, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"memory_cost": 7, "iterations": 1, "lanes": 1},
        {"memory_cost": 8, "iterations": 0, "lanes": 1},
        {"memory_cost": 8, "iterations": 1, "lanes": 0},
        {"memory_cost": 8, "iterations": 1, "lanes": 2},  # needs 16 KiB
        {"memory_cost": 1 << 21, "iterations": 1, "lanes": 1},
    ],
)
def test_invalid_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        Argon2Params(**kwargs)


# --- tokens --------------------------------------------------------------------


def test_new_token_shape_and_uniqueness():
    tokens = {new_token("gpk") for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert re.fullmatch(r"gpk_[A-Za-z0-9_-]{43}", token)


@pytest.mark.parametrize("prefix", ["", "GPK", "a_b", "9ab", "x" * 17, "a-b"])
def test_new_token_refuses_odd_prefixes(prefix):
    with pytest.raises(ValueError, match="prefix"):
        new_token(prefix)


def test_hash_token_is_sha256_hex():
    token = new_token("ses")
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert hash_token(token) != hash_token(new_token("ses"))
    with pytest.raises(TypeError):
        hash_token(token.encode())  # type: ignore[arg-type]


def test_constant_time_equals():
    assert constant_time_equals("abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")
    assert constant_time_equals("Grüße", "Grüße")  # non-ASCII text works
    assert constant_time_equals(b"\x00\xff", bytearray(b"\x00\xff"))
    with pytest.raises(TypeError):
        constant_time_equals("abc", b"abc")  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _production_password_cost():
    """The guidepath pytest plugin lowers the Argon2 cost for speed; these tests
    are about the production parameters, so put them back while they run."""
    from guidepath.core.crypto import passwords

    previous = passwords.set_default_params(passwords.DEFAULT_PARAMS)
    yield
    passwords.set_default_params(previous)
