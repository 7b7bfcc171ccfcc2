"""The delivery worker: sends due deliveries, stores the outcome, schedules retries.

One scheduler thread and a small pool of delivery threads per worker. The
scheduler keeps, per tenant, when its next delivery comes due (learnt from the
database: nudged at once by ``handle_event`` in this process, and by a sweep over
all tenants every ``sweep_seconds`` for work recorded elsewhere, retries after a
restart and leases of dead workers). It claims due deliveries (see
:mod:`.store`) only as far as there are free threads, and at most
``per_endpoint`` at once for one subscription, oldest due first: a slow or dead
endpoint holds at most ``per_endpoint`` threads and its remaining deliveries wait
in the database, never in front of another endpoint's.

Nothing is held only in memory: a delivery is claimed with a lease, sent, and its
outcome and next due time written in one transaction. A worker that dies between
claim and write leaves the lease to expire; the delivery is sent again (at least
once, with the same ``webhook-id``, which receivers use to de-duplicate).
"""

from __future__ import annotations

import concurrent.futures
import logging
import random
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import DomainError, audit, utcnow

from . import safety, sender, signing, store
from .options import state_for

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import Kernel

log = logging.getLogger("guidepath.webhooks")

NAME = "webhooks"
DISABLED_EVENT = "webhook.subscription_disabled"


