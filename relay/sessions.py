"""Pairing and routing: which connections share a session, and who gets what.

A session is identified by ``(tenant_id, session_id, kind)`` taken from the
sealed tickets, so connections meet only when the app issued tickets for the
same tenant's session. One device and any number of viewers share a session.
The device's pictures go to every viewer (latest frame only when a viewer lags);
viewers' input and clipboard go to the device.

When the device drops without saying goodbye the session waits ``grace_seconds``
for it to come back with a fresh ticket; viewers stay connected and are told
``reconnecting``. A device that sends CLOSE ends the session at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .connection import ClientConnection
from .limits import DropLog
from .protocol import CloseCode, FrameType, ProtocolError, encode_peer_status
from .protocol.messages import IMAGE_HEADER
from .recording import SOURCE_DEVICE, SOURCE_VIEWER, RecordingWriter

log = logging.getLogger("guidepath.relay")

REFRESH_INTERVAL_SECONDS = 0.5
#: One log line per interval however many viewers' events are dropped (a counter in it).
_input_drops = DropLog(log, "a viewer's input lane to the device is full; events dropped")
_MEDIA = (FrameType.SCREEN, FrameType.CAMERA)

ReportFn = Callable[..., None]
RecorderFactory = Callable[[ClientConnection], "RecordingWriter | None"]


@dataclass(eq=False)
class Session:
    key: tuple[str, str, str]
    device: ClientConnection | None = None
    viewers: set[ClientConnection] = field(default_factory=set)
    device_info: bytes | None = None
    #: The last full image per media type, so a viewer that joins sees a picture at once.
    keyframes: dict[FrameType, bytes] = field(default_factory=dict)
    grace: asyncio.TimerHandle | None = None
    recorder: RecordingWriter | None = None
    last_refresh: float = -1e9
    ever_had_device: bool = False

    @property
    def device_state(self) -> str:
        if self.device is not None:
            return "connected"
        if self.grace is not None:
            return "reconnecting"
        return "gone" if self.ever_had_device else "waiting"


class Hub:
    """Every live session of this relay, and the rules for joining and leaving."""

    def __init__(
        self,
        *,
        grace_seconds: float,
        report: ReportFn,
        start_recording: RecorderFactory,
        finish_recording: Callable[[Session, RecordingWriter], None],
    ) -> None:
        self.grace_seconds = grace_seconds
        self.sessions: dict[tuple[str, str, str], Session] = {}
        self._report = report
        self._start_recording = start_recording
        self._finish_recording = finish_recording

    @property
    def connection_count(self) -> int:
        return sum(len(s.viewers) + (s.device is not None) for s in self.sessions.values())

    # -- joining and leaving ---------------------------------------------------------

    def attach(self, conn: ClientConnection) -> bool:
        """Add *conn* to its session; True if a device resumes within the grace period."""
        session = self.sessions.get(conn.ticket.pairing_key)
        if session is None:
            session = self.sessions[conn.ticket.pairing_key] = Session(conn.ticket.pairing_key)
        if conn.role == "device":
            return self._attach_device(session, conn)
        session.viewers.add(conn)
        conn.send(FrameType.PEER_STATUS, encode_peer_status(session.device_state))
        if session.device_info is not None:
            conn.send_latest(FrameType.DEVICE_INFO, session.device_info)
        for frame_type, payload in session.keyframes.items():
            conn.offer_media(frame_type, payload)
        self._request_refresh(session, force=True)
        return False

    def _attach_device(self, session: Session, conn: ClientConnection) -> bool:
        resumed = session.grace is not None
        if session.grace is not None:
            session.grace.cancel()
            session.grace = None
        old = session.device
        if old is not None:
            old.close(CloseCode.REPLACED, "a newer connection of this device took over the session")
        session.device = conn
        session.ever_had_device = True
        if session.recorder is None and conn.ticket.recording is not None:
            session.recorder = self._start_recording(conn)
        self._tell_viewers(session)
        if session.viewers:
            self._request_refresh(session, force=True)
        return resumed

    def detach(self, conn: ClientConnection) -> None:
        session = self.sessions.get(conn.ticket.pairing_key)
        if session is None:
            return
        if conn.role == "viewer":
            session.viewers.discard(conn)
        elif session.device is conn:
            session.device = None
            if conn.peer_closed and conn.close_code == CloseCode.NORMAL:
                self.end(session, CloseCode.NORMAL, "the device ended the session")
                return
            loop = asyncio.get_running_loop()
            session.grace = loop.call_later(self.grace_seconds, self._grace_over, session)
            self._tell_viewers(session, grace_seconds=self.grace_seconds)
            return
        if session.device is None and session.grace is None and not session.viewers:
            self.end(session, CloseCode.NORMAL, "everyone left")

    def _grace_over(self, session: Session) -> None:
        session.grace = None
        if session.device is None and self.sessions.get(session.key) is session:
            self.end(session, CloseCode.DEVICE_GONE, f"the device did not come back within {self.grace_seconds:g} s")

    def end(self, session: Session, code: CloseCode, reason: str) -> None:
        """Close everyone in *session*, finish its recording, forget it."""
        if self.sessions.get(session.key) is not session:
            return
        del self.sessions[session.key]
        if session.grace is not None:
            session.grace.cancel()
            session.grace = None
        for viewer in list(session.viewers):
            viewer.close(code, reason)
        if session.device is not None:
            session.device.close(code, reason)
        if session.recorder is not None:
            self._finish_recording(session, session.recorder)
            session.recorder = None
        tenant_id, session_id, kind = session.key
        self._report("session_ended", tenant_id=tenant_id, session_id=session_id, kind=kind, code=int(code), reason=reason)

    def close_all(self, code: CloseCode, reason: str) -> None:
        for session in list(self.sessions.values()):
            self.end(session, code, reason)

    # -- routing ------------------------------------------------------------------------

    def route(self, conn: ClientConnection, frame_type: FrameType, payload: bytes, now: float) -> None:
        """Deliver one opened, validated frame from *conn* to the other side."""
        session = self.sessions.get(conn.ticket.pairing_key)
        if session is None:
            return
        if conn.role == "device":
            if session.device is not conn:
                return  # a replaced connection still draining
            self._from_device(session, conn, frame_type, payload, now)
        else:
            if frame_type is FrameType.REFRESH:
                # Not forwarded as is: many viewers asking must not flood the device.
                self._request_refresh(session)
                return
            if session.recorder is not None:
                session.recorder.write(SOURCE_VIEWER, frame_type, payload)
            # Each viewer has its own lane to the device, served in turn: a viewer that
            # floods loses its own events (and is closed by its rate limit), never the agent's.
            device = session.device
            if (
                device is not None
                and not device.send_from(conn.ticket.connection_id, frame_type, payload)
                and not device.outbox.closing
            ):
                _input_drops(**conn.log_fields)

    def _from_device(
        self, session: Session, conn: ClientConnection, frame_type: FrameType, payload: bytes, now: float
    ) -> None:
        if frame_type in _MEDIA:
            _, _, x, y, w, h, dw, dh = IMAGE_HEADER.unpack_from(payload)
            limits = conn.ticket.limits
            if dw > limits.max_width or dh > limits.max_height:
                raise ProtocolError(
                    CloseCode.TOO_LARGE,
                    f"display {dw}x{dh} exceeds this ticket's limit of {limits.max_width}x{limits.max_height}",
                )
            if not conn.within_rate(now):
                return
            if (x, y, w, h) == (0, 0, dw, dh):
                session.keyframes[frame_type] = payload
            dropped = False
            for viewer in session.viewers:
                dropped |= viewer.offer_media(frame_type, payload)
            if dropped:
                self._request_refresh(session)
        else:
            if frame_type is FrameType.DEVICE_INFO:
                session.device_info = payload = bytes(payload)
                # The app keeps it on the session's device record (diagnostics plugin);
                # the relay's report queue keeps only the newest of a session waiting.
                self._report("device_info", ticket=conn.ticket, connection_id=conn.ticket.connection_id,
                             device_info=json.loads(payload))
                for viewer in session.viewers:
                    viewer.send_latest(frame_type, payload)  # a newer one replaces an unsent one
            else:
                for viewer in session.viewers:
                    viewer.send(frame_type, payload)  # a viewer that cannot keep up is closed (4024)
        if session.recorder is not None:
            session.recorder.write(SOURCE_DEVICE, frame_type, payload)

    def _request_refresh(self, session: Session, *, force: bool = False) -> None:
        """Ask the device for a full frame, at most every REFRESH_INTERVAL_SECONDS."""
        if session.device is None:
            return
        now = asyncio.get_running_loop().time()
        if force or now - session.last_refresh >= REFRESH_INTERVAL_SECONDS:
            session.last_refresh = now
            session.device.send(FrameType.REFRESH)

    def _tell_viewers(self, session: Session, **extra: Any) -> None:
        payload = encode_peer_status(session.device_state, **extra)
        for viewer in session.viewers:
            viewer.send(FrameType.PEER_STATUS, payload)
