"""Real-time delivery of a tenant's events to its agents' WebSockets on any app node.

:class:`RedisFanout` carries events between app nodes over Redis pub/sub;
:class:`MemoryFanout` does the same inside one process for embedded mode. A message
published for one tenant reaches only that tenant's subscribers.

Imports nothing of guidepath but :mod:`guidepath.core.cache.keys` (the ``gp:{tenant}:``
naming that the Redis ACLs rely on); never Flask, so the relay and workers can use it.
"""

from __future__ import annotations

from .fanout import (
    MAX_MESSAGE_BYTES,
    Fanout,
    LocalSubscription,
    MemoryFanout,
    Message,
    MessageCallback,
    RedisFanout,
    Subscription,
    encode_message,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Fanout",
    "LocalSubscription",
    "MemoryFanout",
    "Message",
    "MessageCallback",
    "RedisFanout",
    "Subscription",
    "encode_message",
]
