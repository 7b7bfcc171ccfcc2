"""The embeddable agent view: framed only by the origins the tenant's admins list (a
host page served from a second loopback HTTP server), refused everywhere when none
is listed, signed in inside the frame with a partitioned cookie, and its postMessage
API (ready, start-session → session-started, session events) with the host."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from console_support import browser_page, screenshot, wait_for

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Acme portal</title>
<style>body{font-family:system-ui,sans-serif;margin:0;background:#eef1f6}header{background:#0b6e4f;color:#fff;
padding:12px 20px;font-weight:700}main{display:flex;gap:20px;padding:20px}aside{width:260px}
iframe{border:1px solid #c8ced9;border-radius:8px;width:720px;height:620px;background:#fff}</style></head>
<body><header>Acme customer portal</header><main>
<aside><h3>Customer</h3><p>Ada Lovelace<br>ada@example.com</p><button id="start">Start support session</button>
<pre id="log"></pre></aside>
<iframe id="agent" src="EMBED_URL" title="guidepath agent"></iframe></main>
<script>
  const EMBED = new URL("EMBED_URL").origin;
  window.received = [];
  window.addEventListener("message", (event) => {
    if (event.origin !== EMBED) return;
    window.received.push(event.data);
    document.getElementById("log").textContent = event.data.type;
  });
  window.send = (message) => document.getElementById("agent").contentWindow.postMessage(message, EMBED);
  document.getElementById("start").onclick = () => window.send({type: "guidepath:start-session", request_id: "r1",
    customer: {first_name: "Ada", last_name: "Lovelace", email: "ada@example.com"}});
</script></body></html>"""


class HostPage:
    """A page of another site (127.0.0.1, another port) that frames the embed."""

    def __init__(self, embed_url: str) -> None:
        body = HOST_PAGE.replace("EMBED_URL", embed_url).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def frame_of(page, tenant):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame.url.startswith(f"http://{tenant.host}/embed/agent"):
                return frame
        time.sleep(0.1)
    raise AssertionError(f"no embed frame; frames: {[f.url for f in page.frames]}")


def received(page, kind: str, timeout: float = 10):
    return wait_for(page, f"window.received.find(m => m.type === {kind!r})", kind, timeout)


def test_refused_unless_an_origin_is_listed(tenant, enable_plugin):
    client = tenant.client()
    for state in (None, {"allowed_origins": []}, "disabled"):
        if state == "disabled":
            enable_plugin(tenant, "agent_embed", {"allowed_origins": ["https://portal.example.com"]}, enabled=False)
        elif state is not None:
            enable_plugin(tenant, "agent_embed", state)
        page = client.get("/embed/agent", headers={"Accept": "text/html"})
        assert page.status_code == 403 and "Embedding is off" in page.text
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        signin = client.post("/embed/agent/sign-in", json={"email": tenant.admin_email, "password": "x"})
        assert signin.status_code == 403
    enable_plugin(tenant, "agent_embed", {"allowed_origins": ["https://portal.example.com", "http://localhost:9"]})
    page = client.get("/embed/agent", headers={"Accept": "text/html"})
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors https://portal.example.com;" in csp  # http:// only with allow_loopback_http
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    bad = tenant.admin.put("/api/v1/plugins/agent_embed", json={"settings": {"allowed_origins": ["https://x.com/path"]}})
    assert bad.status_code == 422 and bad.json()["error"]["field"].startswith("settings.allowed_origins")
    foreign = client.post("/embed/agent/sign-in", json={"email": tenant.admin_email, "password": tenant.admin_password},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_framed_by_an_allowed_origin_signs_in_and_talks(browser, tenant, enable_plugin):
    embed_url = f"http://{tenant.host}/embed/agent"
    with HostPage(embed_url) as host, HostPage(embed_url) as other:
        enable_plugin(tenant, "agent_embed", {"allowed_origins": [host.origin], "allow_loopback_http": True})

        # Another site may not frame it: the browser refuses (frame-ancestors).
        page = browser_page(browser, tenant, None, viewport=(1100, 700))
        page.goto(other.origin)
        time.sleep(1)
        frames = [f for f in page.frames if f.url.startswith(f"http://{tenant.host}/embed/agent")]
        assert not frames or frames[0].locator("#gp-embed-signin").count() == 0
        page.context.close()

        page = browser_page(browser, tenant, None, viewport=(1100, 700))
        page.goto(host.origin)
        frame = frame_of(page, tenant)
        frame.wait_for_selector("#gp-embed-signin")
        assert received(page, "guidepath:ready")["signed_in"] is False
        frame.fill("#gp-embed-email", tenant.admin_email)
        frame.fill("#gp-embed-password", tenant.admin_password)
        frame.click("#gp-embed-signin-submit")
        frame = frame_of(page, tenant)
        frame.wait_for_selector("#gp-embed-idle")
        wait_for(page, "window.received.some(m => m.type === 'guidepath:ready' && m.signed_in)", "ready, signed in")
        # The partitioned cookie lives only in frames under the host's site: at the top
        # level the tenant still asks to sign in.
        top = page.context.new_page()
        assert top.goto(f"http://{tenant.host}/queue").url.split("?")[0].endswith("/signin")
        top.close()

        page.evaluate("""window.send({type: "guidepath:start-session", request_id: "r1",
                          customer: {first_name: %r, last_name: "Lovelace", email: "ada@example.com"}})""" % f"Ada {XSS}")
        started = received(page, "guidepath:session-started")
        assert started["request_id"] == "r1" and started["invite"]["code"]
        frame.wait_for_selector("#gp-embed-session:not([hidden])")
        assert frame.text_content("#gp-embed-customer") == f"Ada {XSS} Lovelace"
        assert frame.text_content("#gp-embed-code") == started["invite"]["code"]

        # The customer joins and writes: the host gets the session's events.
        redeemed = tenant.client().post("/api/v1/invites/redeem", json={"code": started["invite"]["code"]}).json()
        joined = wait_for(page, "window.received.find(m => m.type === 'guidepath:event' && "
                                "m.event.type === 'session.customer_joined')", "customer_joined")
        assert joined["session_id"] == started["session_id"] == redeemed["session_id"]
        customer = tenant.client()
        customer.session.headers["Authorization"] = f"Bearer {redeemed['token']}"
        assert customer.post(f"/api/v1/sessions/{redeemed['session_id']}/messages",
                             json={"kind": "chat", "body": f"hi {XSS}"}).status_code == 201
        frame.wait_for_selector("#gp-chat .gp-msg[data-author='customer']")
        assert frame.text_content("#gp-chat .gp-msg[data-author='customer']").endswith(f"hi {XSS}")
        frame.wait_for_selector("#gp-embed-state[data-state='waiting']")
        screenshot(page, "embed-host")

        # Open an existing session; a bad one is an error message back.
        page.evaluate("window.send({type: 'guidepath:open-session', session_id: 'ses_nope', request_id: 'r2'})")
        assert received(page, "guidepath:error")["request_id"] == "r2"
        page.evaluate("window.send({type: 'guidepath:open-session', session_id: %r, request_id: 'r3'})"
                      % redeemed["session_id"])
        assert received(page, "guidepath:session-opened")["state"] == "waiting"

        assert page.evaluate("window.__xss") is None and frame.evaluate("window.__xss") is None
        assert page.errors == []
        page.context.close()
