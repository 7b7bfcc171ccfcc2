"""The ``/nexus`` viewer in real headless Chromium against a real relay, on both backends.

The reference device client (:class:`guidepath.relay.device_client.DeviceClient`) joins
the session with a device ticket from the API, in a thread of its own, and shares a
picture of four coloured quadrants (plus a raw RGBA region over one corner); the agent
signs in on the page, which gets a viewer ticket, speaks the protocol with
``relay-codec.js`` over WebSocket and draws the frames on a canvas. The tests read the
canvas's pixels back, click and type on it and check what the device received, with
coordinates scaled from the page to the device's display. The relay is the app's
(``running_relay``: the in-process one when embedded, one in a thread registered in
Redis in server mode). Without Chromium the tests are skipped with the reason, unless
``GUIDEPATH_REQUIRE_BROWSER=1`` makes that a failure.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
import time
from typing import Self

import pytest
from guidepath.relay.device_client import DeviceClient
from guidepath.relay.png import encode_png
from guidepath.relay.protocol import DeviceInfo, ImageFormat, ImageFrame, InputEvent

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000

# A display wider than the page has room for, so the canvas is scaled down on screen and
# the page must scale pointer positions back up.
WIDTH, HEIGHT = 1600, 1000
RED, GREEN, BLUE, WHITE, MAGENTA = (220, 30, 30), (30, 200, 60), (40, 60, 230), (250, 250, 250), (255, 0, 255)
REGION = (40, 30, 8, 6)  # x, y, w, h of a raw RGBA patch drawn over the red quadrant




def quadrants_png(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    half_w, half_h = width // 2, height // 2
    top = bytes(RED) * half_w + bytes(GREEN) * (width - half_w)
    bottom = bytes(BLUE) * half_w + bytes(WHITE) * (width - half_w)
    return encode_png(width, height, top * half_h + bottom * (height - half_h))


def device_frames() -> itertools.chain:
    """A full PNG frame, then a raw RGBA region, then the full frame again and again
    (every frame a viewer joining later starts from is a full one)."""
    full = ImageFrame.whole(ImageFormat.PNG, WIDTH, HEIGHT, quadrants_png())
    x, y, w, h = REGION
    patch = ImageFrame(ImageFormat.RAW_RGBA, x, y, w, h, WIDTH, HEIGHT, (bytes(MAGENTA) + b"\xff") * (w * h))

    def forever():
        while True:
            yield full
            for _ in range(3):
                yield patch

    return itertools.chain(forever())


class DeviceThread:
    """The reference device client on its own event loop, collecting the input it gets."""

    def __init__(self, grant: dict, *, fps: float = 8.0, frames=None) -> None:
        host, port = grant["relay"]["tcp"].rsplit(":", 1)
        key = base64.urlsafe_b64decode(grant["key"] + "=" * (-len(grant["key"]) % 4))
        self.inputs: list[InputEvent] = []
        self.error: BaseException | None = None
        self.device = DeviceClient(
            host, int(port), grant["ticket"], key, fps=fps, frames=frames or device_frames(),
            on_input=self.inputs.append,
            device_info=DeviceInfo(manufacturer="Acme", model="Test Phone 7", os_name="Android",
                                   os_version="15", memory_bytes=6 << 30, extra={"battery": 77}),
        )
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="test-device", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            running = asyncio.create_task(self.device.run(duration=120))
            stopping = asyncio.create_task(self._stop.wait())
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for task in (running, stopping):
                task.cancel()
            results = await asyncio.gather(running, stopping, return_exceptions=True)
            if isinstance(results[0], Exception):
                self.error = results[0]

        try:
            self._loop.run_until_complete(main())
        finally:
            self._loop.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def wait_for_input(self, check, what: str, timeout: float = 10.0) -> InputEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.inputs):
                if check(event):
                    return event
            time.sleep(0.05)
        raise AssertionError(f"the device got no {what}; it got {[e.to_dict() for e in self.inputs]}")


def taken_session(tenant) -> dict:
    me = tenant.admin.get("/api/v1/auth/me").json()
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "waiting"})
    answer = tenant.admin.post(f"/api/v1/sessions/{session['id']}/state",
                               json={"state": "active", "agent_id": me["id"]})
    assert answer.status_code == 200, answer.text
    return session


def device_ticket(tenant, session_id: str, kind: str = "remote_control") -> dict:
    answer = tenant.admin.post(f"/api/v1/sessions/{session_id}/relay-tickets", json={"kind": kind, "role": "device"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_until(page, expression: str, what: str | None = None, timeout_ms: int = TIMEOUT_MS):
    """Poll with ``evaluate`` (DevTools; the page's CSP rightly refuses wait_for_function's eval)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.05)
    state = page.evaluate("JSON.stringify(window.gpNexus || null)")
    raise AssertionError(f"timed out waiting for {what or expression}; page state: {state}")


