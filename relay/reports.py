"""Lifecycle facts the relay reports to the app.

The relay has no database and must not import the app, yet the app wants to
know when a device connected, why a viewer left, and which file holds a
recording, to turn them into tenant events. Relays therefore append small
:class:`Report` records to a queue the app consumes:

* server mode: the Redis stream ``{namespace}:reports`` (see
  :func:`guidepath.relay.registry.namespace_for`; trimmed to about 100,000 entries),
  read by each app plugin through its own consumer group so that each report is
  handled by one app node per plugin and acknowledged after handling
  (unacknowledged reports are delivered again, see :meth:`RedisReports.claim_stale`);
* embedded mode: :class:`InProcessReports`, a thread-safe queue in the process.

Both backends offer the same two sides: ``publish(report)`` for the relay and
``read(count, block_ms) -> [(id, Report)]`` + ``ack(ids)`` for the app.

Report records (``Report.to_dict``; absent fields are omitted)::

    type            device_connected | viewer_connected | device_disconnected
                    | viewer_disconnected | session_ended | recording_saved
                    | recording_failed | device_info
    at              unix seconds (float) when it happened
    relay_id, tenant_id, session_id, kind
    connection_id, role                      connected/disconnected
    code, reason                             disconnected, session_ended (close code)
    resumed                                  device_connected within the grace period
    file_id, size, duration_seconds, file_name   recording_saved
    error                                    recording_failed
    device_info                              device_info (the device's DEVICE_INFO frame, as JSON)

.. versionadded:: 0.1
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import redis

REPORT_TYPES = frozenset(
    {
        "device_connected",
        "viewer_connected",
        "device_disconnected",
        "viewer_disconnected",
        "session_ended",
        "recording_saved",
        "recording_failed",
        "device_info",
    }
)
DEFAULT_STREAM = "gp-relay:reports"
DEFAULT_GROUP = "guidepath-app"
STREAM_MAX_LEN = 100_000


@dataclass(frozen=True)
class Report:
    type: str
    relay_id: str
    tenant_id: str
    session_id: str
    kind: str
    at: float = field(default_factory=time.time)
    connection_id: str | None = None
    role: str | None = None
    code: int | None = None
    reason: str | None = None
    resumed: bool | None = None
    file_id: str | None = None
    file_name: str | None = None
    size: int | None = None
    duration_seconds: float | None = None
    error: str | None = None
    #: device_info: the device's report as it sent it (validated by the protocol's
    #: DeviceInfo rules; the app validates it again before storing it).
    device_info: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.type not in REPORT_TYPES:
            raise ValueError(f"unknown report type {self.type!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Report:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in obj.items() if k in known})


class ReportSink(Protocol):
    def publish(self, report: Report) -> None: ...


class _TenantQueues:
    """Reports in one bounded FIFO per tenant, taken from the tenants in turn: a
    tenant that floods fills (and loses reports from) only its own FIFO. Not
    thread-safe; the callers lock or stay on one event loop."""

    def __init__(self, per_tenant: int, *, coalesce_info: bool = False) -> None:
        self.per_tenant = per_tenant
        self.coalesce_info = coalesce_info
        self._tenants: dict[str, deque[list[Report]]] = {}  #: non-empty FIFOs, in serving order
        #: device_info reports still waiting, per session: a newer one replaces it (latest wins).
        self._waiting_info: dict[tuple[str, str, str], list[Report]] = {}
        self.dropped = 0
        self.coalesced = 0

    def __len__(self) -> int:
        return sum(len(q) for q in self._tenants.values())

    def __bool__(self) -> bool:
        return bool(self._tenants)

    def put(self, report: Report) -> bool:
        """Queue *report*; False (dropped) if its tenant's FIFO is full."""
        key = None
        if self.coalesce_info and report.type == "device_info":
            key = (report.tenant_id, report.session_id, report.kind)
            holder = self._waiting_info.get(key)
            if holder is not None:
                holder[0] = report
                self.coalesced += 1
                return True
        fifo = self._tenants.get(report.tenant_id)
        if fifo is None:
            fifo = self._tenants[report.tenant_id] = deque()
        elif len(fifo) >= self.per_tenant:
            self.dropped += 1
            return False
        holder = [report]
        if key is not None:
            self._waiting_info[key] = holder
        fifo.append(holder)
        return True

    def take(self, count: int) -> list[Report]:
        """Up to *count* reports, one tenant after the other."""
        out: list[Report] = []
        tenants = self._tenants
        while tenants and len(out) < count:
            tenant = next(iter(tenants))
            fifo = tenants.pop(tenant)
            report = fifo.popleft()[0]
            if fifo:
                tenants[tenant] = fifo  # to the back of the line
            if report.type == "device_info":
                self._waiting_info.pop((report.tenant_id, report.session_id, report.kind), None)
            out.append(report)
        return out


