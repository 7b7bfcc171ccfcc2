"""Fan-out of a tenant's real-time events to every app node.

An agent's WebSocket is held by one app node, but the event that concerns it
(a customer waiting, a session state change) may happen on any node. Each node
publishes events with :meth:`Fanout.publish` and subscribes the sockets it holds
with :meth:`Fanout.subscribe`; :class:`RedisFanout` carries them between nodes over
Redis pub/sub, :class:`MemoryFanout` within one process (embedded mode).

Delivery is best-effort and at most once, as Redis pub/sub is: a node that is
disconnected from Redis misses what is published meanwhile, so WebSocket clients
must re-read state when they reconnect rather than rely on having seen every event.
Messages are JSON objects; subscribers get a decoded copy (the same for both
implementations) and must treat it as read-only, since all of a tenant's local
subscribers share it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from guidepath.core.cache.keys import TENANT_ID_PATTERN, fanout_channel, validate_tenant_id

logger = logging.getLogger(__name__)

Message = dict[str, Any]
MessageCallback = Callable[[Message], None]

MAX_MESSAGE_BYTES = 1 << 20
"""Largest encoded message. Pub/sub copies every message to every node; events are
notifications (ids and small fields), not payloads: big data goes through the API."""

CHANNEL_PATTERN = "gp:*:fanout"


@runtime_checkable
class Subscription(Protocol):
    """A callback registered for one tenant; ``close()`` stops its deliveries."""

    def close(self) -> None: ...


@runtime_checkable
class Fanout(Protocol):
    """Publishes a tenant's events and delivers them to that tenant's subscribers only."""

    def publish(self, tenant_id: str, message: Message) -> None: ...

    def subscribe(self, tenant_id: str, callback: MessageCallback) -> Subscription: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


def encode_message(message: object) -> bytes:
    """``message`` as compact JSON bytes, or a clear error if it cannot be one.

    Checked at publish time, in the caller's thread, so a bad message fails where it
    was made rather than in some other node's listener.
    """
    if not isinstance(message, dict):
        raise TypeError(f"fan-out messages must be dicts, not {type(message).__name__}")
    try:
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"fan-out message is not JSON-serializable: {exc}") from exc
    payload = text.encode("utf-8")
    if len(payload) > MAX_MESSAGE_BYTES:
        raise ValueError(f"fan-out message is {len(payload)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    return payload


@dataclass(eq=False)
class LocalSubscription:
    """A callback for one tenant, registered in this process."""

    tenant_id: str
    callback: MessageCallback
    _registry: _LocalSubscribers = field(repr=False)
    closed: bool = False

    def close(self) -> None:
        """Stop deliveries to this callback. Idempotent."""
        self.closed = True
        self._registry.remove(self)

    def __enter__(self) -> LocalSubscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _LocalSubscribers:
    """This process's callbacks, by tenant, and the one place that calls them.

    Delivery looks callbacks up by the tenant the message was published for, so a
    message can only reach the callbacks registered for that same tenant.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_tenant: dict[str, list[LocalSubscription]] = {}

    def add(self, tenant_id: str, callback: MessageCallback) -> LocalSubscription:
        if not callable(callback):
            raise TypeError(f"fan-out callback must be callable, not {type(callback).__name__}")
        subscription = LocalSubscription(tenant_id, callback, self)
        with self._lock:
            self._by_tenant.setdefault(tenant_id, []).append(subscription)
        return subscription

    def remove(self, subscription: LocalSubscription) -> None:
        with self._lock:
            subscriptions = self._by_tenant.get(subscription.tenant_id, [])
            if subscription in subscriptions:
                subscriptions.remove(subscription)
            if not subscriptions:
                self._by_tenant.pop(subscription.tenant_id, None)

    def wants(self, tenant_id: str) -> bool:
        with self._lock:
            return tenant_id in self._by_tenant

    def dispatch(self, tenant_id: str, message: Message) -> None:
        """Call each of the tenant's callbacks; one that raises is logged and skipped."""
        with self._lock:
            subscriptions = list(self._by_tenant.get(tenant_id, ()))
        for subscription in subscriptions:
            if subscription.closed:
                continue
            try:
                subscription.callback(message)
            except Exception:
                logger.exception("fan-out callback %r for tenant %s raised", subscription.callback, tenant_id)

    def clear(self) -> None:
        with self._lock:
            subscriptions = [s for subs in self._by_tenant.values() for s in subs]
            self._by_tenant.clear()
        for subscription in subscriptions:
            subscription.closed = True


class MemoryFanout:
    """Fan-out within one process (embedded mode).

    Delivers synchronously in the publisher's thread, after a JSON round trip, so
    subscribers see exactly what :class:`RedisFanout` would give them.
    """

    def __init__(self) -> None:
        self._subscribers = _LocalSubscribers()
        self._closed = False

    def publish(self, tenant_id: str, message: Message) -> None:
        validate_tenant_id(tenant_id)
        payload = encode_message(message)
        if self._closed:
            raise RuntimeError("this fan-out is closed")
        self._subscribers.dispatch(tenant_id, json.loads(payload))

    def subscribe(self, tenant_id: str, callback: MessageCallback) -> LocalSubscription:
        validate_tenant_id(tenant_id)
        if self._closed:
            raise RuntimeError("this fan-out is closed")
        return self._subscribers.add(tenant_id, callback)

    def ping(self) -> bool:
        return not self._closed

    def close(self) -> None:
        self._closed = True
        self._subscribers.clear()