PIXEL = """([id, x, y]) => Array.from(document.getElementById(id).getContext("2d").getImageData(x, y, 1, 1).data)"""


def pixel(page, x: int, y: int, canvas: str = "gp-canvas") -> tuple[int, ...]:
    return tuple(page.evaluate(PIXEL, [canvas, x, y])[:3])


def assert_colour(actual: tuple[int, ...], expected: tuple[int, int, int], where: str) -> None:
    assert all(abs(a - e) <= 3 for a, e in zip(actual, expected)), f"{where}: {actual} is not {expected}"


def open_signed_in(browser, tenant, path: str):
    """Open ``path`` anonymously, sign in with the page's form, and wait for the viewer."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    response = page.goto(f"http://{tenant.host}{path}")
    assert response.status == 401
    page.fill("#gp-email", tenant.admin_email)
    page.fill("#gp-password", tenant.admin_password)
    with page.expect_navigation():
        page.click("#gp-signin-submit")
    page.wait_for_selector("#gp-canvas")
    return context, page, console


def drop_viewers(relay, session_id: str) -> int:
    """On the relay's loop: close the session's viewer connections with GOING_AWAY."""
    from guidepath.relay.protocol import CloseCode

    viewers = [c for c in list(relay.server._connections)
               if c.ticket.role == "viewer" and c.ticket.session_id == session_id]
    for conn in viewers:
        conn.close(CloseCode.GOING_AWAY, "test: relay going away")
    return len(viewers)


def page_errors(console: list[str]) -> list[str]:
    """Console errors, but for the sign-in page's own 401 (the first load, anonymous)."""
    return [line for line in console if line.startswith(("error", "pageerror")) and "status of 401" not in line]