class ReportQueue(_TenantQueues):
    """The relay's reports waiting to be published (on its event loop).

    One bounded FIFO per tenant served in turn, and a device's DEVICE_INFO
    coalesced (a newer report of a session replaces one still waiting), so one
    tenant — or one device — can never crowd out another tenant's reports.
    """

    def __init__(self, per_tenant: int = 1000) -> None:
        super().__init__(per_tenant, coalesce_info=True)
        self._ready = asyncio.Event()

    def put(self, report: Report) -> bool:
        queued = super().put(report)
        if queued:
            self._ready.set()
        return queued

    async def take(self, count: int) -> list[Report]:  # type: ignore[override]
        """Wait for reports, then up to *count* of them, the tenants in turn."""
        while not self._tenants:
            self._ready.clear()
            await self._ready.wait()
        return super().take(count)


class InProcessReports:
    """Embedded mode: relay and app share a process; a queue joins them.

    *maxsize* reports wait per tenant (above that the tenant's newest are
    dropped: reports are facts for dashboards, and the relay's event loop never
    blocks on a consumer that stopped reading); ``read`` takes from the tenants
    in turn, so one tenant's flood never delays or drops another's reports.
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        self._queues = _TenantQueues(maxsize)
        self._cond = threading.Condition()
        self._next_id = 0

    def publish(self, report: Report) -> None:
        with self._cond:
            if self._queues.put(report):
                self._cond.notify()

    def read(self, count: int = 100, block_ms: int = 0) -> list[tuple[str, Report]]:
        with self._cond:
            if not self._queues and block_ms:
                self._cond.wait_for(lambda: bool(self._queues), timeout=block_ms / 1000)
            return [self._numbered(report) for report in self._queues.take(count)]

    def ack(self, ids: list[str]) -> None:
        """Nothing to do: an in-process report is gone once read."""

    def _numbered(self, report: Report) -> tuple[str, Report]:
        self._next_id += 1
        return str(self._next_id), report


class RedisReports:
    """Server mode: a Redis stream with a consumer group (one per app)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str = DEFAULT_STREAM,
        group: str = DEFAULT_GROUP,
        consumer: str = "app",
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._group_ready = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisReports:
        import redis as redis_lib

        return cls(redis_lib.Redis.from_url(url), **kwargs)

    def publish(self, report: Report) -> None:
        self.client.xadd(
            self.stream,
            {"report": json.dumps(report.to_dict(), separators=(",", ":"))},
            maxlen=STREAM_MAX_LEN,
            approximate=True,
        )

    def ensure_group(self) -> None:
        """Create the consumer group (from the stream's start) if it is missing."""
        import redis as redis_lib

        if self._group_ready:
            return
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis_lib.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def read(self, count: int = 100, block_ms: int = 0) -> list[tuple[str, Report]]:
        """New reports for this consumer; acknowledge them with :meth:`ack`."""
        self.ensure_group()
        reply = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms or None
        )
        return self._parse(reply[0][1] if reply else [])

    def claim_stale(self, min_idle_ms: int = 60_000, count: int = 100) -> list[tuple[str, Report]]:
        """Take over reports another consumer read but never acknowledged (it died)."""
        self.ensure_group()
        reply = self.client.xautoclaim(self.stream, self.group, self.consumer, min_idle_ms, "0-0", count=count)
        return self._parse(reply[1])

    def ack(self, ids: list[str]) -> None:
        if ids:
            self.client.xack(self.stream, self.group, *ids)

    @staticmethod
    def _parse(entries: list[Any]) -> list[tuple[str, Report]]:
        out = []
        for entry_id, fields in entries:
            if not fields:
                continue  # trimmed away while pending
            raw = fields.get(b"report") or fields.get("report")
            entry = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            out.append((entry, Report.from_dict(json.loads(raw))))
        return out
