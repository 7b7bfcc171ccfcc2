"""Real-time fan-out delivers a tenant's messages to that tenant's subscribers only,
in one process (memory) and across processes (Redis)."""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from guidepath.core.realtime import MAX_MESSAGE_BYTES, Fanout, MemoryFanout, RedisFanout

REDIS_URL = os.environ.get("GUIDEPATH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT = 10.0  # seconds; every wait in this module is bounded by it


def new_tenant_id() -> str:
    return "t" + secrets.token_hex(8)


class Inbox:
    """A callback that collects messages, with bounded waits."""

    def __init__(self) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()

    def __call__(self, message: dict[str, Any]) -> None:
        self.messages.put(message)

    def next(self, timeout: float = WAIT) -> dict[str, Any]:
        return self.messages.get(timeout=timeout)

    def empty(self) -> bool:
        return self.messages.empty()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def fanout(request: pytest.FixtureRequest) -> Iterator[Fanout]:
    if request.param == "memory":
        instance: Fanout = MemoryFanout()
    else:
        instance = RedisFanout(REDIS_URL, client_name=f"gp-test-fanout-{secrets.token_hex(4)}")
    yield instance
    instance.close()


@pytest.fixture
def redis_fanout() -> Iterator[RedisFanout]:
    instance = RedisFanout(REDIS_URL, client_name=f"gp-test-fanout-{secrets.token_hex(4)}")
    yield instance
    instance.close()


def test_a_message_reaches_its_tenant_and_never_another(fanout: Fanout) -> None:
    a, b = new_tenant_id(), new_tenant_id()
    inbox_a, inbox_b = Inbox(), Inbox()
    fanout.subscribe(a, inbox_a)
    fanout.subscribe(b, inbox_b)
    fanout.publish(a, {"type": "customer.waiting", "id": "cus_1"})
    assert inbox_a.next() == {"type": "customer.waiting", "id": "cus_1"}
    # Messages from one publisher arrive in order, so once B's marker is in, A's
    # message would have been too if it had been misrouted.
    fanout.publish(b, {"marker": True})
    assert inbox_b.next() == {"marker": True}
    assert inbox_b.empty()
    assert inbox_a.empty()


def test_every_subscriber_of_the_tenant_receives_it(fanout: Fanout) -> None:
    tenant = new_tenant_id()
    inboxes = [Inbox(), Inbox(), Inbox()]
    for inbox in inboxes:
        fanout.subscribe(tenant, inbox)
    fanout.publish(tenant, {"n": 1})
    assert [inbox.next() for inbox in inboxes] == [{"n": 1}] * 3


def test_subscribers_get_the_json_view_of_the_message(fanout: Fanout) -> None:
    tenant = new_tenant_id()
    inbox = Inbox()
    fanout.subscribe(tenant, inbox)
    fanout.publish(tenant, {"pair": (1, 2), 3: "three", "text": "Zoë ✓", "none": None})
    assert inbox.next() == {"pair": [1, 2], "3": "three", "text": "Zoë ✓", "none": None}


def test_a_failing_callback_does_not_stop_the_others(fanout: Fanout, caplog: pytest.LogCaptureFixture) -> None:
    tenant = new_tenant_id()
    inbox = Inbox()

    def broken(message: dict[str, Any]) -> None:
        raise RuntimeError("callback bug")

    caplog.set_level(logging.ERROR, logger="guidepath.core.realtime")
    fanout.subscribe(tenant, broken)
    fanout.subscribe(tenant, inbox)
    fanout.publish(tenant, {"n": 1})
    fanout.publish(tenant, {"n": 2})
    assert inbox.next() == {"n": 1}
    assert inbox.next() == {"n": 2}
    assert "callback bug" in caplog.text


def test_a_closed_subscription_receives_nothing(fanout: Fanout) -> None:
    tenant = new_tenant_id()
    gone, staying = Inbox(), Inbox()
    subscription = fanout.subscribe(tenant, gone)
    fanout.subscribe(tenant, staying)
    subscription.close()
    subscription.close()
    fanout.publish(tenant, {"n": 1})
    assert staying.next() == {"n": 1}
    assert gone.empty()


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ([1, 2], TypeError),
        ("text", TypeError),
        (None, TypeError),
        ({"when": object()}, TypeError),
        ({"raw": b"bytes"}, TypeError),
        ({"x": float("nan")}, ValueError),
        ({"big": "x" * MAX_MESSAGE_BYTES}, ValueError),
    ],
)
def test_messages_that_are_not_json_objects_are_refused(fanout: Fanout, message: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="fan-out message"):
        fanout.publish(new_tenant_id(), message)  # type: ignore[arg-type]


def test_tenant_ids_and_callbacks_are_checked(fanout: Fanout) -> None:
    for bad in ("acme", "*", "t0123456789abcdef:x"):
        with pytest.raises(ValueError):
            fanout.publish(bad, {})
        with pytest.raises(ValueError):
            fanout.subscribe(bad, Inbox())
    with pytest.raises(TypeError):
        fanout.subscribe(new_tenant_id(), "not callable")  # type: ignore[arg-type]


def test_close_refuses_further_use(fanout: Fanout) -> None:
    tenant = new_tenant_id()
    assert fanout.ping() is True
    fanout.subscribe(tenant, Inbox())
    assert fanout.ping() is True
    fanout.close()
    assert fanout.ping() is False
    fanout.close()
    with pytest.raises(RuntimeError):
        fanout.publish(tenant, {})
    with pytest.raises(RuntimeError):
        fanout.subscribe(tenant, Inbox())