def check_quadrants(page, canvas: str = "gp-canvas", width: int = WIDTH, height: int = HEIGHT) -> None:
    assert page.evaluate(f"[document.getElementById('{canvas}').width, document.getElementById('{canvas}').height]") \
        == [width, height]
    assert_colour(pixel(page, width // 4, height // 4, canvas), RED, "top left")
    assert_colour(pixel(page, 3 * width // 4, height // 4, canvas), GREEN, "top right")
    assert_colour(pixel(page, width // 4, 3 * height // 4, canvas), BLUE, "bottom left")
    assert_colour(pixel(page, 3 * width // 4, 3 * height // 4, canvas), WHITE, "bottom right")


def test_the_agent_sees_the_screen_and_drives_the_device(browser, tenant, running_relay):
    session = taken_session(tenant)
    with DeviceThread(device_ticket(tenant, session["id"])) as device:
        context, page, console = open_signed_in(browser, tenant, f"/nexus/{session['id']}")
        try:
            wait_until(page, "window.gpNexus.state === 'connected' && window.gpNexus.framesDrawn >= 2",
                       "connected with frames drawn")
            check_quadrants(page)
            # The raw RGBA region lands where the device put it.
            x, y, w, h = REGION
            wait_until(page, f"""(() => {{ const d = document.getElementById("gp-canvas").getContext("2d")
                .getImageData({x + w // 2}, {y + h // 2}, 1, 1).data; return d[0] === 255 && d[1] === 0; }})()""",
                       "the raw region drawn")
            assert_colour(pixel(page, x - 1, y), RED, "beside the region")

            # Scaled: the canvas is shown smaller than the display.
            box = page.locator("#gp-canvas").bounding_box()
            assert box["width"] < WIDTH * 0.9, box
            page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
            down = device.wait_for_input(lambda e: e.type == "pointer_down", "pointer_down")
            tolerance = 2 * WIDTH / box["width"]
            assert abs(down.x - 0.75 * WIDTH) <= tolerance and abs(down.y - 0.25 * HEIGHT) <= tolerance, down
            assert down.button == 0
            up = device.wait_for_input(lambda e: e.type == "pointer_up", "pointer_up")
            assert (up.x, up.y) == (down.x, down.y)

            page.mouse.click(box["x"] + 2, box["y"] + box["height"] - 2, button="right")
            right = device.wait_for_input(lambda e: e.type == "pointer_down" and e.button == 2, "right click")
            assert right.x <= tolerance and right.y >= HEIGHT - 1 - tolerance

            page.keyboard.press("Shift+KeyA")
            key = device.wait_for_input(lambda e: e.type == "key_down" and e.key == "A", "key_down A")
            assert key.code == "KeyA" and key.modifiers == ("shift",)

            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, 120)
            scroll = device.wait_for_input(lambda e: e.type == "scroll", "scroll")
            assert scroll.dy > 0 and abs(scroll.x - WIDTH / 2) <= tolerance

            # Device info panel, peer status and the quality indicator (latency from PING/PONG).
            wait_until(page, "window.gpNexus.deviceInfo !== null", "device info")
            panel = page.text_content("#gp-device-info")
            assert "Test Phone 7" in panel and "Acme" in panel and "6.0 GiB" in panel and "battery" in panel
            assert page.evaluate("window.gpNexus.peer") == "connected"
            wait_until(page, "window.gpNexus.latencyMs !== null && window.gpNexus.fps > 0", "latency and fps",
                       timeout_ms=10_000)
            assert page.get_attribute("#gp-quality", "data-level") in ("good", "fair", "poor")

            # End: the viewer closes with a reason and does not come back.
            page.click("#gp-end")
            wait_until(page, "window.gpNexus.state === 'ended'")
            page.wait_for_timeout(700)
            assert page.evaluate("window.gpNexus.state") == "ended"
            assert page.evaluate("window.gpNexus.connections") == 1
        finally:
            context.close()
    assert device.error is None, device.error
    assert not page_errors(console), console


def test_a_lost_connection_comes_back_with_a_new_ticket(browser, tenant, running_relay):
    session = taken_session(tenant)
    with DeviceThread(device_ticket(tenant, session["id"])):
        context, page, _console = open_signed_in(browser, tenant, f"/nexus/{session['id']}")
        try:
            wait_until(page, "window.gpNexus.state === 'connected' && window.gpNexus.framesDrawn >= 1")
            # The relay drops the viewer (as when it shuts down: 1001, "reconnect with a new
            # ticket"); the page asks for a new ticket and connects again.
            dropped = running_relay.call(lambda: drop_viewers(running_relay, session["id"]))
            assert dropped == 1
            wait_until(page, "window.gpNexus.connections >= 2 && window.gpNexus.state === 'connected'",
                       "a second connection")
            wait_until(page, "window.gpNexus.framesReceived >= 2", "frames on the new connection")
            assert page.is_hidden("#gp-message")
            assert page.evaluate("window.gpNexus.close") == {"code": 1001, "reason": "test: relay going away"}
        finally:
            context.close()


def test_the_camera_is_view_only(browser, tenant, running_relay):
    session = taken_session(tenant)
    # The camera plugin's default limit is 1280x720; camera frames are always whole pictures.
    picture = ImageFrame.whole(ImageFormat.PNG, 1200, 700, quadrants_png(1200, 700))
    with DeviceThread(device_ticket(tenant, session["id"], kind="camera"),
                      frames=itertools.repeat(picture)) as device:
        context, page, _console = open_signed_in(browser, tenant, f"/nexus/{session['id']}?kind=camera")
        try:
            wait_until(page, "window.gpNexus.state === 'connected' && window.gpNexus.framesDrawn >= 1")
            check_quadrants(page, width=1200, height=700)
            box = page.locator("#gp-canvas").bounding_box()
            page.mouse.click(box["x"] + 10, box["y"] + 10)
            page.keyboard.press("KeyA")
            page.wait_for_timeout(500)
            assert page.evaluate("window.gpNexus.inputsSent") == 0
            assert device.inputs == []
        finally:
            context.close()


def test_a_recording_plays_back_on_the_canvas(browser, tenant, running_relay):
    assert tenant.admin.put("/api/v1/plugins/remote_control",
                            json={"enabled": True, "settings": {"recording": True}}).status_code == 200
    tenant.kernel.forget_plugin_states(tenant.id)
    session = taken_session(tenant)
    grant = device_ticket(tenant, session["id"])
    assert grant["recording"] is True
    with DeviceThread(grant) as device:
        deadline = time.monotonic() + 10
        while device.device.sent < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    # The device said CLOSE 1000: the session ends and the relay saves the recording.
    recordings_url = f"/api/v1/sessions/{session['id']}/recordings"
    deadline = time.monotonic() + 30
    while not (items := tenant.admin.get(recordings_url).json()["items"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert items, "no recording was saved"

    context, page, console = open_signed_in(browser, tenant, f"/nexus/{session['id']}")
    try:
        page.wait_for_selector(f"#gp-recordings button[data-file-id='{items[0]['id']}']")
        page.click(f"#gp-recordings button[data-file-id='{items[0]['id']}']")
        wait_until(page, "window.gpNexus.playback.state === 'paused' && window.gpNexus.playback.framesDrawn >= 1",
                   "the recording loaded")
        check_quadrants(page, "gp-playback-canvas")
        duration = page.evaluate("window.gpNexus.playback.duration")
        assert duration > 0
        page.click("#gp-play")
        wait_until(page, "window.gpNexus.playback.state === 'ended'", "playback to the end",
                   timeout_ms=int(duration * 1000) + 10_000)
        assert page.evaluate("window.gpNexus.playback.position") == pytest.approx(duration)
        # Seeking back shows the picture at that moment again.
        page.evaluate("window.gpNexus.seek(0.01)")
        wait_until(page, "window.gpNexus.playback.position < 0.1")
        check_quadrants(page, "gp-playback-canvas")
    finally:
        context.close()
    assert not page_errors(console), console
