"""The customer's join page: clear errors for unknown, used and expired codes and for
too many attempts; joining shows the queue position; a reload resumes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from console_support import browser_page, invite, new_session, screenshot, wait_for

pytestmark = pytest.mark.browser


def try_code(page, code: str) -> str:
    page.fill("#gp-join-code", code)
    page.click("#gp-join-submit")
    page.wait_for_selector("#gp-join-error:not([hidden])")
    text = page.text_content("#gp-join-error")
    page.evaluate("document.getElementById('gp-join-error').hidden = true")
    return text


def expire(tenant, invite_id: str) -> None:
    from guidepath.core.domain.tables import invite_codes

    with tenant.context().begin() as conn:
        conn.execute(invite_codes.update().where(invite_codes.c.id == invite_id)
                     .values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))


def test_used_expired_unknown_codes_and_too_many_attempts(browser, tenant):
    session = new_session(tenant.admin)
    used = invite(tenant.admin, session["id"])
    assert tenant.client().post("/api/v1/invites/redeem", json={"code": used["code"]}).status_code == 200
    expired = invite(tenant.admin, session["id"])
    expire(tenant, expired["id"])

    page = browser_page(browser, tenant, "/join", viewport=(900, 700))
    assert page.locator(".gp-topbar").count() == 0
    assert "already been used" in try_code(page, used["code"])
    assert "expired" in try_code(page, expired["code"].lower().replace("-", ""))
    assert "don't know this code" in try_code(page, "ZZZZ-ZZZZ")
    assert "don't know this code" in try_code(page, "nonsense!")
    text = ""
    for _ in range(12):
        text = try_code(page, "ZZZZ-ZZZY")
        if "Too many attempts" in text:
            break
    assert "Too many attempts" in text and "seconds" in text
    assert page.is_hidden("#gp-joined-view")
    assert page.errors == []
    page.context.close()


def test_join_shows_the_queue_and_resumes_after_a_reload(browser, tenant):
    session = new_session(tenant.admin)
    code = invite(tenant.admin, session["id"])["code"]
    page = browser_page(browser, tenant, f"/join/{code}", viewport=(900, 760))
    assert page.input_value("#gp-join-code") == code
    page.fill("#gp-join-name", "Kim Lee")
    page.click("#gp-join-submit")
    page.wait_for_selector("#gp-joined-view:not([hidden])")
    wait_for(page, "document.getElementById('gp-status').dataset.position === '1'", "the queue position")
    assert page.text_content("#gp-status") == "You're next in line."
    assert page.url.endswith("/join")  # the used code left the address bar
    joined = tenant.admin.get(f"/api/v1/sessions/{session['id']}?expand=customer").json()
    assert joined["state"] == "waiting" and joined["customer"]["name"] == "Kim Lee"
    screenshot(page, "customer-join-waiting")

    page.reload()
    page.wait_for_selector("#gp-joined-view:not([hidden])")
    page.fill("#gp-chat-input", "Still here")
    page.click("#gp-chat-send")
    page.wait_for_selector("#gp-chat .gp-msg[data-author='customer']")
    messages = tenant.admin.get(f"/api/v1/sessions/{session['id']}/messages").json()["items"]
    assert [(m["author_type"], m["author_name"], m["body"]) for m in messages] == [("customer", "Kim Lee", "Still here")]

    # The agent takes it: the customer sees who is with them; ending it closes the chat.
    me = tenant.admin.get("/api/v1/auth/me").json()
    assert tenant.admin.post(f"/api/v1/sessions/{session['id']}/state",
                             json={"state": "active", "agent_id": me["id"]}).status_code == 200
    wait_for(page, "document.getElementById('gp-status').dataset.state === 'active'", "the active state")
    assert "is with you now" in page.text_content("#gp-status")
    assert tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "ended"}).status_code == 200
    wait_for(page, "document.getElementById('gp-status').dataset.state === 'ended'", "the end")
    assert page.is_hidden("#gp-chat-form")
    assert page.evaluate("sessionStorage.getItem('guidepath.join')") is None
    assert page.errors == []
    page.context.close()