class RedisFanout:
    """Fan-out between processes and hosts through Redis pub/sub.

    Publishing sends JSON to ``gp:{tenant_id}:fanout``. Receiving uses one listener
    thread per instance, whatever the number of tenants and subscriptions: it
    pattern-subscribes to ``gp:*:fanout`` and hands each message to this process's
    callbacks for the tenant named by the channel. Create one instance per process
    (after forking, if the server forks) and share it.

    The listener reconnects with capped, jittered exponential backoff when Redis
    goes away. ``url`` is the platform's connection: a tenant's ACL user could not
    subscribe to every tenant's channel.
    """

    _MIN_BACKOFF = 0.1
    _MAX_BACKOFF = 5.0
    _POLL_SECONDS = 0.25

    def __init__(
        self,
        url: str,
        *,
        client_name: str = "guidepath-fanout",
        ready_timeout: float = 5.0,
        join_timeout: float = 5.0,
        socket_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.client_name = client_name
        self.ready_timeout = ready_timeout
        self.join_timeout = join_timeout
        self.socket_timeout = socket_timeout
        self._publisher = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=30,
        )
        self._subscribers = _LocalSubscribers()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<RedisFanout {self.client_name} running={self.running}>"

    @property
    def running(self) -> bool:
        """Whether the listener thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def ready(self) -> bool:
        """Whether the listener is currently subscribed (messages published now arrive)."""
        return self._ready.is_set()

    def publish(self, tenant_id: str, message: Message) -> None:
        """Send ``message`` to every node's subscribers of ``tenant_id``.

        Raises ``redis.ConnectionError`` if Redis cannot be reached: the caller
        decides whether a lost notification matters.
        """
        channel = fanout_channel(tenant_id)
        payload = encode_message(message)
        if self._closed:
            raise RuntimeError("this fan-out is closed")
        self._publisher.publish(channel, payload)

    def subscribe(self, tenant_id: str, callback: MessageCallback) -> LocalSubscription:
        """Deliver ``tenant_id``'s messages to ``callback`` (on the listener thread).

        Waits up to ``ready_timeout`` for the listener to be subscribed, so that a
        message published after this returns is delivered. If Redis is unreachable it
        returns anyway: the subscription starts receiving once the listener connects.
        Callbacks must be quick; a slow one delays every tenant's messages.
        """
        validate_tenant_id(tenant_id)
        with self._lock:
            if self._closed:
                raise RuntimeError("this fan-out is closed")
            subscription = self._subscribers.add(tenant_id, callback)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen, name=f"{self.client_name}-listener", daemon=True
                )
                self._thread.start()
        if not self._ready.wait(self.ready_timeout):
            logger.warning("fan-out listener not subscribed after %.1fs; will deliver once it is", self.ready_timeout)
        return subscription

    def ping(self) -> bool:
        """Whether messages flow: Redis answers and, once listening, the listener is subscribed.

        For readiness checks; connection failures are logged, not raised.
        """
        if self._closed:
            return False
        try:
            self._publisher.ping()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            logger.warning("fan-out Redis ping failed: %s", exc)
            return False
        return self._thread is None or self._ready.is_set()

    def close(self) -> None:
        """Stop the listener (waiting up to ``join_timeout``) and close connections."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.join_timeout)
            if thread.is_alive():
                logger.warning("fan-out listener did not stop within %.1fs", self.join_timeout)
        self._subscribers.clear()
        self._publisher.close()

    # ------------------------------------------------------------------ listener

    def _listen(self) -> None:
        backoff = self._MIN_BACKOFF
        while not self._stop.is_set():
            # Reconnecting is this loop's job, with backoff; redis-py's own retries
            # would sleep where close() cannot interrupt them.
            client = redis.Redis.from_url(
                self.url,
                client_name=self.client_name,
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
                health_check_interval=10,
                retry=Retry(NoBackoff(), 0),
            )
            pubsub = client.pubsub()
            try:
                pubsub.psubscribe(CHANNEL_PATTERN)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=self._POLL_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._ready.set()
                        if backoff > self._MIN_BACKOFF:
                            logger.info("fan-out listener reconnected to Redis")
                        backoff = self._MIN_BACKOFF
                    elif message["type"] == "pmessage":
                        self._deliver(message["channel"], message["data"])
            except Exception as exc:
                self._ready.clear()
                if self._stop.is_set():
                    break
                delay = backoff * random.uniform(0.5, 1.0)
                if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, OSError)):
                    logger.warning("fan-out listener lost Redis (%s); reconnecting in %.2fs", exc, delay)
                else:
                    logger.exception("fan-out listener failed; restarting in %.2fs", delay)
                self._stop.wait(delay)
                backoff = min(backoff * 2, self._MAX_BACKOFF)
            finally:
                self._ready.clear()
                for closeable in (pubsub, client):
                    try:
                        closeable.close()
                    except Exception:  # closing a dead connection may fail; nothing to do
                        pass

    def _deliver(self, channel: bytes | str, data: bytes | str) -> None:
        """Hand one message to the local callbacks of the tenant its channel names."""
        name = channel.decode("utf-8", "replace") if isinstance(channel, bytes) else channel
        tenant_id = name[len("gp:") : -len(":fanout")]
        # The pattern also matches gp:x:y:fanout; only an exact tenant id routes.
        if not TENANT_ID_PATTERN.fullmatch(tenant_id) or fanout_channel(tenant_id) != name:
            logger.warning("fan-out message on unexpected channel %r dropped", name)
            return
        if not self._subscribers.wants(tenant_id):
            return
        try:
            message = json.loads(data)
        except ValueError:
            logger.warning("fan-out message on %s is not JSON; dropped", name)
            return
        if not isinstance(message, dict):
            logger.warning("fan-out message on %s is not a JSON object; dropped", name)
            return
        self._subscribers.dispatch(tenant_id, message)
