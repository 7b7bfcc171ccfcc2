"""Remote control and camera sharing end to end, through the app's API and a real relay:
tickets → device and viewer connected → frames and input flow → events in the tenant
→ device info on the session's device → an encrypted recording that plays back."""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from typing import Any, Callable

import pytest

from guidepath.core.plugins import PluginInfo, hookimpl
from guidepath.relay.client import RelayClient
from guidepath.relay.protocol import DeviceInfo, FrameType, ImageFormat, ImageFrame, InputEvent
from guidepath.relay.recording import RecordingReader

EVENT_WAIT = 90.0  # server mode: outbox → Kafka → dispatcher; a new tenant's topics are found late


def run(coro: Any, timeout: float = 30.0) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


class EventLog:
    PLUGIN = PluginInfo(name="test_relay_events", default_enabled=True)

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def handle_event(self, event):
        self.events.append(event)

    def wait_for(self, check: Callable[[Any], bool], what: str) -> Any:
        deadline = time.monotonic() + EVENT_WAIT
        while time.monotonic() < deadline:
            for event in list(self.events):
                if check(event):
                    return event
            time.sleep(0.1)
        pytest.fail(f"no {what} event within {EVENT_WAIT:.0f}s; saw {[e.type for e in self.events]}")


@pytest.fixture
def event_log(register_plugin) -> EventLog:
    log = EventLog()
    register_plugin(log)
    return log


def taken_session(tenant) -> dict:
    me = tenant.admin.get("/api/v1/auth/me").json()
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "waiting"})
    assert tenant.admin.post(f"/api/v1/sessions/{session['id']}/state",
                             json={"state": "active", "agent_id": me["id"]}).status_code == 200
    return session


def ticket(client, session_id: str, kind: str, role: str) -> dict:
    answer = client.post(f"/api/v1/sessions/{session_id}/relay-tickets", json={"kind": kind, "role": role})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def connect(grant: dict) -> RelayClient:
    key = base64.urlsafe_b64decode(grant["key"] + "=" * (-len(grant["key"]) % 4))
    if grant["role"] == "device":
        host, port = grant["relay"]["tcp"].rsplit(":", 1)
        return await RelayClient.connect_tcp(host, int(port), grant["ticket"], key)
    return await RelayClient.connect_ws(grant["relay"]["ws"], grant["ticket"], key)


async def next_of(client: RelayClient, kind: FrameType, timeout: float = 10.0):
    return await client.next_of(kind, timeout=timeout)


def screen(n: int) -> bytes:
    return ImageFrame.whole(ImageFormat.RAW_RGBA, 2, 2, struct.pack(">I", n) + bytes(12)).encode()


@pytest.mark.parametrize("kind", ["remote_control", "camera"])
def test_a_device_and_an_agent_meet_on_the_relay(tenant, running_relay, event_log, kind):
    session = taken_session(tenant)
    device_grant = ticket(tenant.admin, session["id"], kind, "device")
    viewer_grant = ticket(tenant.admin, session["id"], kind, "viewer")
    assert device_grant["relay"]["id"] == viewer_grant["relay"]["id"]
    frame_type = FrameType.SCREEN if kind == "remote_control" else FrameType.CAMERA

    async def scenario() -> None:
        device = await connect(device_grant)
        viewer = await connect(viewer_grant)
        for n in range(3):
            await device.send(frame_type, screen(n))
            assert ImageFrame.decode((await next_of(viewer, frame_type)).payload).data[:4] == struct.pack(">I", n)
        if kind == "remote_control":
            click = InputEvent("pointer_down", x=1, y=1, button=0)
            await viewer.send(FrameType.INPUT, click.encode())
            assert InputEvent.decode((await next_of(device, FrameType.INPUT)).payload) == click
        await viewer.close()
        await device.close()

    run(scenario())
    for role in ("device", "viewer"):
        connected = event_log.wait_for(
            lambda e: e.type == "relay.connected" and e.tenant_id == tenant.id
            and e.data["session_id"] == session["id"] and e.data["role"] == role, f"relay.connected {role}")
        assert connected.data["kind"] == kind and connected.data["relay_id"] == device_grant["relay"]["id"]
    event_log.wait_for(lambda e: e.type == "relay.disconnected" and e.tenant_id == tenant.id
                       and e.data["session_id"] == session["id"], "relay.disconnected")


