"""How an app process works with relays: find one, grant tickets, read reports.

The plugins that use the relay (``remote_control``, ``camera_share``,
``diagnostics``) never import each other, yet they must agree on one relay
registry, one in-process relay in embedded mode and one stream of reports. This
module is that common ground; it imports no Flask and no database, like the rest
of :mod:`guidepath.relay`.

One :class:`RelayHosting` exists per kernel (:func:`hosting_for`):

* **server mode** (``GUIDEPATH_REDIS_URL`` set): relays are their own processes
  (``guidepath relay``) registered in Redis; reports come from the Redis stream,
  each plugin reading it through its own consumer group, so every plugin sees
  every report and a report is handled by one app node per plugin;
* **embedded mode**: the first plugin worker that starts also starts a relay in a
  background thread of the app process (:meth:`RelayHosting.acquire_local_relay`),
  the last one to stop stops it; reports are copied to each plugin's queue.

Plugins' workers read reports with :class:`ReportConsumer`::

    hosting = hosting_for(kernel)
    worker = ReportConsumer(hosting.reports_for("remote_control"), handle, name="remote_control")
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from guidepath.core.domain.errors import Unavailable
from guidepath.core.events import EventType

from .registry import InProcessRegistry, RedisRegistry, RelayInfo, RelayRegistry, namespace_for
from .reports import InProcessReports, RedisReports, Report
from .server import RelayServer, RelaySettings, RunningRelay
from .tickets import RecordingGrant, TicketLimits, issue_ticket, ticket_secret

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.config import Config
    from guidepath.core.crypto import MasterKey
    from guidepath.core.files import FileStore

log = logging.getLogger("guidepath.relay.hosting")

SESSION_RELAY_TTL_SECONDS = 12 * 3600
"""How long a session keeps its relay after its last ticket (a long session gets new
tickets on every reconnect, which renews it)."""


class NoRelayAvailable(RuntimeError):
    """No live relay is registered (none started, or all full)."""


class BroadcastReports:
    """Embedded mode: the local relay's reports, copied to every subscriber's queue."""

    def __init__(self) -> None:
        self._queues: dict[str, InProcessReports] = {}
        self._lock = threading.Lock()

    def subscribe(self, name: str) -> InProcessReports:
        with self._lock:
            return self._queues.setdefault(name, InProcessReports())

    def publish(self, report: Report) -> None:
        with self._lock:
            queues = list(self._queues.values())
        for queue in queues:
            queue.publish(report)


class RelayHosting:
    """The relays as one app process sees them (see the module docstring)."""

    def __init__(self, *, master_key: MasterKey, redis_url: str | None, file_store: FileStore,
                 local_host: str = "127.0.0.1") -> None:
        self.master_key = master_key
        self.secret = ticket_secret(master_key)
        self.redis_url = redis_url
        self.file_store = file_store
        self.local_host = local_host
        self._lock = threading.Lock()
        self._local: RunningRelay | None = None
        self._local_users = 0
        self.namespace = namespace_for(master_key)
        if redis_url:
            self.registry: RelayRegistry = RedisRegistry.from_url(redis_url, prefix=self.namespace)
            self._broadcast: BroadcastReports | None = None
        else:
            self.registry = InProcessRegistry()
            self._broadcast = BroadcastReports()

    @property
    def embedded(self) -> bool:
        return self.redis_url is None

    # -- the in-process relay (embedded mode) -------------------------------------

    def acquire_local_relay(self) -> RunningRelay | None:
        """Start the in-process relay if this is embedded mode and it is not running.

        Reference-counted: each plugin worker that needs it acquires it on start
        and releases it on stop. In server mode relays are separate processes and
        this returns None.
        """
        if not self.embedded:
            return None
        with self._lock:
            if self._local is None:
                settings = RelaySettings(
                    relay_id=f"local-{socket.gethostname()}-{os.getpid()}",
                    ticket_secret=self.secret,
                    host=self.local_host,
                    tcp_port=0,
                    ws_port=0,
                    master_key=self.master_key,
                    file_store=self.file_store,
                    reports=self._broadcast,
                    registry=self.registry,
                )
                self._local = RelayServer(settings).start_in_thread()
                log.info("in-process relay started", extra={"relay_id": settings.relay_id,
                                                            "tcp": self._local.tcp_address,
                                                            "ws": self._local.ws_url})
            self._local_users += 1
            return self._local

    def release_local_relay(self) -> None:
        with self._lock:
            if self._local is None:
                return
            self._local_users -= 1
            if self._local_users > 0:
                return
            local, self._local = self._local, None
        local.stop()

    # -- reports ------------------------------------------------------------------

    def reports_for(self, consumer: str) -> Any:
        """A report source for one plugin: every report reaches every plugin.

        Server mode: the Redis stream through the consumer group
        ``guidepath-{consumer}`` (one member per app process). Embedded: a queue
        of the in-process relay's reports.
        """
        if self._broadcast is not None:
            return self._broadcast.subscribe(consumer)
        return RedisReports.from_url(self.redis_url, stream=f"{self.namespace}:reports",
                                     group=f"guidepath-{consumer}",
                                     consumer=f"{socket.gethostname()}-{os.getpid()}")

    # -- tickets ------------------------------------------------------------------

    def choose(self, prefer: str | None = None) -> RelayInfo | None:
        """``prefer`` if that relay is still alive and has room, else the least loaded."""
        if prefer is not None:
            for relay in self.registry.live():
                if relay.relay_id == prefer and relay.load < relay.capacity:
                    return relay
        return self.registry.choose()

    def grant(self, *, tenant_id: str, session_id: str, kind: str, role: str,
              limits: TicketLimits | None = None, wrapped_data_key: bytes | None = None,
              ttl_seconds: int = 60, prefer: str | None = None) -> dict[str, Any]:
        """Choose a relay and issue a ticket: the API's response body.

        ``prefer`` names the relay the session already uses: a device and its
        viewers meet only on the same relay. ``wrapped_data_key`` (the tenant's, as
        stored in the directory) asks the relay to record the session; only device
        tickets carry it.
        """
        relay = self.choose(prefer)
        if relay is None:
            raise NoRelayAvailable("no relay is running; start one with `guidepath relay`")
        recording = None
        if wrapped_data_key is not None and role == "device":
            recording = RecordingGrant(wrapped_data_key, file_name=recording_name(kind, session_id))
        ticket, token = issue_ticket(
            self.secret, relay_id=relay.relay_id, tenant_id=tenant_id, session_id=session_id,
            kind=kind, role=role, limits=limits, recording=recording, ttl_seconds=ttl_seconds,
        )
        return {
            "relay": _addresses(relay),
            "ticket": token,
            # base64url without padding, as docs/relay-protocol.md and `guidepath device --key` expect
            "key": base64.urlsafe_b64encode(ticket.key).rstrip(b"=").decode("ascii"),
            "connection_id": ticket.connection_id,
            "kind": kind,
            "role": role,
            "expires_at": ticket.expires_at,
            "recording": recording is not None,
            "limits": {"max_fps": ticket.limits.max_fps, "max_width": ticket.limits.max_width,
                       "max_height": ticket.limits.max_height},
        }

    def grant_with_settings(self, tenant: Any, session_id: str, kind: str, role: str,
                            settings: dict[str, Any], prefer: str | None = None) -> dict[str, Any]:
        """:meth:`grant` with a relay plugin's per-tenant settings (see
        :func:`settings_schema`): limits, recording, ticket lifetime."""
        limits = TicketLimits(max_fps=settings["max_fps"], max_width=settings["max_width"],
                              max_height=settings["max_height"])
        wrapped = tenant.wrapped_key if settings["recording"] and role == "device" else None
        return self.grant(tenant_id=tenant.id, session_id=session_id, kind=kind, role=role, limits=limits,
                          wrapped_data_key=wrapped, ttl_seconds=settings["ticket_ttl_seconds"], prefer=prefer)

    def close(self) -> None:
        with self._lock:
            local, self._local, self._local_users = self._local, None, 0
        if local is not None:
            local.stop()


def recording_name(kind: str, session_id: str) -> str:
    """The file name a session's recordings get in the tenant's file store."""
    return f"{kind}-{session_id}.gprec"


def settings_schema(*, what: str, max_fps: int, max_width: int, max_height: int) -> dict[str, Any]:
    """The per-tenant settings of a relay plugin, with that plugin's defaults."""
    return {
        "type": "object",
        "properties": {
            "recording": {"type": "boolean", "default": False,
                          "description": f"Record every {what} session, encrypted, in the account's files."},
            "max_fps": {"type": "integer", "minimum": 1, "maximum": 60, "default": max_fps,
                        "description": "Most frames per second a device may send."},
            "max_width": {"type": "integer", "minimum": 160, "maximum": 7680, "default": max_width,
                          "description": "Widest frame in pixels."},
            "max_height": {"type": "integer", "minimum": 120, "maximum": 4320, "default": max_height,
                           "description": "Tallest frame in pixels."},
            "ticket_ttl_seconds": {"type": "integer", "minimum": 10, "maximum": 600, "default": 60,
                                   "description": "How long a ticket may wait before it is used."},
        },
        "additionalProperties": False,
    }