class DeliveryWorker:
    def __init__(self, kernel: Kernel, *, name: str = "webhooks") -> None:
        self.kernel = kernel
        self.name = name
        self.state = state_for(kernel)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}          # tenant id -> when its next delivery is due (epoch s)
        self._inflight: Counter[tuple[str, str]] = Counter()  # (tenant, subscription) -> sending now
        self._thread: threading.Thread | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._threads = 0

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self._threads = max(1, self.state.options.threads)
        self._pool = concurrent.futures.ThreadPoolExecutor(self._threads, thread_name_prefix=f"{self.name}-send")
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-scheduler", daemon=True)
        self.state.workers.append(self)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self in self.state.workers:
            self.state.workers.remove(self)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def nudge(self, tenant_id: str) -> None:
        with self._lock:
            self._due[tenant_id] = 0.0
        self._wake.set()

    # -- scheduling ------------------------------------------------------------------

    def _run(self) -> None:
        next_sweep = 0.0
        next_prune = 0.0
        while not self._stop.is_set():
            options = self.state.options
            now = time.time()
            if now >= next_sweep:
                prune = now >= next_prune
                self._sweep(prune=prune)
                next_sweep = time.time() + options.sweep_seconds
                if prune:
                    next_prune = time.time() + options.prune_seconds
            with self._lock:
                ready = sorted((when, t) for t, when in self._due.items() if when <= time.time())
            for _when, tenant_id in ready:
                if self._stop.is_set():
                    return
                try:
                    self._work(tenant_id)
                except Exception:  # noqa: BLE001 - one tenant's trouble must not stop the others
                    log.exception("webhook scheduling failed", extra={"tenant_id": tenant_id})
                    with self._lock:
                        self._due[tenant_id] = time.time() + options.sweep_seconds
            with self._lock:
                soonest = min(self._due.values(), default=next_sweep)
            timeout = max(0.0, min(soonest, next_sweep) - time.time())
            self._wake.wait(timeout)
            self._wake.clear()

    def _sweep(self, *, prune: bool) -> None:
        options = self.state.options
        for tenant in self.kernel.directory.list():
            if self._stop.is_set():
                return
            if not tenant.active:
                continue
            try:
                ctx = self.kernel.context(tenant)
                if not ctx.plugin_enabled(NAME):
                    continue
                if prune:
                    with ctx.begin() as conn:
                        store.prune(conn, utcnow() - timedelta(seconds=options.retention_seconds))
                with ctx.engine.connect() as conn:
                    when = store.next_due(conn)
            except Exception:  # noqa: BLE001 - next sweep
                log.exception("webhook sweep failed", extra={"tenant_id": tenant.id})
                continue
            if when is not None:
                with self._lock:
                    self._due[tenant.id] = min(self._due.get(tenant.id, float("inf")), when.timestamp())

    def _work(self, tenant_id: str) -> None:
        options = self.state.options
        tenant = self.kernel.directory.get(tenant_id)
        if tenant is None or not tenant.active:
            with self._lock:
                self._due.pop(tenant_id, None)
            return
        ctx = self.kernel.context(tenant)
        if not ctx.plugin_enabled(NAME):
            with self._lock:
                self._due.pop(tenant_id, None)
            return
        with self._lock:
            # Consume this tenant's wake-up: one that arrives while we work (a delivery
            # finishing, a nudge) sets it again and is kept at the end, not overwritten.
            self._due.pop(tenant_id, None)
            free = self._threads - sum(self._inflight.values())
            busy = Counter({sub: n for (t, sub), n in self._inflight.items() if t == tenant_id})
        held_back = False
        claimed: list[tuple[str, str, str]] = []
        if free > 0:
            now = utcnow()
            saturated = [sub for sub, n in busy.items() if n >= options.per_endpoint]
            with ctx.begin() as conn:
                for row in store.due(conn, now, min(options.batch, max(free * 4, free)), skip=saturated):
                    if len(claimed) >= free:
                        held_back = True
                        break
                    if busy[row.subscription_id] >= options.per_endpoint:
                        held_back = True
                        continue
                    token = store.claim(conn, row.id, now, options.lease_seconds)
                    if token:
                        busy[row.subscription_id] += 1
                        claimed.append((row.id, row.subscription_id, token))
            held_back = held_back or bool(saturated)
        else:
            held_back = True
        for delivery_id, subscription_id, token in claimed:
            with self._lock:
                self._inflight[(tenant_id, subscription_id)] += 1
            assert self._pool is not None
            self._pool.submit(self._send, tenant_id, delivery_id, subscription_id, token)
        if held_back:
            # A thread finishing wakes the scheduler for this tenant; until then, wait.
            when = time.time() + options.sweep_seconds
        else:
            with ctx.engine.connect() as conn:
                next_time = store.next_due(conn)
            when = next_time.timestamp() if next_time is not None else None
        with self._lock:
            woken = self._due.get(tenant_id)  # set while we worked: the earlier time wins
            times = [t for t in (when, woken) if t is not None]
            if times:
                self._due[tenant_id] = min(times)
            else:
                self._due.pop(tenant_id, None)

    # -- sending ---------------------------------------------------------------------

    def _send(self, tenant_id: str, delivery_id: str, subscription_id: str, token: str) -> None:
        try:
            self._deliver(tenant_id, delivery_id, token)
        except Exception:  # noqa: BLE001 - the lease expires and the delivery is retried
            log.exception("webhook delivery failed", extra={"tenant_id": tenant_id, "delivery_id": delivery_id})
        finally:
            with self._lock:
                key = (tenant_id, subscription_id)
                self._inflight[key] -= 1
                if self._inflight[key] <= 0:
                    del self._inflight[key]
                self._due[tenant_id] = 0.0
            self._wake.set()

    def _deliver(self, tenant_id: str, delivery_id: str, token: str) -> None:
        options = self.state.options
        tenant = self.kernel.directory.get(tenant_id)
        if tenant is None:
            return
        ctx = self.kernel.context(tenant)
        with ctx.engine.connect() as conn:
            delivery, subscription = store.claimed(conn, delivery_id)
        if delivery is None or subscription is None or delivery.lease_token != token:
            return
        started = utcnow()
        body = store.payload_of(delivery)
        try:
            secrets = store.signing_secrets(subscription, tenant_id=tenant.id,
                                            data_key=self.kernel.data_key(tenant), now=started)
            endpoint = safety.parse(subscription.url, allow_private=options.allow_private)
            address = safety.resolve(endpoint, allow_private=options.allow_private, resolver=options.resolver)
        except (DomainError, safety.Refused) as exc:
            message = getattr(exc, "message", None) or str(exc)
            outcome = sender.Outcome(None, 0, "", f"refused: {message}"[:300])
        else:
            headers = signing.headers(secrets, delivery.event_id, int(time.time()), body)
            outcome = sender.post(endpoint, address, body, headers, connect_timeout=options.connect_timeout,
                                  read_timeout=options.read_timeout, total_timeout=options.total_timeout,
                                  body_cap=options.body_cap, keep_body=options.stored_body)
        self._finish(ctx, delivery, subscription, token, outcome, started)

    def _finish(self, ctx: Any, delivery: Any, subscription: Any, token: str, outcome: sender.Outcome,
                started: Any) -> None:
        options = self.state.options
        now = utcnow()
        due_at = None
        position = delivery.schedule_pos
        if outcome.ok:
            status = "succeeded"
        elif outcome.status_code == 410:
            status = "failed"
        else:
            position = delivery.schedule_pos + 1
            if position >= len(options.schedule):
                status = "failed"
            else:
                status = "pending"
                delay = options.schedule[position] * (1 + random.uniform(0, options.jitter))
                if outcome.retry_after is not None:
                    delay = max(delay, min(outcome.retry_after, options.max_retry_after))
                due_at = now + timedelta(seconds=delay)
        with ctx.begin() as conn:
            store.record_attempt(conn, delivery, token, at=started, status_code=outcome.status_code,
                                 latency_ms=outcome.latency_ms, body=outcome.body or None, error=outcome.error,
                                 new_status=status, due_at=due_at, schedule_pos=position)
            since = store.mark_health(conn, subscription.id, ok=outcome.ok, now=now)
            reason = None
            if outcome.status_code == 410:
                reason = "gone"
            elif since is not None and (now - since).total_seconds() >= options.disable_after_seconds:
                reason = "failing"
            if reason and store.disable(conn, subscription.id, reason):
                audit.record(conn, None, "webhook.disabled", subscription.id,
                             {"reason": reason, "url": subscription.url,
                              "last_status_code": outcome.status_code})
                ctx.emit(conn, DISABLED_EVENT, {"subscription_id": subscription.id, "reason": reason})
                log.warning("webhook subscription disabled",
                            extra={"tenant_id": ctx.id, "subscription_id": subscription.id, "reason": reason})
