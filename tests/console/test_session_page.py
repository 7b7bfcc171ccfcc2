"""A session's page: customer and device, chat with the customer (live, both ways),
typing, private notes, canned responses, the timeline, take, transfer, invite, end
with an outcome, and the read-only page once it has ended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from console_support import PASSWORD, agent, customer_client, move, new_session, screenshot, signed_in_page

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'
DEMO_PATH = Path(__file__).resolve().parents[2] / "guided_paths" / "demo_paths" / "phone-wont-charge.json"


@pytest.fixture
def helped(tenant):
    """A waiting session of a customer with a device that reported its diagnostics."""
    customer = tenant.admin.post("/api/v1/customers", json={
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0958"}).json()
    device = tenant.admin.post("/api/v1/devices", json={
        "customer_id": customer["id"], "manufacturer": "Samsung", "brand": "Galaxy", "model": "S24",
        "os_name": "Android", "os_version": "15", "memory_bytes": 8 << 30, "processor": "Snapdragon 8 Gen 3",
        "device_name": "Ada's phone", "serial_number": "R5CX10ABCDE"}).json()
    session = new_session(tenant.admin, customer_id=customer["id"], device_id=device["id"])
    return move(tenant.admin, session["id"], "waiting")


def open_session(browser, tenant, session_id: str, email: str | None = None, password: str | None = None):
    page = signed_in_page(browser, tenant, email or tenant.admin_email, password or tenant.admin_password,
                   f"/sessions/{session_id}")
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector("#gp-live[data-state='open']")
    return page


def test_the_page_shows_the_customer_and_every_diagnostics_field(browser, tenant, helped):
    page = open_session(browser, tenant, helped["id"])
    assert page.locator("#gp-session-title").inner_text() == "Ada Lovelace"
    assert "ada@example.com" in page.locator("#gp-customer").inner_text()
    device = {cell.get_attribute("data-field"): cell.inner_text()
              for cell in page.locator("#gp-device dd[data-field]").all()}
    assert device == {"manufacturer": "Samsung", "brand": "Galaxy", "model": "S24", "os_name": "Android",
                      "os_version": "15", "memory_bytes": "8.0 GiB", "processor": "Snapdragon 8 Gen 3",
                      "device_name": "Ada's phone", "serial_number": "R5CX10ABCDE"}
    # Refreshed on request: what the device reports later shows up without a reload.
    tenant.admin.patch(f"/api/v1/devices/{helped['device_id']}", json={"os_version": "16"}).raise_for_status()
    page.click("#gp-device-refresh")
    page.wait_for_selector("#gp-device dd[data-field='os_version']:text-is('16')")
    # Remote control and camera open the viewer in a new tab.
    assert page.locator("#gp-link-remote-control-open").get_attribute("href") == (
        f"/nexus/{helped['id']}?kind=remote_control")
    assert page.locator("#gp-link-camera-open").get_attribute("target") == "_blank"
    assert page.errors == []


def test_take_then_chat_with_the_customer_both_ways(browser, tenant, helped):
    page = open_session(browser, tenant, helped["id"])
    page.click("#gp-take")
    page.wait_for_selector("#gp-session-state:text-is('active')")
    assert page.locator("#gp-take").is_hidden()

    customer, _ = customer_client(tenant, helped["id"])
    page.fill("#gp-chat-input", "Hello Ada, I can see your phone.")
    page.keyboard.press("Enter")
    page.wait_for_selector("#gp-chat .gp-msg[data-author='agent']")
    seen = customer.get(f"/api/v1/sessions/{helped['id']}/messages").json()["items"]
    assert [m["body"] for m in seen] == ["Hello Ada, I can see your phone."]  # the customer reads it

    reply = customer.post(f"/api/v1/sessions/{helped['id']}/messages", json={"kind": "chat", "body": "Thanks!"})
    assert reply.status_code == 201, reply.text
    page.wait_for_selector("#gp-chat .gp-msg[data-author='customer']:has-text('Thanks!')")
    # The timeline records the conversation as it happens.
    page.wait_for_selector("#gp-timeline li[data-type='session.message_posted']")


def test_a_guided_path_runs_beside_the_chat(browser, tenant, helped):
    """The picture of a session at work (docs/screenshots/session.png): the demo path
    "Phone won't charge" started from the session's runner panel, one step answered."""
    document = json.loads(DEMO_PATH.read_text())
    imported = tenant.admin.post("/api/v1/guided-paths/import", params={"publish": "true"}, json=document)
    assert imported.status_code in (200, 201), imported.text
    page = open_session(browser, tenant, helped["id"])
    page.click("#gp-take")
    page.wait_for_selector("#gp-session-state:text-is('active')")
    page.wait_for_selector("#gp-runner-path option[data-key='phone-wont-charge']", state="attached")
    page.select_option("#gp-runner-path", label="Phone won't charge")
    page.click("#gp-runner-start")
    page.wait_for_selector("#gp-runner-title:text-is(\"Phone won't charge\")")
    page.wait_for_selector("#gp-timeline li[data-type='run.started']")
    customer, _ = customer_client(tenant, helped["id"])
    customer.post(f"/api/v1/sessions/{helped['id']}/messages",
                  json={"kind": "chat", "body": "It stopped charging yesterday."}).raise_for_status()
    page.wait_for_selector("#gp-chat .gp-msg[data-author='customer']")
    page.fill("#gp-note-input", "Cable replaced last month (ticket 4411)")
    page.click("#gp-note-add")
    page.wait_for_selector("#gp-notes .gp-msg")
    screenshot(page, "session", full_page=True)
    assert page.errors == []