def _addresses(relay: RelayInfo) -> dict[str, str]:
    return {"id": relay.relay_id, "tcp": relay.tcp_address, "ws": relay.ws_url}


# -- what a relay plugin does (remote_control, camera_share) -------------------------


def grant_for_plugin(plugin_name: str, tenant: Any, session: dict[str, Any], kind: str, role: str,
                     ctx: Any) -> dict[str, Any]:
    """The ``issue_relay_ticket`` answer of a relay plugin, with its tenant settings.

    No live relay is a 503 the caller may retry, not a plugin failure.
    """
    settings = ctx.settings(plugin_name)
    # The session's relay is remembered in the tenant's cache (shared by all app
    # nodes), so every ticket of the session (device, viewers, a reconnecting
    # device) names the same relay while it lives.
    sticky = f"relay:{kind}:{session['id']}"
    remembered = ctx.cache.get(sticky)
    try:
        grant = hosting_for(ctx.kernel).grant_with_settings(
            tenant, session["id"], kind, role, settings, prefer=remembered.decode() if remembered else None)
    except NoRelayAvailable as exc:
        raise Unavailable(f"{exc}; try again in a moment") from None
    ctx.cache.set(sticky, grant["relay"]["id"].encode(), ttl=SESSION_RELAY_TTL_SECONDS)
    return grant


