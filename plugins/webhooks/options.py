"""What the webhooks plugin keeps per kernel: its delivery options and the
in-process delivery worker to nudge (``kernel.extensions["webhooks"]``).

The options are the documented defaults; ``allow_private`` comes from the kernel's
configuration (``GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE``). Tests shorten the retry
schedule and the other delays by replacing ``state.options`` (never with sleeps
in this code).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .safety import Resolver, system_resolver

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import Kernel

EXTENSION = "webhooks"
_lock = threading.Lock()

#: Seconds to wait before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


@dataclass(frozen=True)
class Options:
    allow_private: bool = False
    schedule: tuple[float, ...] = SCHEDULE
    #: Each retry delay is stretched by up to this fraction, at random.
    jitter: float = 0.1
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 15.0
    #: Read at most this much of a response; keep this much of it in the log.
    body_cap: int = 64 * 1024
    stored_body: int = 2048
    #: Delivery threads per worker, and at most this many at once to one subscription.
    threads: int = 8
    per_endpoint: int = 2
    batch: int = 50
    #: How often the scheduler lists every tenant for due work (new work in this
    #: process is nudged at once; retries come due on their own timer).
    sweep_seconds: float = 15.0
    #: A worker holding a delivery longer than this is presumed dead: another takes it.
    lease_seconds: float = 120.0
    #: A subscription failing without a single success for this long is switched off.
    disable_after_seconds: float = 5 * 86400.0
    retention_seconds: float = 30 * 86400.0
    prune_seconds: float = 3600.0
    #: A Retry-After is honoured up to this long.
    max_retry_after: float = 86400.0
    #: The previous secret stays valid this long after a rotation.
    rotation_grace_seconds: float = 86400.0
    resolver: Resolver = system_resolver


@dataclass
class WebhooksState:
    options: Options
    workers: list[Any] = field(default_factory=list)

    def nudge(self, tenant_id: str) -> None:
        for worker in list(self.workers):
            worker.nudge(tenant_id)


def state_for(kernel: Kernel) -> WebhooksState:
    state = kernel.extensions.get(EXTENSION)
    if state is None:
        with _lock:
            state = kernel.extensions.setdefault(
                EXTENSION, WebhooksState(Options(allow_private=bool(kernel.config.webhooks_allow_private))))
    return state