def test_a_ticket_is_single_use_and_bound_to_its_tenant(tenant_factory, running_relay):
    from guidepath.relay.client import RelayRefused
    from guidepath.relay.protocol import CloseCode

    a, b = tenant_factory(), tenant_factory()
    session_a, session_b = taken_session(a), taken_session(b)
    grant = ticket(a.admin, session_a["id"], "remote_control", "device")
    b_viewer = ticket(b.admin, session_b["id"], "remote_control", "viewer")

    async def scenario() -> None:
        device = await connect(grant)
        with pytest.raises(RelayRefused) as reused:
            await connect(grant)
        assert reused.value.code == CloseCode.TICKET_USED
        # B's viewer is paired with B's session only: A's device frames never reach it.
        viewer = await connect(b_viewer)
        await device.send(FrameType.SCREEN, screen(7))
        with pytest.raises(asyncio.TimeoutError):
            await next_of(viewer, FrameType.SCREEN, timeout=1.0)
        await viewer.close()
        await device.close()

    run(scenario())


def test_device_info_lands_on_the_sessions_device(tenant, running_relay):
    session = taken_session(tenant)
    grant = ticket(tenant.admin, session["id"], "remote_control", "device")
    info = DeviceInfo(manufacturer="Acme", brand="Acme", model="Phone 9", os_name="Android", os_version="15",
                      memory_bytes=8 << 30, processor="Arm v9", device_name="Eve's phone",
                      serial_number="SN-123", extra={"battery": 81})

    async def scenario() -> None:
        device = await connect(grant)
        await device.send(FrameType.DEVICE_INFO, info.encode())
        await asyncio.sleep(0.2)
        await device.close()

    run(scenario())
    deadline = time.monotonic() + 30
    while True:
        shown = tenant.admin.get(f"/api/v1/sessions/{session['id']}/diagnostics").json()
        if shown["device_id"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert {k: shown[k] for k in ("manufacturer", "model", "os_name", "memory_bytes", "serial_number")} == {
        "manufacturer": "Acme", "model": "Phone 9", "os_name": "Android", "memory_bytes": 8 << 30,
        "serial_number": "SN-123"}
    assert shown["extra"] == {"battery": 81}
    device = tenant.admin.get(f"/api/v1/devices/{shown['device_id']}").json()
    assert device["device_name"] == "Eve's phone"


def test_a_recording_is_encrypted_at_rest_and_plays_back_byte_identical(tenant, tenant_factory, running_relay,
                                                                         event_log):
    assert tenant.admin.put("/api/v1/plugins/remote_control",
                            json={"enabled": True, "settings": {"recording": True}}).status_code == 200
    tenant.kernel.forget_plugin_states(tenant.id)
    session = taken_session(tenant)
    grant = ticket(tenant.admin, session["id"], "remote_control", "device")
    assert grant["recording"] is True
    sent = [screen(n) for n in range(5)]
    marker = b"PLAINTEXT-MARKER-" + bytes(range(32))

    async def scenario() -> None:
        device = await connect(grant)
        for payload in sent:
            await device.send(FrameType.SCREEN, payload)
            await asyncio.sleep(0.01)
        await device.send(FrameType.CLIPBOARD, marker)
        await device.close()

    run(scenario())
    saved = event_log.wait_for(lambda e: e.type == "recording.saved" and e.tenant_id == tenant.id
                               and e.data["session_id"] == session["id"], "recording.saved")
    listed = tenant.admin.get(f"/api/v1/sessions/{session['id']}/recordings").json()["items"]
    assert [r["id"] for r in listed] == [saved.data["file_id"]]

    body = tenant.admin.get(f"/api/v1/sessions/{session['id']}/recordings/{saved.data['file_id']}")
    assert body.status_code == 200
    records = list(RecordingReader([body.content]).records())
    assert [r.payload for r in records if r.type is FrameType.SCREEN] == sent
    assert [r.payload for r in records if r.type is FrameType.CLIPBOARD] == [marker]
    stored = (tenant.kernel.files.container_path(tenant.id) / saved.data["file_id"]).read_bytes()
    assert marker not in stored and sent[0] not in stored

    other = tenant.admin.post("/api/v1/sessions", json={}).json()
    assert tenant.admin.get(f"/api/v1/sessions/{other['id']}/recordings/{saved.data['file_id']}").status_code == 404
    # Another tenant reaches neither the session's recordings nor the file from a session of its own.
    b = tenant_factory()
    assert b.admin.get(f"/api/v1/sessions/{session['id']}/recordings").status_code == 404
    b_session = b.admin.post("/api/v1/sessions", json={}).json()
    assert b.admin.get(f"/api/v1/sessions/{b_session['id']}/recordings/{saved.data['file_id']}").status_code == 404
    assert b.admin.get(f"/api/v1/sessions/{b_session['id']}/recordings").json()["items"] == []


def test_without_a_relay_plugin_for_the_kind_there_is_no_ticket(tenant):
    session = taken_session(tenant)
    assert tenant.admin.put("/api/v1/plugins/camera_share", json={"enabled": False}).status_code == 200
    tenant.kernel.forget_plugin_states(tenant.id)
    refused = tenant.admin.post(f"/api/v1/sessions/{session['id']}/relay-tickets",
                                json={"kind": "camera", "role": "device"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "capability_unavailable"
    caps = tenant.admin.get(f"/api/v1/sessions/{session['id']}").json()["capabilities"]
    assert "camera" not in caps and "remote_control" in caps and "diagnostics" in caps


def test_every_ticket_of_a_session_names_the_same_relay(tenant, running_relay):
    """With several relays, a device and its viewers must meet: the session keeps the
    relay its first ticket named, while the least loaded one serves new sessions."""
    from guidepath.relay.hosting import hosting_for
    from guidepath.relay.registry import RelayInfo

    registry = hosting_for(tenant.kernel).registry
    first = taken_session(tenant)
    ours = ticket(tenant.admin, first["id"], "remote_control", "device")["relay"]["id"]
    # An idle relay that wins every choice of the least loaded (load 0, first by id).
    idle = RelayInfo("aaa-idle-relay", "127.0.0.1:9", "ws://127.0.0.1:9/", load=0, capacity=1_000_000)
    registry.register(idle, ttl_seconds=60)
    try:
        for role in ("viewer", "device", "viewer"):
            assert ticket(tenant.admin, first["id"], "remote_control", role)["relay"]["id"] == ours
        assert ticket(tenant.admin, taken_session(tenant)["id"], "remote_control", "viewer")["relay"]["id"] \
            == idle.relay_id
        # The session's relay died: its next ticket moves it to a live one, and it stays there.
        moved = taken_session(tenant)
        tenant.context().cache.set(f"relay:remote_control:{moved['id']}", b"relay-that-died")
        assert ticket(tenant.admin, moved["id"], "remote_control", "device")["relay"]["id"] == idle.relay_id
        assert tenant.context().cache.get(f"relay:remote_control:{moved['id']}") == idle.relay_id.encode()
    finally:
        registry.unregister(idle.relay_id)


def test_the_agent_refreshes_the_devices_diagnostics(tenant, running_relay):
    """The viewer's REFRESH → the device reads its diagnostics again → the relay reports
    them → the diagnostics plugin stores them on the session's device."""
    from guidepath.relay.device_client import DeviceClient

    session = taken_session(tenant)
    device_grant = ticket(tenant.admin, session["id"], "remote_control", "device")
    viewer_grant = ticket(tenant.admin, session["id"], "remote_control", "viewer")
    battery = iter(range(100, 0, -1))  # each reading of the device is a percent lower

    def reading() -> DeviceInfo:
        return DeviceInfo(model="Phone 9", extra={"battery_percent": next(battery)})

    host, port = device_grant["relay"]["tcp"].rsplit(":", 1)
    key = base64.urlsafe_b64decode(device_grant["key"] + "=" * (-len(device_grant["key"]) % 4))

    def stored_battery() -> int | None:
        shown = tenant.admin.get(f"/api/v1/sessions/{session['id']}/diagnostics").json()
        return shown["extra"].get("battery_percent")

    def wait_for(check, what: str) -> int:
        deadline = time.monotonic() + 30
        while not check(value := stored_battery()):
            assert time.monotonic() < deadline, f"diagnostics never showed {what}: {value}"
            time.sleep(0.1)
        return value

    async def scenario() -> None:
        device = DeviceClient(host, int(port), device_grant["ticket"], key, fps=5,
                              device_info=reading(), refresh_info=reading)
        task = asyncio.create_task(device.run(duration=20))
        viewer = await connect(viewer_grant)
        await next_of(viewer, FrameType.SCREEN)
        await asyncio.sleep(0.6)  # past the refresh the relay may have asked for on joining
        before = await asyncio.to_thread(wait_for, lambda v: v is not None and v < 101, "a first report")
        refreshes = device.refreshes
        await viewer.send(FrameType.REFRESH)
        after = await asyncio.to_thread(wait_for, lambda v: v is not None and v < before, "a fresh report")
        assert device.refreshes == refreshes + 1 and after == before - 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await viewer.close()

    run(scenario(), timeout=60)