def report_workers(kernel: Any, plugin_name: str, kind: str) -> list[ReportConsumer]:
    """A relay plugin's ``register_workers`` answer: a consumer turning ``kind``'s
    reports into events, holding the in-process relay while it runs (embedded)."""
    hosting = hosting_for(kernel)
    return [ReportConsumer(hosting.reports_for(plugin_name), emit_report_events(kernel, kind), name=plugin_name,
                           on_start=hosting.acquire_local_relay, on_stop=hosting.release_local_relay)]


# -- reports as tenant events ----------------------------------------------------------

_ID = {"type": "string", "maxLength": 64}
_CONNECTION = {
    "session_id": _ID, "kind": {"enum": ["remote_control", "camera"]}, "role": {"enum": ["device", "viewer"]},
    "connection_id": _ID, "relay_id": {"type": "string", "maxLength": 200},
}

#: The events the relay plugins emit, as ``{name: (schema, description)}``. Each plugin
#: declares them (identical declarations are one event type) and emits them for its
#: own kind, so either works without the other.
EVENT_SCHEMAS: dict[str, tuple[dict[str, Any], str]] = {
    "relay.connected": ({
        "type": "object",
        "properties": {**_CONNECTION, "resumed": {"type": "boolean"}},
        "required": ["session_id", "kind", "role", "connection_id", "relay_id", "resumed"],
        "additionalProperties": False,
    }, "A device or a viewer joined a session on the relay (resumed: a device came back within "
       "the grace period)."),
    "relay.disconnected": ({
        "type": "object",
        "properties": {**_CONNECTION, "code": {"type": ["integer", "null"]},
                       "reason": {"type": ["string", "null"], "maxLength": 500}},
        "required": ["session_id", "kind", "role", "connection_id", "relay_id", "code", "reason"],
        "additionalProperties": False,
    }, "A device or a viewer left the relay, with the close code and reason "
       "(docs/relay-protocol.md)."),
    "recording.saved": ({
        "type": "object",
        "properties": {"session_id": _ID, "kind": _CONNECTION["kind"], "relay_id": _CONNECTION["relay_id"],
                       "file_id": _ID, "size": {"type": "integer", "minimum": 0},
                       "duration_seconds": {"type": "number", "minimum": 0}},
        "required": ["session_id", "kind", "relay_id", "file_id", "size", "duration_seconds"],
        "additionalProperties": False,
    }, "A session's recording was written, encrypted, to the tenant's file store."),
}

_CONNECTED = {"device_connected": "device", "viewer_connected": "viewer"}
_DISCONNECTED = {"device_disconnected": "device", "viewer_disconnected": "viewer"}


