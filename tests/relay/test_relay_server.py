"""End to end on loopback: device (TCP) <-> relay <-> viewer (WebSocket)."""

from __future__ import annotations

import asyncio
import struct
import time

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay_helpers import RELAY_ID, TENANT_A, TENANT_B, run
from guidepath.relay.client import RelayClient, RelayClosed, RelayRefused
from guidepath.relay.device_client import DeviceClient
from guidepath.relay.protocol import (
    MAX_MESSAGE_BYTES,
    Channel,
    Close,
    CloseCode,
    DeviceInfo,
    FrameType,
    ImageFormat,
    ImageFrame,
    Hello,
    InputEvent,
    decode_frames,
    decode_peer_status,
    encode_plain,
)


def tcp(relay):
    host, port = relay.tcp_address.rsplit(":", 1)
    return host, int(port)


async def device(relay, ticket_token):
    ticket, token = ticket_token
    return await RelayClient.connect_tcp(*tcp(relay), token, ticket.key)


async def viewer(relay, ticket_token):
    ticket, token = ticket_token
    return await RelayClient.connect_ws(relay.ws_url, token, ticket.key)


def numbered(n: int, size: int = 64) -> bytes:
    data = struct.pack(">I", n) + bytes(size - 4)
    return ImageFrame.whole(ImageFormat.PNG, 8, 8, data).encode()


def number_of(payload: bytes) -> int:
    return struct.unpack(">I", ImageFrame.decode(payload).data[:4])[0]


async def next_of(client: RelayClient, *types: FrameType, timeout: float = 5.0):
    return await client.next_of(*types, timeout=timeout)


async def status_of(client: RelayClient) -> str:
    return decode_peer_status((await next_of(client, FrameType.PEER_STATUS)).payload)["device"]


def test_frames_arrive_intact_in_order_and_input_reaches_the_device(relay, tickets):
    async def scenario():
        dev = await device(relay, tickets("device"))
        v1 = await viewer(relay, tickets("viewer"))
        v2 = await viewer(relay, tickets("viewer"))
        assert await status_of(v1) == "connected"
        info = DeviceInfo(model="Pixel", os_name="Android", memory_bytes=8 << 30)
        await dev.send(FrameType.DEVICE_INFO, info.encode())
        for v in (v1, v2):
            assert DeviceInfo.decode((await next_of(v, FrameType.DEVICE_INFO)).payload) == info
        sent = [numbered(i, 2000) for i in range(20)]
        got: dict[RelayClient, list[bytes]] = {v1: [], v2: []}
        for payload in sent:
            # In lockstep: a screen frame still waiting for a viewer is replaced by
            # a newer one (by design), so a loaded machine must not make this racy.
            await dev.send(FrameType.SCREEN, payload)
            for v in (v1, v2):
                got[v].append((await next_of(v, FrameType.SCREEN)).payload)
        assert got[v1] == got[v2] == sent
        event = InputEvent("pointer_down", x=5, y=6, button=0)
        await v2.send(FrameType.INPUT, event.encode())
        await v1.send(FrameType.CLIPBOARD, "copied ✓".encode())
        assert InputEvent.decode((await next_of(dev, FrameType.INPUT)).payload) == event
        assert (await next_of(dev, FrameType.CLIPBOARD)).payload.decode() == "copied ✓"
        await dev.close()
        for v in (v1, v2):
            with pytest.raises(RelayClosed) as exc:
                await next_of(v, FrameType.SCREEN)
            assert exc.value.code == CloseCode.NORMAL
            await v.abort()

    run(scenario())


