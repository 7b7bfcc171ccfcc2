"""A Guided Path App in real headless Chromium, on both backends.

Three origins on loopback: the run page on the tenant's host
(``http://{slug}.localhost:PORT``, the live server), the example app
(``app/example-app.html``) on ``http://127.0.0.1:APP`` served here with the SDK's
modules, and a forger on ``http://localhost:APP``. Chromium is Debian's, driven by
Playwright (which never downloads a browser); without it the tests are skipped with
the reason, unless ``GUIDEPATH_REQUIRE_BROWSER=1`` makes that a failure.
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
APP_DIR = Path(__file__).parent / "app"
SDK_DIR = ROOT / "sdk_js" / "src"
APPS = "/api/v1/guided-path-apps"
PATHS = "/api/v1/guided-paths"
RUNS = "/api/v1/runs"
TIMEOUT_MS = 15_000




class _AppFiles(SimpleHTTPRequestHandler):
    """The example app's pages and the SDK modules it imports. The app runs in an
    opaque origin (sandbox without allow-same-origin), so its module requests are
    CORS requests from origin "null": they need Access-Control-Allow-Origin."""

    def translate_path(self, path: str) -> str:
        name = path.split("?", 1)[0].split("#", 1)[0]
        if name.startswith("/sdk/") and name.count("/") == 2:
            return str(SDK_DIR / name.rsplit("/", 1)[1])
        return str(APP_DIR / name.lstrip("/").replace("/", "_"))

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def guess_type(self, path):  # noqa: ANN001 - http.server's signature
        return "text/javascript" if str(path).endswith(".js") else super().guess_type(path)

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def app_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_AppFiles, directory=str(APP_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def setup(tenant, enable_plugin, app_port: int, **app_params: str) -> dict:
    """Register the example app, publish a path (message with an image → app → end)
    and start a run; returns the run."""
    enable_plugin(tenant, "guided_path_apps", {"allow_loopback_http": True})
    admin = tenant.admin
    query = urlencode({"hostOrigin": f"http://{tenant.host}", "evilOrigin": f"http://localhost:{app_port}",
                       **app_params})
    registered = admin.post(APPS, json={
        "key": "line-speed", "title": "Line speed",
        "url": f"http://127.0.0.1:{app_port}/example-app.html?{query}",
        "input_schema": {"type": "object", "required": ["server"], "properties": {"server": {"type": "string"}}},
        "output_schema": {"type": "object", "required": ["mbps"],
                          "properties": {"mbps": {"type": "number", "minimum": 0},
                                         "server": {"type": "string"}}},
    })
    assert registered.status_code == 201, registered.text
    media = admin.post(f"{PATHS}/media", data=tiny_png(), headers={"Content-Type": "image/png"})
    assert media.status_code == 201, media.text
    document = {
        "schema_version": 1, "id": "line-check", "title": "Check the line",
        "variables": {"speed": {"type": "object"}},
        "start": "intro",
        "steps": {
            "intro": {"type": "message", "text": "We will measure your line.",
                      "media": [{"file_id": media.json()["file_id"], "alt": "The router"}], "next": "measure"},
            "measure": {"type": "app", "app_id": "line-speed", "input": {"server": "eu-west"},
                        # The step is stricter than the app: at most 1000 Mbit/s.
                        "output_schema": {"type": "object", "properties": {"mbps": {"maximum": 1000}}},
                        "store_as": "speed", "next": "done"},
            "done": {"type": "end", "outcome": "resolved", "message": "Measured."},
        },
    }
    published = admin.post(f"{PATHS}/import", params={"publish": "true"}, json=document)
    assert published.status_code == 201, published.text
    run = admin.post(RUNS, json={"path_key": "line-check", "mode": "agent"}).json()
    assert run["view"]["type"] == "message"
    return run


def open_page(browser, tenant, run_id: str):
    agent = tenant.client().login(tenant.admin_email, tenant.admin_password)
    context = browser.new_context()
    context.add_cookies([{"name": "gp_session", "value": agent.session.cookies.get("gp_session"),
                          "url": f"http://{tenant.host}"}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    response = page.goto(f"http://{tenant.host}/guided-paths/runs/{run_id}")
    assert response.status == 200
    return context, page, console


def wait_until(target, expression: str, arg=None):
    """Poll ``expression`` in a page or frame with ``evaluate`` (the DevTools protocol,
    which the run page's CSP allows; Playwright's wait_for_function compiles strings
    in the page, which ``script-src 'self'`` rightly refuses)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if target.evaluate(expression, arg):
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expression}")


def app_frame(page):
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "example-app.html" in frame.url:
                return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no app frame among {[f.url for f in page.frames]}")