# ------------------------------------------------------------------ redis only


def listener_threads(fanout: RedisFanout) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"{fanout.client_name}-listener"]


@pytest.mark.redis
def test_one_listener_thread_serves_every_tenant_and_close_stops_it(redis_fanout: RedisFanout) -> None:
    assert not redis_fanout.running  # started by the first subscription
    inboxes = {new_tenant_id(): Inbox() for _ in range(5)}
    for tenant, inbox in inboxes.items():
        redis_fanout.subscribe(tenant, inbox)
    assert redis_fanout.running and redis_fanout.ready
    assert len(listener_threads(redis_fanout)) == 1
    for tenant in inboxes:
        redis_fanout.publish(tenant, {"for": tenant})
    assert {tenant: inbox.next()["for"] for tenant, inbox in inboxes.items()} == {t: t for t in inboxes}

    started = time.monotonic()
    redis_fanout.close()
    assert time.monotonic() - started < redis_fanout.join_timeout
    assert not redis_fanout.running
    assert listener_threads(redis_fanout) == []


@pytest.mark.redis
def test_listener_reconnects_when_redis_drops_it(redis_fanout: RedisFanout) -> None:
    tenant = new_tenant_id()
    inbox = Inbox()
    redis_fanout.subscribe(tenant, inbox)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        ours = [c for c in admin.client_list() if c["name"] == redis_fanout.client_name]
        assert len(ours) == 1
        admin.client_kill_filter(_id=ours[0]["id"])
        deadline = time.monotonic() + WAIT
        received = None
        n = 0
        while received is None and time.monotonic() < deadline:
            n += 1
            redis_fanout.publish(tenant, {"attempt": n})
            try:
                received = inbox.next(timeout=0.2)
            except queue.Empty:
                pass
        assert received is not None, "no message after the connection was killed"
        assert redis_fanout.running
        assert len([c for c in admin.client_list() if c["name"] == redis_fanout.client_name]) == 1
    finally:
        admin.close()


@pytest.mark.redis
def test_junk_on_the_channels_is_dropped(redis_fanout: RedisFanout, caplog: pytest.LogCaptureFixture) -> None:
    tenant = new_tenant_id()
    inbox = Inbox()
    redis_fanout.subscribe(tenant, inbox)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        caplog.set_level(logging.WARNING, logger="guidepath.core.realtime")
        admin.publish(f"gp:{tenant}:fanout", b"not json")
        admin.publish(f"gp:{tenant}:fanout", b"[1, 2]")
        admin.publish(f"gp:{tenant}:extra:fanout", b"{}")
        admin.publish(f"gp:{tenant}:fanout", b'{"ok": 1}')
        assert inbox.next() == {"ok": 1}
        assert inbox.empty()
        assert "not JSON" in caplog.text and "unexpected channel" in caplog.text
    finally:
        admin.close()


CHILD = r"""
import json, queue, sys
from guidepath.core.realtime import RedisFanout

url, tenant = sys.argv[1:3]
fanout = RedisFanout(url, client_name="gp-test-fanout-child")
inbox = queue.Queue()
fanout.subscribe(tenant, inbox.put)
print("READY", flush=True)
message = inbox.get(timeout=15)
print(json.dumps(message), flush=True)
fanout.publish(tenant, {"from": "child", "echo": message["n"]})
fanout.close()
print("STOPPED" if not fanout.running else "STILL RUNNING", flush=True)
"""


def read_lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


@pytest.mark.redis
def test_messages_cross_between_processes(redis_fanout: RedisFanout) -> None:
    tenant, other = new_tenant_id(), new_tenant_id()
    inbox = Inbox()
    redis_fanout.subscribe(tenant, inbox)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, REDIS_URL, tenant],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(child.stdout, lines), daemon=True).start()
    try:
        assert lines.get(timeout=WAIT) == "READY"
        redis_fanout.publish(other, {"n": -1, "secret": "other tenant"})
        redis_fanout.publish(tenant, {"n": 42})
        # The child prints the first message it gets: its tenant's, not the other's.
        assert json.loads(lines.get(timeout=WAIT)) == {"n": 42}
        assert inbox.next() == {"n": 42}  # our own subscription sees it too
        assert inbox.next() == {"from": "child", "echo": 42}  # and the child's reply
        assert lines.get(timeout=WAIT) == "STOPPED"
        assert child.wait(timeout=WAIT) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=WAIT)
        assert child.stderr is not None
        errors = child.stderr.read()
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()
    assert "Traceback" not in errors, errors


def test_an_unreachable_redis_hangs_neither_subscribe_nor_close(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="guidepath.core.realtime")
    tenant = new_tenant_id()
    unreachable = RedisFanout(
        "redis://127.0.0.1:1/0", client_name="gp-test-fanout-unreachable", ready_timeout=0.3, socket_timeout=0.5
    )
    try:
        assert unreachable.ping() is False
        started = time.monotonic()
        unreachable.subscribe(tenant, Inbox())
        assert time.monotonic() - started < 2
        assert unreachable.running and not unreachable.ready
        with pytest.raises(redis.ConnectionError):
            unreachable.publish(tenant, {"n": 1})
    finally:
        started = time.monotonic()
        unreachable.close()
        assert time.monotonic() - started < 2
    assert not unreachable.running
    assert "reconnecting" in caplog.text and "not subscribed" in caplog.text
