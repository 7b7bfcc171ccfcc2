"""Moving committed outbox rows to the bus.

:class:`OutboxPublisher` drains one tenant's outbox one batch at a time: it reads
the oldest pending rows (locked, so concurrent publishers take disjoint rows),
publishes them in one ``publish_many`` call, and marks them published in the same
transaction only after the bus acknowledged all of them. If the bus is down nothing
is marked — the rows only count the failed attempt — and the events wait.

:class:`PublisherLoop` runs that in a background thread over a set of tenants, with
exponential backoff while the bus is down so a dead broker is not hammered.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Callable, Iterable, Union

from sqlalchemy import Connection, Engine

from ..domain.ids import TENANT_ID
from . import outbox
from .bus import Bus, Message
from .envelope import Event
from .errors import BusUnavailable, EnvelopeError, TenantMismatch
from .topics import check_tenant_id, topic_for

log = logging.getLogger("guidepath.events")

#: Where a tenant's outbox is: an Engine, or a callable returning a *connection*
#: context manager (like ``Engine.connect``; not one that already began a transaction).
ConnectionSource = Union[Engine, Callable[[], AbstractContextManager[Connection]]]

# Our own serialiser writes id first and tenant_id second (envelope.Event.to_dict), and
# an event id cannot contain a quote, so this anchored match reads the envelope's
# tenant without parsing the whole payload.
_CANONICAL_HEAD = re.compile(r'\{"id":"evt_[A-Za-z0-9_-]{16,64}","tenant_id":"(' + TENANT_ID.pattern + ')"')


@dataclass(frozen=True)
class DrainResult:
    """What one :meth:`OutboxPublisher.drain_batch` did."""

    published: int
    #: Rows that stayed pending because the bus refused the batch.
    failed: int = 0
    #: Why the bus refused it (``None`` if it did not).
    error: str | None = None

    @property
    def bus_unavailable(self) -> bool:
        return self.error is not None


def _connect(source: ConnectionSource) -> AbstractContextManager[Connection]:
    if isinstance(source, Engine):
        return source.connect()
    return source()


def _payload_tenant(payload: str) -> str:
    match = _CANONICAL_HEAD.match(payload)
    if match is not None:
        return match.group(1)
    return Event.from_json(payload).tenant_id  # not written by our serialiser: parse fully


class OutboxPublisher:
    """Publishes tenants' outbox rows to a :class:`~guidepath.core.events.bus.Bus`."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def drain(self, source: ConnectionSource, tenant_id: str, batch_size: int = 500) -> int:
        """Publish up to ``batch_size`` pending events of ``tenant_id``; how many went out.

        Returns 0 when nothing is pending *and* when the bus is unavailable (the
        events then stay pending, with ``attempts`` and ``last_error`` updated);
        use :meth:`drain_batch` to tell the two apart.
        """
        return self.drain_batch(source, tenant_id, batch_size).published

    def drain_batch(self, source: ConnectionSource, tenant_id: str, batch_size: int = 500) -> DrainResult:
        """One batch, in one transaction: read, publish, mark (see the module doc).

        Raises :class:`TenantMismatch` (and publishes nothing) if a row holds an
        event of another tenant: the source and the tenant id were paired wrongly.
        """
        check_tenant_id(tenant_id)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        topics: dict[str, str] = {}
        with _connect(source) as conn, conn.begin():
            rows = outbox.pending(conn, batch_size, lock=True)
            if not rows:
                return DrainResult(0)
            messages: list[Message] = []
            for row in rows:
                try:
                    row_tenant = _payload_tenant(row.payload)
                except EnvelopeError as exc:
                    raise TenantMismatch(f"outbox row {row.seq} ({row.id}) is not a valid event: {exc}") from exc
                if row_tenant != tenant_id:
                    raise TenantMismatch(
                        f"outbox row {row.seq} ({row.id}) belongs to tenant {row_tenant}, "
                        f"not to {tenant_id}: refusing to publish it into {tenant_id}'s topics"
                    )
                topic = topics.get(row.stream)
                if topic is None:
                    topic = topics[row.stream] = topic_for(tenant_id, row.stream)
                messages.append((topic, row.id.encode("ascii"), row.payload.encode("utf-8")))
            seqs = [row.seq for row in rows]
            try:
                self.bus.publish_many(messages)
            except BusUnavailable as exc:
                outbox.record_failure(conn, seqs, str(exc))
                log.warning("bus unavailable; %d events of %s stay in the outbox: %s", len(rows), tenant_id, exc,
                            extra={"tenant_id": tenant_id})
                return DrainResult(0, failed=len(rows), error=str(exc))
            outbox.mark_published(conn, seqs)
        return DrainResult(len(rows))