def report_event(report: Report) -> tuple[str, dict[str, Any]] | None:
    """The tenant event a relay report stands for, or None (nothing to tell)."""
    base = {"session_id": report.session_id, "kind": report.kind, "relay_id": report.relay_id}
    if report.type in _CONNECTED:
        return "relay.connected", {**base, "role": _CONNECTED[report.type],
                                   "connection_id": report.connection_id or "", "resumed": bool(report.resumed)}
    if report.type in _DISCONNECTED:
        return "relay.disconnected", {**base, "role": _DISCONNECTED[report.type],
                                      "connection_id": report.connection_id or "", "code": report.code,
                                      "reason": (report.reason or "")[:500] or None}
    if report.type == "recording_saved" and report.file_id:
        return "recording.saved", {**base, "file_id": report.file_id, "size": report.size or 0,
                                   "duration_seconds": report.duration_seconds or 0.0}
    return None


def event_types() -> list[EventType]:
    """The relay events as :class:`EventType` records, for ``register_event_types``."""
    return [EventType(name, schema, description=description) for name, (schema, description) in EVENT_SCHEMAS.items()]


def emit_report_events(kernel: Any, kind: str) -> Callable[[Report], None]:
    """A report handler emitting, in the report's tenant, the events of ``kind``'s reports.

    Reports of deleted or unknown tenants are dropped (the tenant's events went
    with it); reports of other kinds belong to another plugin.
    """

    def handle(report: Report) -> None:
        if report.kind != kind:
            return
        translated = report_event(report)
        if translated is None:
            return
        tenant = kernel.directory.get(report.tenant_id)
        if tenant is None or not tenant.active:
            log.info("relay report for a tenant that is gone", extra={"tenant_id": report.tenant_id})
            return
        ctx = kernel.context(tenant)
        with ctx.begin() as conn:
            ctx.emit(conn, *translated)

    return handle


class ReportConsumer:
    """A plugin's worker: reads reports and hands each to ``handle``.

    A report whose handling raises is logged and, in server mode, left
    unacknowledged: the consumer claims it again after ``retry_after_ms`` (the same
    happens to reports of an app process that died mid-way). Has the kernel's
    worker interface (``start()``/``stop()``, see the ``register_workers`` hook).
    """

    def __init__(self, source: Any, handle: Callable[[Report], None], *, name: str,
                 on_start: Callable[[], Any] | None = None, on_stop: Callable[[], Any] | None = None,
                 block_ms: int = 500, retry_after_ms: int = 30_000) -> None:
        self.source, self.handle, self.name = source, handle, name
        self.on_start, self.on_stop = on_start, on_stop
        self.block_ms, self.retry_after_ms = block_ms, retry_after_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<ReportConsumer {self.name}>"

    def start(self) -> None:
        if self.on_start is not None:
            self.on_start()
        self._thread = threading.Thread(target=self._run, name=f"relay-reports-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.block_ms / 1000 + 10)
        if self.on_stop is not None:
            self.on_stop()

    def _run(self) -> None:
        claim = getattr(self.source, "claim_stale", None)
        backoff = 0.5
        while not self._stop.is_set():
            try:
                batch = self.source.read(count=100, block_ms=self.block_ms)
                if not batch and claim is not None:
                    batch = claim(min_idle_ms=self.retry_after_ms, count=100)
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - Redis away: wait and retry
                log.warning("cannot read relay reports (%s); retrying in %.1fs", exc, backoff,
                            extra={"consumer": self.name})
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            done = []
            for report_id, report in batch:
                try:
                    self.handle(report)
                except Exception:  # noqa: BLE001 - one bad report must not stop the others
                    log.exception("relay report not handled; it will be retried",
                                  extra={"consumer": self.name, "report": report.type,
                                         "tenant_id": report.tenant_id})
                    continue
                done.append(report_id)
            if done:
                try:
                    self.source.ack(done)
                except Exception as exc:  # noqa: BLE001 - they come back and are handled again
                    log.warning("cannot acknowledge relay reports (%s)", exc, extra={"consumer": self.name})


_hosting_lock = threading.Lock()
EXTENSION = "guidepath.relay"


def hosting_for(kernel: Any) -> RelayHosting:
    """The kernel's :class:`RelayHosting`, made on first use.

    Kept in ``kernel.extensions``: two apps in one process, as in tests, each have
    their own relays and reports, and the hosting goes with its kernel.
    """
    hosting = kernel.extensions.get(EXTENSION)
    if hosting is None:
        with _hosting_lock:
            hosting = kernel.extensions.get(EXTENSION)
            if hosting is None:
                config: Config = kernel.config
                hosting = RelayHosting(master_key=kernel.master_key, redis_url=config.redis_url,
                                       file_store=kernel.files)
                kernel.extensions[EXTENSION] = hosting
    return hosting