def test_another_agent_sees_me_typing_and_my_notes_but_the_customer_never_sees_notes(browser, tenant, helped):
    _, colleague = agent(tenant, "Colleague Agent")
    mine = open_session(browser, tenant, helped["id"])
    theirs = open_session(browser, tenant, helped["id"], colleague["email"], PASSWORD)
    mine.type("#gp-chat-input", "Let me check")
    theirs.wait_for_selector("#gp-typing:has-text('is typing')")
    mine.fill("#gp-chat-input", "")
    mine.dispatch_event("#gp-chat-input", "input")
    theirs.wait_for_selector("#gp-typing:text-is('')")

    mine.fill("#gp-note-input", "Battery health is 71%")
    mine.click("#gp-note-add")
    theirs.wait_for_selector("#gp-notes .gp-msg:has-text('Battery health is 71%')")
    customer, _ = customer_client(tenant, helped["id"])
    assert customer.get(f"/api/v1/sessions/{helped['id']}/messages").json()["items"] == []


def test_canned_responses_are_picked_with_a_slash(browser, tenant, helped):
    created = tenant.admin.post("/api/v1/canned-responses", json={
        "title": "Restart", "shortcut": "/restart", "body": "Please hold the power button for ten seconds."})
    assert created.status_code == 201, created.text
    page = open_session(browser, tenant, helped["id"])
    page.click("#gp-take")
    page.wait_for_selector("#gp-session-state:text-is('active')")
    page.type("#gp-chat-input", "/rest")
    page.wait_for_selector("#gp-canned [data-canned='/restart']")
    page.keyboard.press("Enter")  # picks it
    assert page.input_value("#gp-chat-input") == "Please hold the power button for ten seconds."
    page.keyboard.press("Enter")  # sends it
    page.wait_for_selector("#gp-chat .gp-msg:has-text('Please hold the power button')")


def test_transfer_to_an_online_colleague(browser, tenant, helped):
    _, colleague = agent(tenant, "Night Shift", availability="online")
    agent(tenant, "Gone Home", availability="offline")
    page = open_session(browser, tenant, helped["id"])
    page.click("#gp-take")
    page.wait_for_selector("#gp-transfer:visible")
    page.click("#gp-transfer")
    options = page.locator("#gp-transfer-agent option")
    page.wait_for_selector("#gp-transfer-agent option[value^='usr_']", state="attached")
    labels = options.all_inner_texts()
    assert any("Night Shift" in label for label in labels) and not any("Gone Home" in label for label in labels)
    page.select_option("#gp-transfer-agent", colleague["id"])
    page.fill("#gp-transfer-note", "Customer prefers email follow-up")
    page.click("#gp-transfer-confirm")
    page.wait_for_selector("#gp-session-agent:has-text('Night Shift')")
    assert tenant.admin.get(f"/api/v1/sessions/{helped['id']}").json()["agent_id"] == colleague["id"]


def test_invite_shows_a_code_the_customer_joins_with(browser, tenant, helped):
    page = open_session(browser, tenant, helped["id"])
    page.click("#gp-invite")
    page.wait_for_selector("#gp-invite-code:not(:text-is('…'))")
    code = page.locator("#gp-invite-code").inner_text()
    assert page.locator("#gp-invite-url").input_value().endswith(f"/join/{code}")
    joined = tenant.client().post("/api/v1/invites/redeem", json={"code": code})
    assert joined.status_code == 200, joined.text
    page.click("#gp-invite-close")
    page.wait_for_selector("#gp-timeline li[data-type='session.customer_joined']")


def test_ending_with_an_outcome_leaves_a_read_only_record(browser, tenant, helped):
    page = open_session(browser, tenant, helped["id"])
    page.click("#gp-take")
    page.wait_for_selector("#gp-session-state:text-is('active')")
    page.keyboard.press("e")
    page.select_option("#gp-end-outcome", "resolved")
    page.fill("#gp-end-resolution", "Replaced the charging cable")
    page.click("#gp-end-confirm")
    page.wait_for_selector("#gp-read-only")
    assert page.locator("#gp-resolution").inner_text() == "Resolution: Replaced the charging cable"
    assert page.locator("#gp-chat-form").count() == 0  # nothing to type into
    assert page.locator("#gp-link-remote-control-recordings").count() == 1  # recordings stay reachable
    page.wait_for_selector("#gp-timeline li:has-text('active → ended')")  # via the bus: may come a moment later


def test_markup_in_chat_notes_and_names_is_shown_as_text(browser, tenant):
    customer = tenant.admin.post("/api/v1/customers", json={"first_name": XSS}).json()
    session = move(tenant.admin, new_session(tenant.admin, customer_id=customer["id"])["id"], "waiting")
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/messages", json={"kind": "note", "body": XSS})
    customer_api, _ = customer_client(tenant, session["id"])
    customer_api.post(f"/api/v1/sessions/{session['id']}/messages", json={"kind": "chat", "body": XSS})
    page = open_session(browser, tenant, session["id"])
    page.wait_for_selector("#gp-chat .gp-msg")
    assert page.locator("#gp-session-title").inner_text() == XSS
    assert XSS in page.locator("#gp-chat").inner_text() and XSS in page.locator("#gp-notes").inner_text()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