def test_a_burst_shares_websocket_messages_both_ways(relay, tickets):
    """What is ready for a viewer goes out in one message, not one per frame, and a
    viewer may pack frames the same way. Spoken with a bare WebSocket, as a client in
    another language would (docs/relay-protocol.md §2)."""

    async def scenario():
        dev = await device(relay, tickets("device"))
        ticket, token = tickets("viewer")
        channel = Channel.client("viewer", ticket.key)
        async with websockets.connect(relay.ws_url, max_size=MAX_MESSAGE_BYTES, compression=None) as ws:
            await ws.send(encode_plain(FrameType.HELLO, Hello(role="viewer", ticket=token).encode()))
            received = [channel.open(f) for f in decode_frames(await asyncio.wait_for(ws.recv(), 5))]
            burst = [(FrameType.CLIPBOARD, f"clip {i}".encode()) for i in range(50)]
            await dev.send_many(burst)  # one TCP write: the relay routes all, then writes once
            messages = 0
            while len([f for f in received if f.type is FrameType.CLIPBOARD]) < len(burst):
                messages += 1
                received += [channel.open(f) for f in decode_frames(await asyncio.wait_for(ws.recv(), 5))]
            assert received[0].type is FrameType.ACK and received[0].counter == 0
            assert [f.counter for f in received] == list(range(len(received)))
            assert [f.payload for f in received if f.type is FrameType.CLIPBOARD] == [p for _, p in burst]
            assert messages < len(burst) // 2, messages

            events = [InputEvent("pointer_move", x=i, y=i) for i in range(5)]
            await ws.send(bytes(channel.sealer.seal_many([(FrameType.INPUT, e.encode()) for e in events])))
            for event in events:
                assert InputEvent.decode((await next_of(dev, FrameType.INPUT)).payload) == event
            # A message cut inside a frame closes that viewer with the reason.
            await ws.send(bytes(channel.sealer.seal_many([(FrameType.INPUT, events[0].encode())]))[:-1])
            closing = [channel.open(f) for f in decode_frames(await asyncio.wait_for(ws.recv(), 5))]
            assert closing[-1].type is FrameType.CLOSE
            assert Close.decode(closing[-1].payload).code == CloseCode.BAD_FRAME
        await dev.close()

    run(scenario())


def test_refusals_carry_reasons(relay, tickets, secret):
    from guidepath.relay.tickets import issue_ticket

    async def refused(coro) -> int:
        with pytest.raises(RelayRefused) as exc:
            await coro
        return exc.value.code

    async def scenario():
        dt, dtok = tickets("device")
        tampered = dtok[:-3] + ("AAA" if not dtok.endswith("AAA") else "BBB")
        assert await refused(RelayClient.connect_tcp(*tcp(relay), tampered, dt.key)) == CloseCode.TICKET_INVALID
        vt = tickets("viewer")
        assert await refused(RelayClient.connect_tcp(*tcp(relay), vt[1], vt[0].key, role="viewer")) == CloseCode.TICKET_WRONG_ROLE
        assert await refused(RelayClient.connect_tcp(*tcp(relay), vt[1], vt[0].key, role="device")) == CloseCode.TICKET_WRONG_ROLE
        d2 = tickets("device")
        assert await refused(RelayClient.connect_ws(relay.ws_url, d2[1], d2[0].key, role="device")) == CloseCode.TICKET_WRONG_ROLE
        other = tickets("device", relay_id="another-relay")
        assert await refused(device(relay, other)) == CloseCode.TICKET_WRONG_RELAY
        expired = issue_ticket(secret, relay_id=RELAY_ID, tenant_id=TENANT_A, session_id="s", kind="camera",
                               role="device", ttl_seconds=1, now=time.time() - 5)
        assert await refused(device(relay, expired)) == CloseCode.TICKET_EXPIRED
        good = tickets("device")
        dev = await device(relay, good)
        assert await refused(device(relay, good)) == CloseCode.TICKET_USED
        await dev.close()

    run(scenario())


def test_tenant_a_ticket_cannot_pair_with_tenant_b_session(relay, tickets):
    async def scenario():
        dev_a = await device(relay, tickets("device", tenant_id=TENANT_A, session_id="ses_same"))
        view_b = await viewer(relay, tickets("viewer", tenant_id=TENANT_B, session_id="ses_same"))
        assert await status_of(view_b) == "waiting"
        await dev_a.send(FrameType.SCREEN, numbered(1))
        with pytest.raises(asyncio.TimeoutError):
            await next_of(view_b, FrameType.SCREEN, timeout=0.5)
        camera_view = await viewer(relay, tickets("viewer", tenant_id=TENANT_A, session_id="ses_same", kind="camera"))
        assert await status_of(camera_view) == "waiting"  # another kind is another session
        for c in (dev_a, view_b, camera_view):
            await c.close()

    run(scenario())


