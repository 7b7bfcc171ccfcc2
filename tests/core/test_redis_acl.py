"""A tenant's Redis ACL user reaches its own keys and channels and nothing else."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis

from guidepath.core.cache import RedisAclProvisioner, acl_username, tenant_prefix
from guidepath.core.cache.backends import strip_credentials

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("GUIDEPATH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Tenant:
    id: str
    password: str
    client: redis.Redis


@pytest.fixture
def admin() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def provisioner(admin: redis.Redis) -> RedisAclProvisioner:
    return RedisAclProvisioner(admin)


@pytest.fixture
def make_tenant(admin: redis.Redis, provisioner: RedisAclProvisioner) -> Iterator[Callable[[], Tenant]]:
    """Provisions tenants with random ids; removes their users and keys afterwards."""
    made: list[Tenant] = []

    def make() -> Tenant:
        tenant_id = "t" + secrets.token_hex(8)
        password = secrets.token_urlsafe(24)
        provisioner.ensure_user(tenant_id, password)
        tenant = Tenant(tenant_id, password, provisioner.client_for(tenant_id, password, REDIS_URL))
        made.append(tenant)
        return tenant

    yield make
    for tenant in made:
        tenant.client.close()
        provisioner.delete_user(tenant.id)
        keys = list(admin.scan_iter(match=tenant_prefix(tenant.id) + "*"))
        if keys:
            admin.delete(*keys)


def test_tenant_uses_its_own_keys(make_tenant: Callable[[], Tenant]) -> None:
    a = make_tenant()
    client = a.client
    assert client.acl_whoami() == f"gp_{a.id}"
    assert client.ping() is True
    key = f"gp:{a.id}:x"
    assert client.set(key, b"1", px=60_000)
    assert client.incrby(key, 2) == 3
    assert client.pexpire(key, 30_000)
    assert client.exists(key) == 1
    with client.pipeline(transaction=True) as pipe:
        pipe.set(f"gp:{a.id}:y", b"0", nx=True).incr(f"gp:{a.id}:y")
        assert pipe.execute() == [True, 1]
    assert client.hset(f"gp:{a.id}:h", "f", "v") == 1
    assert client.unlink(key, f"gp:{a.id}:y", f"gp:{a.id}:h") == 3


@pytest.mark.parametrize(
    "command",
    [
        ("GET", "gp:{b}:x"),
        ("SET", "gp:{b}:x", "stolen"),
        ("DEL", "gp:{b}:x"),
        ("EXISTS", "gp:{b}:x"),
        ("COPY", "gp:{a}:x", "gp:{b}:x"),
        ("RENAME", "gp:{a}:x", "gp:{b}:x"),
        ("GET", "x"),
        ("SET", "x", "1"),
        ("GET", "gp:x"),
        ("GET", "gp:{a}"),  # the pattern is gp:{a}:*, colon included
        ("SET", "gp:{a}x:y", "1"),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("KEYS", "*"),
        ("KEYS", "gp:{a}:*"),
        ("SCAN", "0"),
        ("RANDOMKEY",),
        ("DBSIZE",),
        ("INFO",),
        ("CONFIG", "GET", "*"),
        ("CLIENT", "LIST"),
        ("CLIENT", "KILL", "TYPE", "normal"),
        ("MONITOR",),
        ("BGSAVE",),
        ("EVAL", "return redis.call('GET', KEYS[1])", "1", "gp:{a}:x"),
        ("SCRIPT", "FLUSH"),
        ("FUNCTION", "FLUSH"),
        ("PUBSUB", "CHANNELS"),
        ("MEMORY", "STATS"),
        ("ACL", "SETUSER", "gp_{a}", "~*"),
        ("ACL", "LIST"),
        ("SWAPDB", "0", "1"),
        ("SHUTDOWN", "NOSAVE"),
    ],
)
def test_everything_outside_the_tenant_is_refused(
    make_tenant: Callable[[], Tenant], admin: redis.Redis, command: tuple[str, ...]
) -> None:
    a, b = make_tenant(), make_tenant()
    admin.set(f"gp:{b.id}:x", b"b's secret")
    admin.set(f"gp:{a.id}:x", b"a's")
    args = [part.format(a=a.id, b=b.id) for part in command]
    # Ask first: on a broken ACL, FLUSHALL or SHUTDOWN would hit everyone's server.
    verdict = admin.execute_command("ACL", "DRYRUN", acl_username(a.id), *args)
    assert verdict != b"OK", f"{args} would be allowed"
    with pytest.raises(redis.exceptions.NoPermissionError):
        a.client.execute_command(*args)
    assert admin.get(f"gp:{b.id}:x") == b"b's secret"


def test_tenant_publishes_and_subscribes_only_on_its_own_channels(make_tenant: Callable[[], Tenant]) -> None:
    a, b = make_tenant(), make_tenant()
    # Allowed (no error); the count is how many listen, and an app node of another
    # test may be listening on gp:*:fanout, so only the absence of an error counts.
    assert a.client.publish(f"gp:{a.id}:fanout", b"hello") >= 0
    for channel in (f"gp:{b.id}:fanout", "fanout", "gp:fanout"):
        with pytest.raises(redis.exceptions.NoPermissionError):
            a.client.publish(channel, b"spoofed")
    for kind, name in (
        ("subscribe", f"gp:{b.id}:fanout"),
        ("psubscribe", "gp:*:fanout"),
        ("psubscribe", "*"),
        ("psubscribe", f"gp:{b.id}:*"),
        ("subscribe", "fanout"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            first_pubsub_reply(a.client, kind, name)
    confirmation = first_pubsub_reply(a.client, "subscribe", f"gp:{a.id}:fanout")
    assert confirmation is not None and confirmation["type"] == "subscribe"


def first_pubsub_reply(client: redis.Redis, kind: str, name: str) -> dict | None:
    """Subscribe on a fresh connection and read the server's answer (or its error)."""
    pubsub = client.pubsub()
    try:
        getattr(pubsub, kind)(name)
        return pubsub.get_message(timeout=5)
    finally:
        pubsub.close()