#: Returns the tenants to drain, as ``(tenant_id, engine or connection factory)`` pairs.
TenantSource = Callable[[], Iterable[tuple[str, ConnectionSource]]]


class PublisherLoop:
    """A background thread draining every tenant's outbox, with backoff while the bus is down.

    Each round visits every tenant and drains up to ``max_batches_per_round``
    batches of it (so one busy tenant cannot starve the others), then sleeps
    ``interval_ms`` — or until :meth:`wake` is called after a commit that emitted
    events. When the bus refuses a batch the round stops at once (the broker is
    down for everybody) and the sleep doubles up to ``max_backoff_ms``.
    """

    def __init__(
        self,
        bus: Bus,
        tenants: TenantSource,
        *,
        interval_ms: int = 200,
        max_backoff_ms: int = 10_000,
        batch_size: int = 500,
        max_batches_per_round: int = 20,
        name: str = "guidepath-outbox-publisher",
    ) -> None:
        self.publisher = OutboxPublisher(bus)
        self.tenants = tenants
        self.interval_ms = interval_ms
        self.max_backoff_ms = max_backoff_ms
        self.batch_size = batch_size
        self.max_batches_per_round = max_batches_per_round
        self._name = name
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.delay_ms = interval_ms  # current sleep between rounds (grows during outages)

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> PublisherLoop:
        if self._thread is not None:
            raise RuntimeError("publisher loop already started")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand and stop; returns when the thread has ended."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("outbox publisher did not stop within %.1fs", timeout)

    def wake(self) -> None:
        """Drain now instead of after the current sleep (call after emitting events)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> PublisherLoop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- work --------------------------------------------------------------------

    def run_once(self) -> tuple[int, bool]:
        """One round over all tenants: ``(events published, bus was unavailable)``."""
        published = 0
        try:
            tenants = list(self.tenants())
        except Exception:  # noqa: BLE001 - e.g. the global database is briefly down
            log.exception("cannot list tenants to drain")
            return 0, False
        for tenant_id, source in tenants:
            for _ in range(self.max_batches_per_round):
                if self._stop.is_set():
                    return published, False
                try:
                    result = self.publisher.drain_batch(source, tenant_id, self.batch_size)
                except Exception:  # noqa: BLE001 - one tenant's database must not stop the others
                    log.exception("draining the outbox of %s failed", tenant_id, extra={"tenant_id": tenant_id})
                    break
                published += result.published
                if result.bus_unavailable:
                    return published, True
                if result.published < self.batch_size:
                    break
        return published, False

    def _run(self) -> None:
        while not self._stop.is_set():
            _published, bus_down = self.run_once()
            if bus_down:
                # Back off; wake() is ignored meanwhile, or every commit would hit the dead broker.
                self.delay_ms = min(max(self.delay_ms * 2, self.interval_ms), self.max_backoff_ms)
                self._stop.wait(self.delay_ms / 1000)
            else:
                self.delay_ms = self.interval_ms
                self._wake.wait(self.delay_ms / 1000)
            self._wake.clear()