def test_bad_frame_closes_only_that_connection(relay, tickets):
    async def scenario():
        dev1 = await device(relay, tickets("device", session_id="s1"))
        view1 = await viewer(relay, tickets("viewer", session_id="s1"))
        dev2 = await device(relay, tickets("device", session_id="s2"))
        # dev2 sends a frame a device may not send: INPUT
        await dev2.send(FrameType.INPUT, InputEvent("pointer_move", x=1, y=1).encode())
        with pytest.raises(RelayClosed) as exc:
            await next_of(dev2, FrameType.SCREEN)
        assert exc.value.code == CloseCode.NOT_ALLOWED and "INPUT" in exc.value.reason
        await dev1.send(FrameType.SCREEN, numbered(7))
        assert number_of((await next_of(view1, FrameType.SCREEN)).payload) == 7
        # A viewer replaying a frame is closed for OUT_OF_ORDER; the device stays.
        wire = view1.channel.seal(FrameType.INPUT, InputEvent("pointer_move", x=1, y=1).encode())
        await view1._transport.send(wire)
        await view1._transport.send(wire)
        with pytest.raises(RelayClosed) as exc:
            await next_of(view1, FrameType.SCREEN)
        assert exc.value.code == CloseCode.OUT_OF_ORDER
        assert (await next_of(dev1, FrameType.INPUT)).payload  # the first copy got through
        await dev1.close()

    run(scenario())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=5), after_hello=st.booleans())
def test_fuzzed_connections_leave_the_relay_and_other_sessions_working(relay, tickets, garbage, after_hello):
    async def scenario():
        dev = await device(relay, tickets("device", session_id="steady"))
        view = await viewer(relay, tickets("viewer", session_id="steady"))
        reader, writer = await asyncio.open_connection(*tcp(relay))
        if after_hello:
            fuzz = await device(relay, tickets("device", session_id="fuzz"))
            writer.close()
            writer = fuzz._transport.writer
            reader = fuzz._transport.reader
        try:
            for chunk in garbage:
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass  # the relay already closed the fuzzing connection: as it should
        await dev.send(FrameType.SCREEN, numbered(3))
        assert number_of((await next_of(view, FrameType.SCREEN)).payload) == 3
        writer.close()
        await dev.close()
        await view.abort()

    run(scenario())
    assert relay.call(lambda: len(relay.server.hub.sessions)) <= 2  # only ones still draining


def test_slow_viewer_gets_the_latest_frame_and_memory_stays_bounded(relay, tickets):
    count, size = 400, 64 * 1024

    async def scenario():
        dev = await device(relay, tickets("device", limits=_fast()))
        slow = await viewer(relay, tickets("viewer", limits=_fast()))
        assert await status_of(slow) == "connected"
        for i in range(count):
            await dev.send(FrameType.SCREEN, numbered(i, size))
        numbers = []
        while not numbers or numbers[-1] != count - 1:
            numbers.append(number_of((await next_of(slow, FrameType.SCREEN)).payload))
        assert numbers == sorted(numbers) and len(numbers) < count
        assert (await next_of(dev, FrameType.REFRESH, timeout=2)).payload == b""
        await dev.close()

    run(scenario(), timeout=30)


def _fast():
    from guidepath.relay.tickets import TicketLimits

    return TicketLimits(max_fps=100_000)


def test_device_reconnects_within_grace_and_viewers_stay(relay, tickets, reports):
    async def scenario():
        dev = await device(relay, tickets("device"))
        view = await viewer(relay, tickets("viewer"))
        assert await status_of(view) == "connected"
        await dev.abort()  # no CLOSE: a lost connection
        assert await status_of(view) == "reconnecting"
        dev2 = await device(relay, tickets("device"))
        assert dev2.ack.resumed is True
        assert await status_of(view) == "connected"
        await dev2.send(FrameType.SCREEN, numbered(42))
        assert number_of((await next_of(view, FrameType.SCREEN)).payload) == 42
        await dev2.abort()
        assert await status_of(view) == "reconnecting"
        with pytest.raises(RelayClosed) as exc:  # grace is 2 s in these tests
            await next_of(view, FrameType.SCREEN, timeout=6)
        assert exc.value.code == CloseCode.DEVICE_GONE

    run(scenario())
    types: list[str] = []
    deadline = time.monotonic() + 5
    while "session_ended" not in types and time.monotonic() < deadline:
        types += [r.type for _, r in reports.read(100, block_ms=200)]
    assert types.count("device_connected") == 2 and "session_ended" in types