def test_ensure_user_is_idempotent_and_rotates_the_password(
    make_tenant: Callable[[], Tenant], provisioner: RedisAclProvisioner, admin: redis.Redis
) -> None:
    a = make_tenant()
    before = admin.acl_getuser(acl_username(a.id))
    provisioner.ensure_user(a.id, a.password)
    assert admin.acl_getuser(acl_username(a.id)) == before
    (rules,) = [entry for entry in admin.acl_list() if entry.startswith(f"user gp_{a.id} ")]
    assert f"~gp:{a.id}:*" in rules and f"resetchannels &gp:{a.id}:*" in rules
    assert "nopass" not in rules

    new_password = secrets.token_urlsafe(24)
    provisioner.ensure_user(a.id, new_password)
    with pytest.raises(redis.AuthenticationError):
        provisioner.client_for(a.id, a.password, REDIS_URL).ping()
    fresh = provisioner.client_for(a.id, new_password, REDIS_URL)
    try:
        assert fresh.acl_whoami() == f"gp_{a.id}"
    finally:
        fresh.close()


def test_client_for_ignores_credentials_in_the_url(make_tenant: Callable[[], Tenant], provisioner: RedisAclProvisioner) -> None:
    a = make_tenant()
    url = "redis://default:anything@" + REDIS_URL.split("://", 1)[1].rpartition("@")[2]
    client = provisioner.client_for(a.id, a.password, url)
    try:
        assert client.acl_whoami() == f"gp_{a.id}"
    finally:
        client.close()


def test_strip_credentials() -> None:
    assert strip_credentials("redis://admin:s3cr3t@host:6379/2?x=1") == "redis://host:6379/2?x=1"
    assert strip_credentials("rediss://:pw@[::1]:6380/0") == "rediss://[::1]:6380/0"
    assert strip_credentials("redis://host/0") == "redis://host/0"


def test_delete_user_removes_it_and_its_connections(
    make_tenant: Callable[[], Tenant], provisioner: RedisAclProvisioner
) -> None:
    a = make_tenant()
    assert a.client.ping()
    assert provisioner.user_exists(a.id)
    assert provisioner.delete_user(a.id) is True
    assert not provisioner.user_exists(a.id)
    assert provisioner.delete_user(a.id) is False
    with pytest.raises((redis.ConnectionError, redis.AuthenticationError)):
        a.client.ping()
    with pytest.raises(redis.AuthenticationError):
        provisioner.client_for(a.id, a.password, REDIS_URL).ping()


@pytest.mark.parametrize("password", ["", "short", "x" * 15])
def test_weak_passwords_are_refused(provisioner: RedisAclProvisioner, password: str) -> None:
    with pytest.raises(ValueError):
        provisioner.ensure_user("t" + secrets.token_hex(8), password)


@pytest.mark.parametrize("tenant_id", ["tenant", "t*", "t0123456789abcdef ~*", "T0123456789ABCDEF"])
def test_malformed_tenant_ids_are_refused(provisioner: RedisAclProvisioner, tenant_id: str) -> None:
    with pytest.raises(ValueError):
        provisioner.ensure_user(tenant_id, "p" * 32)
    with pytest.raises(ValueError):
        provisioner.delete_user(tenant_id)


def test_reports_an_open_default_user(provisioner: RedisAclProvisioner, admin: redis.Redis) -> None:
    info = admin.acl_getuser("default")
    flags = set(info["flags"]) if info else set()
    assert provisioner.default_user_is_open() == ({"on", "nopass"} <= flags)