def state_of(tenant, run_id: str) -> dict:
    return tenant.admin.get(f"{RUNS}/{run_id}").json()


def test_the_app_gets_its_context_and_its_output_advances_the_run(browser, app_server, tenant, enable_plugin):
    run = setup(tenant, enable_plugin, app_server, outputs="42.5", delayMs="1500")
    context, page, console = open_page(browser, tenant, run["id"])
    try:
        # The message with its image, served from the tenant's encrypted file store.
        image = page.locator("#gp-media img")
        wait_until(page, "document.querySelector('#gp-media img').naturalWidth === 3")
        assert image.get_attribute("alt") == "The router"
        page.click("#gp-ack")

        # After the reload: the app step, the app in a sandboxed iframe, CSP frame-src its origin.
        page.wait_for_selector("iframe#gp-app")
        assert page.get_attribute("iframe#gp-app", "sandbox") == "allow-scripts allow-forms"
        frame = app_frame(page)
        wait_until(frame, "window.appState && window.appState.status === 'connected'")
        app_state = frame.evaluate("window.appState")
        assert app_state["context"] == {"run_id": run["id"], "step_id": "measure", "path_key": "line-check",
                                        "locale": None, "input": {"server": "eu-west"}}
        page.wait_for_selector("#gp-end-message")
        assert page.text_content("#gp-end-message") == "Measured."
        done = state_of(tenant, run["id"])
        assert done["status"] == "completed" and done["outcome"] == "resolved"
        assert done["variables"]["speed"] == {"mbps": 42.5, "server": "eu-west"}
    finally:
        context.close()
    assert not [line for line in console if line.startswith("error")], console


def test_bad_outputs_are_refused_with_a_message_and_change_nothing(browser, app_server, tenant, enable_plugin):
    # -1 breaks the app's declared schema (refused in the page, the app is told);
    # 5000 passes it but breaks the step's (refused by the server).
    run = setup(tenant, enable_plugin, app_server, outputs="-1,5000")
    tenant.admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "intro", "value": {"ack": True}})
    before = state_of(tenant, run["id"])
    assert before["status"] == "waiting_app"
    context, page, _console = open_page(browser, tenant, run["id"])
    try:
        wait_until(page, "window.gpRunPage.status === 'refused'")
        errors = page.evaluate("window.gpRunPage.errors")
        assert any("output refused" in e and "/mbps" in e for e in errors), errors
        assert "The app's output was refused" in page.text_content("#gp-error")
        assert "1000" in page.text_content("#gp-error") and page.is_visible("#gp-retry")
        refusals = app_frame(page).evaluate("window.appState.refusals")
        assert [r["code"] for r in refusals] == ["schema"]
        after = state_of(tenant, run["id"])
        assert (after["status"], after["current_step"], after["variables"], after["history"]) == (
            before["status"], before["current_step"], before["variables"], before["history"])
    finally:
        context.close()


def test_messages_from_other_windows_and_origins_are_ignored(browser, app_server, tenant, enable_plugin):
    run = setup(tenant, enable_plugin, app_server, forge="1")
    tenant.admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "intro", "value": {"ack": True}})
    context, page, _console = open_page(browser, tenant, run["id"])
    try:
        frame = app_frame(page)
        wait_until(frame, "window.appState && window.appState.status === 'done'")
        channel = frame.evaluate("window.appState.channel")
        # The run page's own window (its origin is not the app's) posts an output with the
        # right channel, and a frame nested in the app (opaque origin "null", but not the
        # iframe the page made) does too (evil.html).
        page.evaluate("""channel => window.postMessage({type: "guidepath:output", version: 1, channel,
                                                          output: {mbps: 1}}, "*")""", channel)
        wait_until(page, "window.gpRunPage.stats.ignoredBy.source >= 6")
        page.wait_for_timeout(300)
        assert page.evaluate("window.gpRunPage.stats.accepted") == 0
        assert page.evaluate("window.gpRunPage.status") == "app"
        assert state_of(tenant, run["id"])["status"] == "waiting_app"
    finally:
        context.close()


def test_an_app_taken_off_the_allowlist_is_not_embedded(browser, app_server, tenant, enable_plugin):
    run = setup(tenant, enable_plugin, app_server, outputs="10")
    tenant.admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "intro", "value": {"ack": True}})
    assert tenant.admin.delete(f"{APPS}/line-speed").status_code == 204
    context, page, _console = open_page(browser, tenant, run["id"])
    try:
        wait_until(page, "window.gpRunPage.status === 'app_not_allowed'")
        assert "'line-speed' is not registered" in page.text_content("#gp-error")
        assert page.locator("iframe").count() == 0
    finally:
        context.close()