def test_idle_connections_are_closed(relay_factory, tickets):
    relay = relay_factory(idle_timeout_seconds=1.0, heartbeat_seconds=0.3)

    async def scenario():
        dev = await device(relay, tickets("device"))
        started = time.monotonic()
        with pytest.raises(RelayClosed) as exc:
            while True:  # never answers the relay's pings
                await dev.recv()
        assert exc.value.code == CloseCode.IDLE_TIMEOUT and time.monotonic() - started < 5

    run(scenario())


def test_reference_device_client_end_to_end(relay, tickets):
    received = []

    async def scenario():
        dt, dtok = tickets("device")
        client = DeviceClient(*tcp(relay), dtok, dt.key, fps=20, on_input=received.append)
        task = asyncio.create_task(client.run(duration=3))
        view = await viewer(relay, tickets("viewer"))
        info = DeviceInfo.decode((await next_of(view, FrameType.DEVICE_INFO)).payload)
        assert info.os_name and info.memory_bytes
        frame = ImageFrame.decode((await next_of(view, FrameType.SCREEN)).payload)
        assert frame.full and frame.data.startswith(b"\x89PNG")
        await view.send(FrameType.INPUT, InputEvent("key_down", key="a", code="KeyA", modifiers=()).encode())
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await view.abort()

    run(scenario())
    assert received == [InputEvent("key_down", key="a", code="KeyA", modifiers=())]


def test_many_sessions_at_once(relay, tickets):
    async def one(i: int):
        dev = await device(relay, tickets("device", session_id=f"many{i}"))
        view = await viewer(relay, tickets("viewer", session_id=f"many{i}"))
        await status_of(view)
        await dev.send(FrameType.SCREEN, numbered(i))
        assert number_of((await next_of(view, FrameType.SCREEN)).payload) == i
        await dev.close()
        await view.abort()

    async def scenario():
        await asyncio.gather(*(one(i) for i in range(30)))

    run(scenario())




@pytest.mark.parametrize("kind", ["remote_control", "camera"])
def test_a_viewer_asks_for_fresh_diagnostics(relay, tickets, reports, kind):
    """An agent's "refresh diagnostics": the viewer's REFRESH reaches the device (as
    the relay's own, rate-limited), the device answers with its current info, and
    the relay passes it to the viewers and reports it to the app."""
    fresh = DeviceInfo(model="after refresh")

    async def scenario():
        dt, dtok = tickets("device", kind=kind, session_id=f"refresh-{kind}")
        client = DeviceClient(*tcp(relay), dtok, dt.key, fps=5, device_info=DeviceInfo(model="at start"),
                              refresh_info=lambda: fresh)
        task = asyncio.create_task(client.run(duration=5))
        view = await viewer(relay, tickets("viewer", kind=kind, session_id=f"refresh-{kind}"))
        first = DeviceInfo.decode((await next_of(view, FrameType.DEVICE_INFO)).payload)
        assert first.model == "at start"
        await next_of(view, FrameType.SCREEN if kind == "remote_control" else FrameType.CAMERA)
        await asyncio.sleep(0.6)  # past any refresh the relay asked for when the viewer joined
        before = client.refreshes
        for _ in range(3):  # asking often reaches the device at most once per interval
            await view.send(FrameType.REFRESH)
        assert DeviceInfo.decode((await next_of(view, FrameType.DEVICE_INFO)).payload) == fresh
        await asyncio.sleep(0.2)
        assert client.refreshes == before + 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await view.abort()

    run(scenario())
    models = [r.device_info["model"] for _, r in reports.read(count=1000) if r.type == "device_info"]
    assert models[-1] == "after refresh" and "at start" in models
