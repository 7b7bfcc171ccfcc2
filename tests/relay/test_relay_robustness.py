"""One client may hurt only its own connection (issue 10, "Robustness").

Each attack runs beside a legitimate session (a device streaming screen frames
to a viewer whose input goes back to the device) and the test asserts three
things: the attack is stopped the documented way, the legitimate session keeps
its frame rate and gets every input event through, and the relay's memory stays
within a stated bound. Memory is measured on a relay in its own process
(``relay_process.RelayProcess``: resident and peak memory from /proc), so the
test's own clients do not count.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import pytest
import websockets
from guidepath.relay.client import RelayClient, RelayClosed, _TcpTransport
from guidepath.relay.limits import DropLog, TokenBucket
from guidepath.relay.links import HELLO_READ_SIZE, TcpLink
from guidepath.relay.outbox import Outbox
from guidepath.relay.protocol import (
    MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    CloseCode,
    DeviceInfo,
    FrameType,
    Hello,
    ImageFormat,
    ImageFrame,
    InputEvent,
    ProtocolError,
    Refusal,
    decode_message,
    encode_plain,
)
from guidepath.relay.protocol.frames import pack_header
from guidepath.relay.reports import InProcessReports, Report, ReportQueue
from guidepath.relay.tickets import TicketLimits
from relay_helpers import RELAY_ID, TENANT_A, TENANT_B, run
from relay_process import RelayProcess

MiB = 1024 * 1024


# -- the legitimate session ----------------------------------------------------------


@dataclass
class Legit:
    """What the legitimate session saw."""

    fps_sent: float
    duration: float
    frames_sent: int = 0
    frames_received: int = 0
    inputs_sent: list[int] = field(default_factory=list)
    inputs_received: list[int] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_received / self.duration

    def check(self, min_share: float = 0.75) -> None:
        """The frame rate holds (at least *min_share* of what was sent arrived) and
        every input event reached the device, in order."""
        assert self.frames_sent >= self.fps_sent * self.duration * 0.9, self  # the sender kept its pace
        assert self.fps >= self.fps_sent * min_share, f"legit session at {self.fps:.1f} fps of {self.fps_sent}"
        assert self.inputs_received == self.inputs_sent, (
            f"{len(self.inputs_received)} of {len(self.inputs_sent)} input events reached the device"
        )


def measured(test: str, **values: object) -> None:
    """One line of what a test measured (shown with ``pytest -s``; docs/performance.md)."""
    print(f"MEASURED {test} " + " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in values.items()))


def screen(n: int, size: int) -> bytes:
    data = struct.pack(">I", n) + bytes(size - 4)
    return ImageFrame.whole(ImageFormat.JPEG, 640, 480, data).encode()


async def legit_session(
    tcp: tuple[str, int], ws_url: str, tickets, *, duration: float = 3.0, fps: int = 20, size: int = 16 * 1024,
    input_rate: int = 50, session_id: str = "legit", tenant_id: str = TENANT_A,
    started: asyncio.Event | None = None, input_cost: float = 0.0, device_rcvbuf: int | None = None,
) -> Legit:
    """Run a device and a viewer for *duration* seconds: screen frames at *fps*
    one way, pointer events at *input_rate* the other (``pointer_move`` with
    ``y=0``; other viewers' events are not counted). *input_cost*: seconds the
    device takes to inject one input event (a real device's input is not free);
    *device_rcvbuf*: the device socket's receive buffer (small: what waits for
    the device waits in the relay, not in the kernel)."""
    limits = TicketLimits(max_fps=60)
    dt, dtok = tickets("device", session_id=session_id, tenant_id=tenant_id, limits=limits)
    vt, vtok = tickets("viewer", session_id=session_id, tenant_id=tenant_id, limits=limits)
    if device_rcvbuf is None:
        dev = await RelayClient.connect_tcp(*tcp, dtok, dt.key)
    else:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, device_rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, tcp)
        reader, writer = await asyncio.open_connection(sock=sock, limit=device_rcvbuf)
        dev = await RelayClient._handshake(_TcpTransport(reader, writer), dtok, dt.key, "device", 10)
    view = await RelayClient.connect_ws(ws_url, vtok, vt.key)
    result = Legit(fps_sent=fps, duration=duration)
    loop = asyncio.get_running_loop()
    window: list[float] = []  # [start, end] of the measured window
    joined = asyncio.Event()

    async def device_reads() -> None:
        busy = 0.0
        while True:
            frame = await dev.recv()
            if frame.type is FrameType.PING:
                await dev.send(FrameType.PONG, frame.payload)
            elif frame.type is FrameType.INPUT:
                event = InputEvent.decode(frame.payload)
                if event.y == 0:
                    result.inputs_received.append(event.x)
                busy += input_cost
                if busy >= 0.01:
                    await asyncio.sleep(busy)
                    busy = 0.0

    async def viewer_reads() -> None:
        while True:
            frame = await view.recv()
            if frame.type is FrameType.PING:
                await view.send(FrameType.PONG, frame.payload)
            elif frame.type is FrameType.PEER_STATUS:
                joined.set()
            elif frame.type is FrameType.SCREEN and window and window[0] <= loop.time() <= window[1] + 0.2:
                result.frames_received += 1

    async def paced(n: int, rate: float, start: float) -> None:
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def device_sends(start: float) -> None:
        n = 0
        while loop.time() < start + duration:
            await dev.send(FrameType.SCREEN, screen(n, size))
            result.frames_sent += 1
            n += 1
            await paced(n, fps, start)

    async def viewer_sends(start: float) -> None:
        n = 0
        while loop.time() < start + duration:
            await view.send(FrameType.INPUT, InputEvent("pointer_move", x=n % 65536, y=0).encode())
            result.inputs_sent.append(n % 65536)
            n += 1
            await paced(n, input_rate, start)

    readers = [asyncio.create_task(device_reads()), asyncio.create_task(viewer_reads())]
    try:
        await asyncio.wait_for(joined.wait(), 10)
        if started is not None:
            started.set()
        start = loop.time()
        window[:] = [start, start + duration]
        await asyncio.gather(device_sends(start), viewer_sends(start))
        deadline = loop.time() + 5
        while len(result.inputs_received) < len(result.inputs_sent) and loop.time() < deadline:
            await asyncio.sleep(0.02)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await dev.close()
        await view.abort()
    for task in readers:  # a reader that failed (not cancelled) is a failure of the session
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()
    return result


async def until_started(legit: asyncio.Task, started: asyncio.Event) -> None:
    """Wait for the legitimate session to stream (or fail: then raise its error)."""
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([legit, waiter], timeout=15, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if legit.done():
        legit.result()
    assert started.is_set(), "the legitimate session did not start"


@pytest.fixture
def relay_process(secret, tmp_path):
    started: list[RelayProcess] = []

    def start(**settings: object) -> RelayProcess:
        settings = {"heartbeat_seconds": 0.5, "idle_timeout_seconds": 10.0, "hello_timeout_seconds": 5.0,
                    **settings}
        proc = RelayProcess(secret, tmp_path / f"relay-{len(started)}.log", **settings)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


# -- raw clients an attacker would write -------------------------------------------


def ws_frame_header(length: int, opcode: int = 0x2) -> bytes:
    """A client's (masked, with a zero mask) WebSocket frame header for *length* bytes."""
    if length < 126:
        head = bytes((0x80 | opcode, 0x80 | length))
    elif length < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    return head + bytes(4)


def ws_upgrade(host: str, port: int) -> bytes:
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    return (f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


async def ws_close_code(ws) -> int | None:
    """Wait (bounded) for the relay to close *ws*; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed:
        pass
    return ws.close_code


# -- 1. nothing large before admission ------------------------------------------------


def test_a_header_announcing_8_mib_before_hello_is_refused_without_allocating(relay_process, tickets):
    """Before a connection is admitted (HELLO accepted) nothing above the plain-frame
    cap (8 KiB) may be announced: the header is refused with 4004 (REFUSE on TCP,
    close code on WebSocket) before any payload is read or buffered. Bound: 32
    such TCP connections and 16 WebSocket ones at once raise the relay's peak
    memory by less than 16 MiB (without the cap each TCP one cost 8 MiB)."""
    relay = relay_process()
    n_tcp, n_ws = 32, 16

    async def tcp_attack() -> int:
        reader, writer = await asyncio.open_connection(*relay.tcp)
        writer.write(pack_header(FrameType.SCREEN, 0, MAX_PAYLOAD_BYTES))
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 3)  # the relay answers and closes at once
        writer.close()
        frame = decode_message(data)
        assert frame.type is FrameType.REFUSE
        return Refusal.decode(frame.payload).code

    async def ws_attack() -> int | None:
        async with websockets.connect(relay.ws_url, compression=None, max_size=None) as ws:
            ws.transport.write(ws_frame_header(MAX_MESSAGE_BYTES))  # the header only
            return await asyncio.wait_for(ws_close_code(ws), 3)

    async def scenario() -> Legit:
        started = asyncio.Event()
        legit = asyncio.create_task(legit_session(relay.tcp, relay.ws_url, tickets, duration=3.0, started=started))
        await until_started(legit, started)
        await asyncio.sleep(0.3)
        baseline = relay.rss()
        relay.reset_peak()
        codes = await asyncio.gather(*(tcp_attack() for _ in range(n_tcp)), *(ws_attack() for _ in range(n_ws)))
        measured("pre_auth_8mib", peak_growth_mib=(relay.peak() - baseline) / MiB)
        assert codes == [CloseCode.TOO_LARGE] * (n_tcp + n_ws)
        assert relay.peak() - baseline < 16 * MiB, (relay.peak() - baseline) / MiB
        result = await legit
        measured("pre_auth_8mib", legit_fps=result.fps, inputs=f"{len(result.inputs_received)}/{len(result.inputs_sent)}")
        return result

    run(scenario(), timeout=40).check()


def test_unauthenticated_connections_cost_a_few_kib_each(relay_process, tickets):
    """A connection that never completes its HELLO (slowloris) holds one small
    buffer: 200 of them, each stuck inside a frame header, add less than 12 KiB of
    relay memory per connection on average (measured: 6.9 KiB, of which the read
    buffer is 2 KiB; it grows to one plain frame, 8 KiB, only if a header announces
    one; before, each held a 16 KiB read buffer: 21.3 KiB per connection)."""
    relay = relay_process(hello_timeout_seconds=30.0)
    count = 200

    async def scenario() -> Legit:
        started = asyncio.Event()
        legit = asyncio.create_task(legit_session(relay.tcp, relay.ws_url, tickets, duration=4.0, started=started))
        await until_started(legit, started)
        await asyncio.sleep(0.3)
        before = relay.rss()
        writers = []
        for _ in range(count):
            _, writer = await asyncio.open_connection(*relay.tcp)
            writer.write(pack_header(FrameType.HELLO, 0, 600)[:10])  # a tenth of a header
            writers.append(writer)
        await asyncio.gather(*(w.drain() for w in writers))
        await asyncio.sleep(1.0)
        per_connection = (relay.rss() - before) / count
        measured("slowloris", kib_per_connection=per_connection / 1024)
        for writer in writers:
            writer.close()
        assert per_connection < 12 * 1024, f"{per_connection / 1024:.1f} KiB per unauthenticated connection"
        return await legit

    run(scenario(), timeout=40).check()


def test_the_tcp_link_grows_only_to_the_frame_announced_before_admission():
    async def main() -> None:
        accepted: asyncio.Future[TcpLink] = asyncio.get_running_loop().create_future()
        server = await asyncio.get_running_loop().create_server(
            lambda: TcpLink(on_connect=accepted.set_result, pre_auth=True), "127.0.0.1", 0
        )
        _, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        link = await accepted
        assert link.read_buffer_size == HELLO_READ_SIZE
        hello = encode_plain(FrameType.HELLO, b"x" * 5000)
        writer.write(hello + pack_header(FrameType.SCREEN, 0, 100_000))
        frame = await link.recv_frame()
        assert frame.type is FrameType.HELLO and link.read_buffer_size == len(hello)  # exactly one frame
        with pytest.raises(ProtocolError) as caught:  # not admitted: 8 KiB for every type
            await link.recv_frame()
        assert caught.value.code == CloseCode.TOO_LARGE
        link.abort()
        writer.close()
        server.close()

    run(main())


# -- 2. peers that stop reading -------------------------------------------------------


def test_viewers_that_stop_reading_are_reaped_and_the_session_end_frees_them(relay_process, tickets):
    """Viewers that neither read nor send (receive buffers of 4 KiB) in sessions
    whose devices stream 256 KiB frames, so that the relay's writes to them stall.
    Five in a session that goes on: the write timeout (3 s here) cuts them off.
    Five in a session whose device ends it after half a second: their CLOSE cannot
    be sent, and the close timeout (1 s) aborts them; before, they stayed open,
    holding their send buffers. Counted from the relay's own file descriptors (a
    reset sent into a zero window never reaches the peer). Bound: the relay's
    resident memory ends within 24 MiB of where it started."""
    relay = relay_process(write_timeout_seconds=3.0, close_timeout_seconds=1.0)
    limits = TicketLimits(max_fps=60)

    def dead_viewer(session_id: str) -> socket.socket:
        _, token = tickets("viewer", session_id=session_id, limits=limits)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(relay.ws)
        hello = encode_plain(FrameType.HELLO, Hello(role="viewer", ticket=token).encode())
        sock.sendall(ws_upgrade(*relay.ws) + ws_frame_header(len(hello)) + hello)
        return sock  # never read from

    async def wait_sockets(predicate, seconds: float) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate(relay.sockets()) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return relay.sockets()

    async def stream(dev: RelayClient, seconds: float) -> None:
        for n in range(int(seconds * 30)):
            await dev.send(FrameType.SCREEN, screen(n, 256 * 1024))
            await asyncio.sleep(1 / 30)

    async def scenario() -> Legit:
        started = asyncio.Event()
        legit = asyncio.create_task(legit_session(relay.tcp, relay.ws_url, tickets, duration=6.0, started=started))
        await until_started(legit, started)
        before, base = relay.rss(), relay.sockets()
        devices = []
        for session_id in ("goes-on", "ends"):
            dt, dtok = tickets("device", session_id=session_id, limits=limits)
            devices.append(await RelayClient.connect_tcp(*relay.tcp, dtok, dt.key))
        dead = [dead_viewer(session_id) for session_id in ("goes-on", "ends") for _ in range(5)]
        assert await wait_sockets(lambda n: n == base + 12, 5) == base + 12  # two devices and ten viewers in
        goes_on, ends = devices
        streaming = asyncio.create_task(stream(goes_on, 5.0))
        await stream(ends, 0.5)
        await ends.close()  # CLOSE 1000: that session ends for everyone
        # Its device and five viewers are gone within the close timeout (and well before the write timeout).
        held = await wait_sockets(lambda n: n <= base + 6, 2.0) - base
        assert held <= 6, f"{held - 6} sockets of the ended session are still held"
        # The others, whose writes stalled, are cut off by the write timeout while their session goes on.
        held = await wait_sockets(lambda n: n <= base + 1, 6.0) - base
        assert held <= 1, f"{held - 1} sockets of viewers that stopped reading are still held"
        await streaming
        await goes_on.close()
        for sock in dead:
            sock.close()
        result = await legit
        measured("stop_reading", rss_growth_mib=(relay.rss() - before) / MiB, legit_fps=result.fps,
                 inputs=f"{len(result.inputs_received)}/{len(result.inputs_sent)}")
        assert relay.rss() - before < 24 * MiB, (relay.rss() - before) / MiB
        return result

    run(scenario(), timeout=60).check()
    assert relay.log().count("client stopped reading; closing it") == 5  # the write timeout's
    assert relay.log().count("idle timeout") == 0


# -- 3. control traffic: rate limits, fair share, reports, logs ----------------------


def flood_inputs(ws_url: str, ticket_token, stop: threading.Event, out: dict, *, rate: int) -> None:
    """A second viewer of the session sending valid INPUT at *rate* per second until
    closed or *stop* (in its own thread and event loop, as another client would)."""
    ticket, token = ticket_token

    async def main() -> None:
        flooder = await RelayClient.connect_ws(ws_url, token, ticket.key)

        async def reads() -> None:  # it reads what it is sent: only its sending is abusive
            while True:
                frame = await flooder.recv()
                if frame.type is FrameType.PING:
                    await flooder.send(FrameType.PONG, frame.payload)

        reader = asyncio.create_task(reads())
        event = InputEvent("pointer_move", x=9, y=9).encode()
        batch = 250
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        try:
            while not stop.is_set():
                await flooder.send_many([(FrameType.INPUT, event)] * batch)
                sent += batch
                delay = start + sent / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
        except RelayClosed:
            pass
        out["sent"] = sent
        out["seconds"] = loop.time() - start
        try:
            await asyncio.wait_for(reader, 5)
        except RelayClosed as exc:
            out["code"] = exc.code
        except TimeoutError:
            out["code"] = None
        await flooder.abort()

    asyncio.run(main())


@pytest.mark.parametrize("mode", ["rate_limit", "fair_share_only"])
def test_a_viewer_flooding_input_cannot_take_control_from_the_agent(relay_process, tickets, mode):
    """A second viewer of the agent's session floods valid INPUT (20,000/s; 5,000/s
    when unlimited) at a device that injects 2,000 events a second. With the
    default limits it is closed with RATE_LIMITED (4023) within a second. With the
    rate limit switched off, fair sharing alone keeps the agent in control: each
    viewer has its own lane to the device, served in turn, so the flooder loses its
    own events, never the agent's. Either way the session keeps its frame rate, every
    agent event arrives, the drops are logged at most once per 10 s, and the relay's
    peak memory grows by less than 48 MiB."""
    settings = {} if mode == "rate_limit" else {"control_rate": 1e9, "control_burst": 1e9,
                                                 "control_bytes_rate": 1e12, "control_bytes_burst": 1e12}
    relay = relay_process(**settings)
    flood: dict = {}
    stop = threading.Event()
    rate = 20_000 if mode == "rate_limit" else 5_000

    async def scenario() -> Legit:
        started = asyncio.Event()
        # The device injects at most 2,000 events a second: a flood fills what waits for it.
        legit = asyncio.create_task(legit_session(relay.tcp, relay.ws_url, tickets, duration=4.0, started=started,
                                                  input_cost=0.0005, device_rcvbuf=16 * 1024))
        await until_started(legit, started)
        before = relay.rss()
        relay.reset_peak()
        thread = threading.Thread(target=flood_inputs, args=(relay.ws_url, tickets("viewer", session_id="legit",
                                  limits=TicketLimits(max_fps=60)), stop, flood), kwargs={"rate": rate})
        thread.start()
        try:
            result = await legit
        finally:
            stop.set()
            await asyncio.to_thread(thread.join, 15)
        measured(f"input_flood[{mode}]", peak_growth_mib=(relay.peak() - before) / MiB, legit_fps=result.fps,
                 inputs=f"{len(result.inputs_received)}/{len(result.inputs_sent)}", flood=flood)
        assert relay.peak() - before < 48 * MiB, (relay.peak() - before) / MiB
        return result

    run(scenario(), timeout=60).check()
    if mode == "rate_limit":
        assert flood["code"] == CloseCode.RATE_LIMITED and flood["seconds"] < 1.0, flood
    else:
        # It flooded the whole time, and was closed only when the session ended.
        assert flood["sent"] > 15_000 and flood.get("code") in (None, CloseCode.NORMAL), flood
    assert relay.log().count("input lane to the device is full") <= 1


class SlowSink:
    """A report sink that takes 2 ms per report (a busy Redis, a slow network)."""

    def __init__(self, inner: InProcessReports) -> None:
        self.inner = inner

    def publish(self, report: Report) -> None:
        time.sleep(0.002)
        self.inner.publish(report)


@pytest.mark.parametrize("mode", ["rate_limit", "fairness_only"])
def test_a_device_flooding_device_info_cannot_drop_another_tenants_reports(relay_factory, tickets, reports,
                                                                             mode, caplog):
    """A tenant-B device sends DEVICE_INFO as fast as it can while tenant A runs a
    session, and reports are published slowly (2 ms each). With the default limits
    the flooder is closed with 4023 after its burst (10); with the limit off, its
    reports coalesce (a newer DEVICE_INFO replaces its session's waiting one) and
    queue per tenant, so every one of A's reports still reaches the app. Bound: at
    most one waiting device_info report per session, the report queue never above
    per-tenant size × tenants, and drops logged at most once per interval."""
    settings = {"reports": SlowSink(reports), "report_queue_per_tenant": 50}
    if mode == "fairness_only":
        settings.update(device_info_rate=1e9, device_info_burst=1e9, control_rate=1e9, control_burst=1e9,
                        control_bytes_rate=1e12, control_bytes_burst=1e12)
    relay = relay_factory(**settings)
    tcp = tuple(relay.tcp_address.rsplit(":", 1))
    tcp = (tcp[0], int(tcp[1]))
    flood: dict = {}
    queue_sizes: list[int] = []

    async def flooder(stop: asyncio.Event) -> None:
        dt, dtok = tickets("device", tenant_id=TENANT_B, session_id="noisy")
        dev = await RelayClient.connect_tcp(*tcp, dtok, dt.key)
        sent = 0
        try:
            while not stop.is_set():
                await dev.send_many([(FrameType.DEVICE_INFO, DeviceInfo(model=f"m{sent + i}").encode())
                                     for i in range(100)])
                sent += 100
                queue_sizes.append(relay.server._reports.__len__())  # read from another thread: a sample
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.3)
        except RelayClosed:
            pass
        try:
            await dev.next_of(FrameType.REFRESH, timeout=3)
        except RelayClosed as exc:
            flood["code"] = exc.code
        except TimeoutError:
            flood["code"] = None
        flood["sent"] = sent
        await dev.abort()

    async def scenario() -> Legit:
        stop = asyncio.Event()
        task = asyncio.create_task(flooder(stop))
        await asyncio.sleep(0.3)
        try:
            return await legit_session(tcp, relay.ws_url, tickets, duration=3.0, fps=15, size=4096)
        finally:
            stop.set()
            await task

    with caplog.at_level(logging.WARNING, logger="guidepath.relay"):
        run(scenario(), timeout=60).check(min_share=0.6)
        expected = {"device_connected", "viewer_connected", "viewer_disconnected", "device_disconnected",
                    "session_ended"}
        deadline = time.monotonic() + 15
        mine: set[str] = set()
        flooder_left: list[int | None] = []
        while time.monotonic() < deadline and not (expected <= mine and flooder_left):
            for _, r in reports.read(1000, block_ms=200):
                if r.tenant_id == TENANT_A:
                    mine.add(r.type)
                elif r.type == "device_disconnected":
                    flooder_left.append(r.code)
    assert expected <= mine, mine
    assert max(queue_sizes) <= 2 * 50
    if mode == "rate_limit":
        # (The flooder itself may miss the CLOSE: it keeps writing to a closed socket.)
        assert flooder_left == [CloseCode.RATE_LIMITED] and flood["code"] in (CloseCode.RATE_LIMITED, 1001), flood
    else:
        assert flood["sent"] >= 5000 and flood["code"] is None, flood
    assert sum("reports dropped" in r.getMessage() for r in caplog.records) <= 1


def test_report_queues_are_per_tenant_and_served_in_turn():
    queue = ReportQueue(per_tenant=3)

    def report(tenant: str, kind: str = "viewer_connected", session: str = "s") -> Report:
        return Report(type=kind, relay_id=RELAY_ID, tenant_id=tenant, session_id=session, kind="camera")

    assert [queue.put(report(TENANT_B)) for _ in range(5)] == [True, True, True, False, False]
    assert queue.put(report(TENANT_A)) and queue.dropped == 2
    got = run(queue.take(10))
    assert [r.tenant_id for r in got] == [TENANT_B, TENANT_A, TENANT_B, TENANT_B]  # A's comes second
    for n in range(5):  # a newer device_info replaces the waiting one of its session
        assert queue.put(Report(type="device_info", relay_id=RELAY_ID, tenant_id=TENANT_A, session_id="s",
                                kind="camera", device_info={"model": str(n)}))
    assert len(queue) == 1 and run(queue.take(10))[0].device_info == {"model": "4"}

    inproc = InProcessReports(maxsize=2)
    for _ in range(4):
        inproc.publish(report(TENANT_B))
    inproc.publish(report(TENANT_A))
    assert [r.tenant_id for _, r in inproc.read(10)] == [TENANT_B, TENANT_A, TENANT_B]


def test_rate_limits_and_drop_logging(caplog):
    bucket = TokenBucket(rate=10, burst=5, now=0.0)
    assert [bucket.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(0.1) and not bucket.take(0.1)  # 10/s: one more after 0.1 s
    drops = DropLog(logging.getLogger("guidepath.relay.test"), "dropped things", interval=60)
    with caplog.at_level(logging.WARNING, logger="guidepath.relay.test"):
        for _ in range(10_000):
            drops(session_id="s")
    assert len(caplog.records) == 1 and drops.total == 10_000 and drops.pending == 9_999


def test_each_viewer_has_its_own_lane_to_the_device():
    async def main() -> None:
        outbox = Outbox(control_limit=1000, control_bytes=MiB, lane_bytes=10_000)
        flood = b"f" * 900
        taken = sum(outbox.put_lane("flooder", FrameType.INPUT, flood) for _ in range(100))
        assert taken == 10  # 10 x (900 + 64) bytes fit in its lane: the rest is its own loss
        assert all(outbox.put_lane("agent", FrameType.INPUT, b"a%d" % i) for i in range(3))
        order = [(await outbox.get()).payload[:1] for _ in range(8)]
        assert order == [b"f", b"a", b"f", b"a", b"f", b"a", b"f", b"f"]  # served in turn

    run(main())


# -- 4. control queues bounded in bytes ---------------------------------------------


def test_a_viewer_that_cannot_keep_up_with_clipboards_is_closed_and_memory_stays_bounded(relay_process, tickets):
    """Two sessions whose devices send 200 clipboard frames of 512 KiB each while their
    viewers read one message every 50 ms: each slow viewer is closed with
    SLOW_CONSUMER (4024) once 8 MiB of control frames wait for it, instead of the
    relay holding 200 entries (100 MiB) per viewer. Bound: the relay's peak memory
    grows by less than 64 MiB; the legitimate session beside them keeps its rate."""
    relay = relay_process()

    async def slow_session(i: int) -> int | None:
        limits = TicketLimits(max_fps=60)
        dt, dtok = tickets("device", session_id=f"clip{i}", limits=limits)
        vt, vtok = tickets("viewer", session_id=f"clip{i}", limits=limits)
        dev = await RelayClient.connect_tcp(*relay.tcp, dtok, dt.key)
        view = await RelayClient.connect_ws(relay.ws_url, vtok, vt.key)
        await view.next_of(FrameType.PEER_STATUS)
        text = b"c" * (512 * 1024)

        async def sends() -> None:
            for _ in range(200):
                await dev.send(FrameType.CLIPBOARD, text)

        sender = asyncio.create_task(sends())
        code = None
        try:
            deadline = asyncio.get_running_loop().time() + 15
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.wait_for(view.recv(), 5)
                await asyncio.sleep(0.05)
        except RelayClosed as exc:
            code = exc.code
        await sender
        await dev.close()
        await view.abort()
        return code

    async def scenario() -> Legit:
        started = asyncio.Event()
        legit = asyncio.create_task(legit_session(relay.tcp, relay.ws_url, tickets, duration=4.0, started=started))
        await until_started(legit, started)
        before = relay.rss()
        relay.reset_peak()
        codes = await asyncio.gather(slow_session(0), slow_session(1))
        measured("slow_clipboard_viewers", codes=codes, peak_growth_mib=(relay.peak() - before) / MiB)
        assert codes == [CloseCode.SLOW_CONSUMER] * 2
        assert relay.peak() - before < 64 * MiB, (relay.peak() - before) / MiB
        return await legit

    run(scenario(), timeout=60).check()


def test_the_outbox_is_bounded_in_bytes_and_keeps_the_newest_device_info():
    async def main() -> None:
        outbox = Outbox(control_limit=256, control_bytes=3 * MiB)
        big = bytes(MiB)
        assert [outbox.put_control(FrameType.CLIPBOARD, big) for _ in range(4)] == [True, True, False, False]
        assert outbox.queued_bytes < 3 * MiB
        for n in range(100):
            outbox.put_latest(FrameType.DEVICE_INFO, b"%d" % n)
        got = [(await outbox.get()).payload for _ in range(3)]
        assert got[2] == b"99" and outbox.replaced_latest == 99

    run(main())


def test_a_recording_that_cannot_keep_up_is_bounded_in_bytes():
    from guidepath.relay.recording import RecordingWriter

    writer = RecordingWriter(files=None, header={}, queue_bytes=20 * MiB)  # not started: nothing drains it
    frame = bytes(8 * MiB)
    for _ in range(10):
        writer.write(0, FrameType.SCREEN, frame)
    assert (writer.records, writer.dropped) == (2, 8)


# -- 5. a WebSocket message above the cap closes with 4004 --------------------------


def test_a_websocket_message_above_the_cap_closes_with_4004(relay_process, tickets):
    """An admitted viewer announcing a message above 8 MiB + 16 bytes (and a
    connection announcing more than one plain frame before its HELLO) is closed
    with 4004 TOO_LARGE, as docs/relay-protocol.md says, not websockets' 1009;
    nothing of the message is read. Bound: 16 such viewers raise the relay's
    peak memory by less than 16 MiB."""
    relay = relay_process()

    async def oversized(i: int) -> int | None:
        ticket, token = tickets("viewer", session_id=f"big{i}")
        viewer = await RelayClient.connect_ws(relay.ws_url, token, ticket.key)
        viewer._transport.ws.transport.write(ws_frame_header(MAX_MESSAGE_BYTES + 1))
        with pytest.raises(RelayClosed) as exc:
            while True:
                await viewer.recv()
        return exc.value.code

    async def before_hello() -> int | None:
        async with websockets.connect(relay.ws_url, compression=None) as ws:
            ws.transport.write(ws_frame_header(8 * 1024 + 17))  # one byte above a plain frame
            return await ws_close_code(ws)

    async def scenario() -> Legit:
        started = asyncio.Event()
        legit = asyncio.create_task(legit_session(relay.tcp, relay.ws_url, tickets, duration=3.0, started=started))
        await until_started(legit, started)
        before = relay.rss()
        relay.reset_peak()
        codes = await asyncio.gather(*(oversized(i) for i in range(16)), before_hello())
        measured("ws_too_large", codes=sorted(set(codes)), peak_growth_mib=(relay.peak() - before) / MiB)
        assert codes == [CloseCode.TOO_LARGE] * 17, codes
        assert relay.peak() - before < 16 * MiB, (relay.peak() - before) / MiB
        return await legit

    run(scenario(), timeout=40).check()
