"""The kernel's background event workers.

* The **publisher** drains tenants' outboxes to the bus. A transaction that emitted
  events nudges it with the tenant id, so events leave within milliseconds; a
  tenant whose drain failed (broker down) is retried every second until it drains.
  A slow sweep over all tenants (every five minutes, and at start) catches what a
  crash between commit and nudge left behind. It is slow on purpose: with 1,000
  tenants one sweep took 48 s (``make bench-tenancy``) and opens a pool per tenant.
* The **dispatcher** consumes every tenant's topics in one consumer group and, for
  each event, writes it to its session's timeline when its data names a
  ``session_id`` (idempotent by event id), fans it out to the tenant's agents'
  WebSockets on every app node and calls ``handle_event`` on the plugins enabled
  for that tenant.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING

from ..domain.ids import TENANT_ID
from .dedupe import SeenIds
from .envelope import Event
from .publisher import OutboxPublisher

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import Kernel

log = logging.getLogger("guidepath.events")

ALL_TENANTS_PATTERN = rf"^gp\.{TENANT_ID.pattern}\..*"
DISPATCH_GROUP = "guidepath-dispatch"


class EventWorkers:
    def __init__(self, kernel: Kernel, *, sweep_interval: float = 300.0, retry_interval: float = 1.0) -> None:
        self.kernel = kernel
        self.sweep_interval = sweep_interval
        self.retry_interval = retry_interval
        self._publisher = OutboxPublisher(kernel.bus)
        self._nudges: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run_publisher, name="guidepath-outbox", daemon=True)
        self._subscription = None
        self._fanned_out = SeenIds(10_000)

    def start(self) -> None:
        self._thread.start()
        self._subscription = self.kernel.bus.subscribe(ALL_TENANTS_PATTERN, DISPATCH_GROUP, self._dispatch)

    def stop(self) -> None:
        self._stop.set()
        self._nudges.put("")
        self._thread.join(timeout=10)
        if self._subscription is not None:
            self._subscription.close()

    def nudge(self, tenant_id: str) -> None:
        self._nudges.put(tenant_id)

    # -- publisher --------------------------------------------------------------

    def _drain(self, tenant_id: str) -> bool:
        """True if the tenant's outbox is empty afterwards (as far as we know)."""
        tenant = self.kernel.directory.get(tenant_id)
        if tenant is None or not tenant.active:
            return True  # deleted or suspended: nothing to publish for it now
        try:
            engine = self.kernel.tenant_engine(tenant_id)
            while True:
                published = self._publisher.drain(engine, tenant_id)
                if published == 0:
                    break
            with engine.connect() as conn:
                from .outbox import pending

                return not pending(conn, 1)
        except Exception:  # noqa: BLE001 - keep the worker alive; retried later
            log.exception("outbox drain failed", extra={"tenant_id": tenant_id})
            return False

    def _run_publisher(self) -> None:
        retry: set[str] = set()
        next_sweep = time.monotonic()  # sweep once at start: a crash may have left events
        while not self._stop.is_set():
            timeout = self.retry_interval if retry else max(0.0, next_sweep - time.monotonic())
            try:
                tenant_id = self._nudges.get(timeout=timeout)
                batch = {tenant_id} if tenant_id else set()
            except queue.Empty:
                batch = set()
            while True:  # coalesce a burst of nudges
                try:
                    batch.add(self._nudges.get_nowait())
                except queue.Empty:
                    break
            batch.discard("")
            if self._stop.is_set():
                return
            batch |= retry
            retry = set()
            if time.monotonic() >= next_sweep:
                batch |= {t.id for t in self.kernel.directory.list() if t.active}
                next_sweep = time.monotonic() + self.sweep_interval
            for tenant_id in batch:
                if not self._drain(tenant_id):
                    retry.add(tenant_id)

    # -- dispatcher -------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        tenant = self.kernel.directory.get(event.tenant_id)
        if tenant is None or not tenant.active:
            return
        ctx = self.kernel.context(tenant)
        timeline_error = self._record_timeline(ctx, event)
        # Agents see the event at once, and only once even when a failing plugin
        # makes the bus deliver it again.
        if self._fanned_out.first_time(event.id):
            self.kernel.fanout.publish(tenant.id, {"type": "event", "event": event.to_dict()})
        ctx.hooks.handle_event(tenant, event, ctx)
        if timeline_error is not None:
            # Redelivered later (plugins see it again, as at-least-once allows); the
            # timeline's insert ignores what it already has.
            raise timeline_error

    def _record_timeline(self, ctx, event: Event) -> Exception | None:
        from ..domain import timeline  # the domain loads lazily: events stay a low-level package

        if timeline.session_of(event.data) is None:
            return None
        try:
            with ctx.engine.begin() as conn:
                timeline.record(conn, event)
        except Exception as exc:  # noqa: BLE001 - plugins and agents still get the event
            log.exception("timeline write failed", extra={"tenant_id": event.tenant_id, "event_id": event.id})
            return exc
        return None
