"""The tenant cache behaves the same in memory, on Redis, and on Redis with ACL users."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import redis

from guidepath.core.cache import (
    MAX_KEY_LENGTH,
    CacheBackend,
    CacheFactory,
    MemoryBackend,
    RedisAclProvisioner,
    RedisBackend,
    TenantCache,
    tenant_prefix,
)

REDIS_URL = os.environ.get("GUIDEPATH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def new_tenant_id() -> str:
    return "t" + secrets.token_hex(8)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@dataclass
class Store:
    """One cache store as the tests see it: tenant caches, and the raw keyspace."""

    kind: str
    raw: CacheBackend
    _make: Callable[[str], TenantCache]
    tenants: list[str] = field(default_factory=list)

    def cache(self, tenant_id: str | None = None) -> TenantCache:
        tenant_id = tenant_id or new_tenant_id()
        self.tenants.append(tenant_id)
        return self._make(tenant_id)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-acl", marks=pytest.mark.redis),
    ]
)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    kind = request.param
    factory: CacheFactory | None = None
    if kind == "memory":
        memory = MemoryBackend()
        result = Store(kind, memory, lambda t: TenantCache(t, memory))
    elif kind == "redis":
        shared = RedisBackend.from_url(REDIS_URL)
        result = Store(kind, shared, lambda t: TenantCache(t, shared))
    else:
        passwords: dict[str, str] = {}
        factory = CacheFactory(
            REDIS_URL,
            password_for=lambda t: passwords.setdefault(t, secrets.token_urlsafe(24)),
            use_acl=True,
        )
        result = Store(kind, RedisBackend.from_url(REDIS_URL), factory.for_tenant)
    yield result
    for tenant_id in result.tenants:
        result.raw.delete_prefix(tenant_prefix(tenant_id))
        if factory is not None:
            factory.deprovision(tenant_id)
    if factory is not None:
        factory.close()
    result.raw.close()


def test_keys_are_built_with_the_tenant_prefix(store: Store) -> None:
    cache = store.cache()
    cache.set("greeting", b"hello")
    assert cache.prefix == f"gp:{cache.tenant_id}:"
    assert store.raw.get(f"gp:{cache.tenant_id}:greeting") == b"hello"
    assert store.raw.get("greeting") is None
    assert list(store.raw.scan_prefix(cache.prefix)) == [f"gp:{cache.tenant_id}:greeting"]


def test_get_set_delete_exists(store: Store) -> None:
    cache = store.cache()
    assert cache.get("k") is None
    assert not cache.exists("k")
    cache.set("k", b"\x00\xffbinary")
    assert cache.get("k") == b"\x00\xffbinary"
    assert cache.exists("k")
    cache.set("k", b"replaced")
    assert cache.get("k") == b"replaced"
    assert cache.delete("k") is True
    assert cache.delete("k") is False
    assert cache.get("k") is None


def test_values_expire_after_their_ttl(store: Store) -> None:
    cache = store.cache()
    started = time.monotonic()
    cache.set("short", b"x", ttl=0.5)
    seen = cache.get("short")
    if time.monotonic() - started < 0.5:  # a loaded machine may take longer than the ttl
        assert seen == b"x"
    cache.set("long", b"y", ttl=60)
    cache.set("forever", b"z")
    assert wait_until(lambda: cache.get("short") is None, timeout=3)
    assert not cache.exists("short")
    assert cache.get("long") == b"y"
    assert cache.get("forever") == b"z"


def test_expire_sets_a_ttl_on_an_existing_key(store: Store) -> None:
    cache = store.cache()
    assert cache.expire("missing", 1) is False
    cache.set("k", b"v")
    assert cache.expire("k", 0.2) is True
    assert wait_until(lambda: cache.get("k") is None, timeout=3)


def test_incr_counts_from_zero(store: Store) -> None:
    cache = store.cache()
    assert cache.incr("n") == 1
    assert cache.incr("n", 5) == 6
    assert cache.incr("n", -10) == -4
    assert cache.get("n") == b"-4"


def test_incr_refuses_values_that_are_not_integers(store: Store) -> None:
    cache = store.cache()
    cache.set("text", b"abc")
    with pytest.raises(ValueError):
        cache.incr("text")
    with pytest.raises(ValueError):
        cache.incr("text", ttl=10)
    assert cache.get("text") == b"abc"
    cache.set("big", str(2**63 - 1).encode())
    with pytest.raises(ValueError):
        cache.incr("big")


def test_incr_ttl_applies_only_when_the_counter_is_created(store: Store) -> None:
    cache = store.cache()
    assert cache.incr("window", ttl=0.4) == 1
    assert cache.incr("window", ttl=60) == 2  # does not extend the window
    assert wait_until(lambda: cache.get("window") is None, timeout=3)
    assert cache.incr("window", ttl=60) == 1


def test_json_round_trip(store: Store) -> None:
    cache = store.cache()
    document = {"name": "Zoë", "steps": [1, 2.5, None, True], "nested": {"a": []}}
    cache.set_json("doc", document, ttl=60)
    assert cache.get_json("doc") == document
    assert cache.get_json("missing") is None
    assert cache.get_json("missing", default={}) == {}
    with pytest.raises(ValueError):
        cache.set_json("nan", float("nan"))


def test_clear_removes_only_the_tenants_own_keys(store: Store) -> None:
    a, b = store.cache(), store.cache()
    for cache in (a, b):
        cache.set("one", b"1")
        cache.set("two", b"2", ttl=60)
    assert a.clear() == 2
    assert a.get("one") is None and a.get("two") is None
    assert b.get("one") == b"1" and b.get("two") == b"2"
    assert a.clear() == 0


def test_two_tenants_never_see_each_others_keys(store: Store) -> None:
    a, b = store.cache(), store.cache()
    a.set("shared-name", b"from a")
    b.set("shared-name", b"from b")
    a.set("only-a", b"secret")
    assert a.get("shared-name") == b"from a"
    assert b.get("shared-name") == b"from b"
    assert b.get("only-a") is None
    assert not b.exists("only-a")
    assert b.delete("only-a") is False
    assert a.get("only-a") == b"secret"
    assert a.incr("counter") == 1
    assert b.incr("counter") == 1
    assert b.delete_prefix("only") == 0
    assert a.get("only-a") == b"secret"


def test_delete_prefix_matches_glob_characters_literally(store: Store) -> None:
    cache = store.cache()
    for key in ("a*1", "a*2", "ab", "[x]", "x", "a?"):
        cache.set(key, b"v")
    assert cache.delete_prefix("a*") == 2
    assert cache.get("ab") == b"v"
    assert cache.delete_prefix("[x]") == 1
    assert cache.get("x") == b"v"
    assert cache.delete_prefix("a?") == 1
    assert cache.get("ab") == b"v"


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("", ValueError),
        ("line\nbreak", ValueError),
        ("nul\x00", ValueError),
        ("del\x7f", ValueError),
        ("c1\x85", ValueError),
        ("surrogate\ud800", ValueError),
        ("x" * (MAX_KEY_LENGTH + 1), ValueError),
        (b"bytes", TypeError),
        (42, TypeError),
        (None, TypeError),
    ],
)
def test_malformed_keys_are_refused(store: Store, key: object, error: type[Exception]) -> None:
    cache = store.cache()
    with pytest.raises(error):
        cache.set(key, b"v")  # type: ignore[arg-type]
    with pytest.raises(error):
        cache.get(key)  # type: ignore[arg-type]
    with pytest.raises(error):
        cache.delete_prefix(key)  # type: ignore[arg-type]


def test_longest_allowed_key_and_unusual_characters_work(store: Store) -> None:
    cache = store.cache()
    for key in ("x" * MAX_KEY_LENGTH, "spaces and: colons", "ünïcødé ✓", "gp:tffffffffffffffff:x"):
        cache.set(key, b"v")
        assert cache.get(key) == b"v"
    assert store.raw.get("gp:tffffffffffffffff:x") is None


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.set("k", "text"), TypeError),
        (lambda c: c.set("k", bytearray(b"x")), TypeError),
        (lambda c: c.set("k", b"v", ttl=0), ValueError),
        (lambda c: c.set("k", b"v", ttl=-1), ValueError),
        (lambda c: c.set("k", b"v", ttl=float("inf")), ValueError),
        (lambda c: c.set("k", b"v", ttl=float("nan")), ValueError),
        (lambda c: c.set("k", b"v", ttl=True), TypeError),
        (lambda c: c.set("k", b"v", ttl="5"), TypeError),
        (lambda c: c.expire("k", 0), ValueError),
        (lambda c: c.incr("k", 1.5), TypeError),
        (lambda c: c.incr("k", True), TypeError),
        (lambda c: c.incr("k", 1, ttl=0), ValueError),
    ],
)
def test_values_amounts_and_ttls_are_checked(
    store: Store, call: Callable[[TenantCache], object], error: type[Exception]
) -> None:
    cache = store.cache()
    with pytest.raises(error):
        call(cache)
    assert cache.get("k") is None


def test_ping(store: Store) -> None:
    assert store.cache().ping() is True


def test_concurrent_increments_are_not_lost(store: Store) -> None:
    cache = store.cache()
    threads = [threading.Thread(target=lambda: [cache.incr("hits") for _ in range(100)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert cache.get("hits") == b"800"


@pytest.mark.parametrize(
    "tenant_id",
    ["", "t123", "T0123456789abcdef", "t0123456789ABCDEF", "t0123456789abcdeg", "t0123456789abcdef\n", "gp:*", "x0123456789abcdef"],
)
def test_malformed_tenant_ids_are_refused(tenant_id: str) -> None:
    with pytest.raises(ValueError):
        TenantCache(tenant_id, MemoryBackend())


def test_tenant_id_must_be_a_string() -> None:
    with pytest.raises(TypeError):
        TenantCache(1234, MemoryBackend())  # type: ignore[arg-type]


# --------------------------------------------------------------- memory backend


def test_memory_backend_evicts_the_least_recently_used_key() -> None:
    backend = MemoryBackend(max_items=3)
    for key in ("a", "b", "c"):
        backend.set(key, b"v")
    assert backend.get("a") == b"v"  # a is now more recent than b
    backend.set("d", b"v")
    assert backend.get("b") is None
    assert [backend.get(k) for k in ("a", "c", "d")] == [b"v", b"v", b"v"]
    backend.incr("e")
    assert sum(backend.exists(k) for k in "abcde") == 3


def test_memory_backend_evicts_expired_keys_before_live_ones() -> None:
    backend = MemoryBackend(max_items=2)
    backend.set("old-but-live", b"v")
    backend.set("expiring", b"v", ttl=0.05)
    time.sleep(0.1)
    backend.set("new", b"v")
    assert backend.get("old-but-live") == b"v"
    assert backend.get("new") == b"v"


def test_memory_backend_refuses_a_silly_bound() -> None:
    with pytest.raises(ValueError):
        MemoryBackend(max_items=0)


# --------------------------------------------------------------------- factory


def test_factory_memory_mode_shares_one_store() -> None:
    factory = CacheFactory()
    tenant = new_tenant_id()
    assert factory.mode == "memory"
    factory.for_tenant(tenant).set("k", b"v")
    assert factory.for_tenant(tenant).get("k") == b"v"
    assert factory.for_tenant(new_tenant_id()).get("k") is None
    assert factory.ping() is True
    factory.provision(tenant)  # nothing to prepare in memory
    assert factory.deprovision(tenant) == 1
    factory.close()
    factory.close()
    with pytest.raises(RuntimeError):
        factory.for_tenant(tenant)


def test_factory_acl_mode_needs_passwords_and_applies_only_to_redis() -> None:
    with pytest.raises(ValueError):
        CacheFactory(REDIS_URL, use_acl=True)
    embedded = CacheFactory(None, password_for=lambda t: "x" * 32, use_acl=True)
    assert embedded.mode == "memory" and not embedded.use_acl
    embedded.close()


@pytest.mark.redis
def test_factory_shared_redis_mode() -> None:
    factory = CacheFactory(REDIS_URL)
    tenant = new_tenant_id()
    try:
        assert factory.mode == "redis"
        factory.for_tenant(tenant).set("k", b"v")
        assert factory.for_tenant(tenant).get("k") == b"v"
        assert factory.ping() is True
    finally:
        assert factory.deprovision(tenant) == 1
        factory.close()


@pytest.fixture
def acl_factory() -> Iterator[tuple[CacheFactory, list[str]]]:
    passwords: dict[str, str] = {}
    factory = CacheFactory(
        REDIS_URL,
        password_for=lambda t: passwords.setdefault(t, secrets.token_urlsafe(24)),
        use_acl=True,
        max_clients=2,
    )
    tenants: list[str] = []
    yield factory, tenants
    for tenant_id in tenants:
        factory.deprovision(tenant_id)
    factory.close()


@pytest.mark.redis
def test_factory_acl_mode_talks_as_the_tenant_user(acl_factory: tuple[CacheFactory, list[str]]) -> None:
    factory, tenants = acl_factory
    tenant, other = new_tenant_id(), new_tenant_id()
    tenants += [tenant, other]
    assert factory.mode == "redis-acl"
    factory.for_tenant(other).set("x", b"other's")
    backend = factory.for_tenant(tenant).backend
    assert isinstance(backend, RedisBackend)
    assert backend.client.acl_whoami() == f"gp_{tenant}"
    with pytest.raises(redis.exceptions.NoPermissionError):
        backend.client.get(f"gp:{other}:x")
    with pytest.raises(ValueError):
        list(backend.scan_prefix(f"gp:{other}:"))  # enumeration stays inside the tenant
    with pytest.raises(ValueError):
        backend.delete_prefix("gp:")


@pytest.mark.redis
def test_factory_keeps_a_bounded_lru_of_tenant_clients(acl_factory: tuple[CacheFactory, list[str]]) -> None:
    factory, tenants = acl_factory
    a, b, c = (new_tenant_id() for _ in range(3))
    tenants += [a, b, c]
    for tenant in (a, b, c):
        factory.for_tenant(tenant).set("k", tenant.encode())
    assert factory.connected_tenants == (b, c)
    assert factory.for_tenant(a).get("k") == a.encode()  # reconnects lazily
    assert factory.connected_tenants == (c, a)
    assert factory.for_tenant(c).get("k") == c.encode()
    assert factory.connected_tenants == (a, c)


@pytest.mark.redis
def test_factory_provisions_a_missing_acl_user(acl_factory: tuple[CacheFactory, list[str]]) -> None:
    factory, tenants = acl_factory
    tenant = new_tenant_id()
    tenants.append(tenant)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        provisioner = RedisAclProvisioner(admin)
        assert not provisioner.user_exists(tenant)
        factory.for_tenant(tenant).set("k", b"v")
        assert provisioner.user_exists(tenant)
        assert factory.deprovision(tenant) == 1
        assert not provisioner.user_exists(tenant)
        assert factory.deprovision(tenant) == 0
        assert factory.for_tenant(tenant).get("k") is None  # provisioned again on use
        assert provisioner.user_exists(tenant)
        provisioner.delete_user(tenant)
        factory.provision(tenant)
        assert provisioner.user_exists(tenant)
    finally:
        admin.close()
