"""Relay registry and reports on both backends (Redis tests use their own prefix)."""

from __future__ import annotations

import os
import time

import pytest
import redis

from guidepath.relay.registry import InProcessRegistry, RedisRegistry, RelayInfo
from guidepath.relay.reports import InProcessReports, RedisReports, Report

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"gp-relay-test-{os.urandom(4).hex()}"
    yield client, prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def exercise_registry(registry):
    assert registry.choose() is None
    registry.register(RelayInfo("r1", "h1:7600", "ws://h1:7601/", load=5), ttl_seconds=5)
    registry.register(RelayInfo("r2", "h2:7600", "ws://h2:7601/", load=2), ttl_seconds=5)
    registry.register(RelayInfo("r3", "h3:7600", "ws://h3:7601/", load=0), ttl_seconds=0.3)
    assert registry.choose().relay_id == "r3"
    time.sleep(0.4)  # r3 stopped heartbeating
    assert registry.choose().relay_id == "r2"
    registry.register(RelayInfo("r2", "h2:7600", "ws://h2:7601/", load=9), ttl_seconds=5)
    chosen = registry.choose()
    assert chosen.relay_id == "r1" and chosen.updated_at > 0
    registry.unregister("r1")
    assert {r.relay_id for r in registry.live()} == {"r2"}


def test_in_process_registry():
    exercise_registry(InProcessRegistry())


@pytest.mark.redis
def test_redis_registry_chooses_the_least_loaded_live_relay(redis_client):
    client, prefix = redis_client
    registry = RedisRegistry(client, prefix=prefix)
    exercise_registry(registry)
    assert all(k.decode().startswith(prefix + ":") for k in client.scan_iter(f"{prefix}*"))


def report(n: int) -> Report:
    return Report(type="device_connected", relay_id="r1", tenant_id="t1", session_id=f"s{n}", kind="camera")


def test_in_process_reports():
    reports = InProcessReports()
    for n in range(3):
        reports.publish(report(n))
    got = reports.read(10)
    assert [r.session_id for _, r in got] == ["s0", "s1", "s2"]
    assert reports.read(10, block_ms=10) == []


@pytest.mark.redis
def test_redis_reports_through_a_consumer_group(redis_client):
    client, prefix = redis_client
    relay_side = RedisReports(client, stream=f"{prefix}:reports")
    app_a = RedisReports(client, stream=f"{prefix}:reports", consumer="a")
    app_b = RedisReports(client, stream=f"{prefix}:reports", consumer="b")
    app_a.ensure_group()
    for n in range(4):
        relay_side.publish(report(n))
    first = app_a.read(2)
    second = app_b.read(10, block_ms=100)
    assert [r.session_id for _, r in first + second] == ["s0", "s1", "s2", "s3"]
    app_b.ack([i for i, _ in second])
    # a crashed consumer's unacknowledged reports are claimed by another
    claimed = app_b.claim_stale(min_idle_ms=0)
    assert [r.session_id for _, r in claimed] == ["s0", "s1"]
    assert claimed[0][1].to_dict()["type"] == "device_connected"
    app_b.ack([i for i, _ in claimed])
    assert app_a.read(10, block_ms=50) == []


def test_report_types_are_checked():
    with pytest.raises(ValueError):
        Report(type="hacked", relay_id="r", tenant_id="t", session_id="s", kind="camera")


def test_deployments_sharing_a_redis_do_not_see_each_others_relays(redis_client):
    """The namespace comes from the master key: same key, same relays; another key
    (staging beside production, two test runs) sees none of them."""
    from guidepath.core.crypto import MasterKey
    from guidepath.relay.registry import namespace_for

    client, prefix = redis_client
    ours, theirs = MasterKey.generate(), MasterKey.generate()
    assert namespace_for(ours) == namespace_for(MasterKey.from_base64(ours.to_base64())) != namespace_for(theirs)
    ns_ours, ns_theirs = (f"{prefix}-{namespace_for(k)}" for k in (ours, theirs))
    RedisRegistry(client, prefix=ns_ours).register(RelayInfo("ours-1", "h:1", "ws://h:2/"), ttl_seconds=5)
    assert RedisRegistry(client, prefix=ns_theirs).choose() is None
    assert RedisRegistry(client, prefix=ns_ours).choose().relay_id == "ours-1"
