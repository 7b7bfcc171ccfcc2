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

import json
import queue
import time
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


class InProcessReports:
    """Embedded mode: relay and app share a process; a queue joins them."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._queue: queue.Queue[Report] = queue.Queue(maxsize)
        self._next_id = 0

    def publish(self, report: Report) -> None:
        try:
            self._queue.put_nowait(report)
        except queue.Full:
            # Reports are facts for dashboards, not the session itself: never
            # block the relay's event loop on a consumer that stopped reading.
            pass

    def read(self, count: int = 100, block_ms: int = 0) -> list[tuple[str, Report]]:
        out: list[tuple[str, Report]] = []
        try:
            first = self._queue.get(timeout=block_ms / 1000) if block_ms else self._queue.get_nowait()
        except queue.Empty:
            return out
        out.append(self._numbered(first))
        while len(out) < count:
            try:
                out.append(self._numbered(self._queue.get_nowait()))
            except queue.Empty:
                break
        return out

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
