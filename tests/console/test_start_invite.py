"""Start a session for a customer, invite them with a code, and see them join live;
then the customer chats and the agent sees it on the session page."""

from __future__ import annotations

import re

import pytest
from console_support import screenshot, signed_in_page, browser_page, wait_for

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_new_customer_invited_joins_live_and_chats(browser, tenant):
    agent = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/sessions/new")
    agent.fill("#gp-new-first", f"Ada {XSS}")
    agent.fill("#gp-new-last", "Lovelace")
    agent.fill("#gp-new-email", "ada@example.com")
    agent.click("#gp-new-submit")
    wait_for(agent, "document.body.dataset.invited === 'true'", "the invite code")
    code = agent.text_content("#gp-invite-code")
    assert CODE.match(code), code
    assert agent.text_content("#gp-invite-customer") == f"Ada {XSS} Lovelace"
    url = agent.input_value("#gp-invite-url")
    assert url == f"http://{tenant.host}/join/{code}"
    assert agent.is_visible("#gp-join-waiting") and agent.is_hidden("#gp-joined")
    session_href = agent.get_attribute("#gp-open-session", "href")
    session_id = session_href.rsplit("/", 1)[1]
    assert tenant.admin.get(f"/api/v1/sessions/{session_id}").json()["state"] == "created"
    screenshot(agent, "start-invite")

    # The customer, in a browser of their own, follows the link.
    customer = browser_page(browser, tenant, f"/join/{code}", viewport=(900, 820))
    assert customer.input_value("#gp-join-code") == code
    assert customer.locator(".gp-topbar").count() == 0  # no console menu for customers
    customer.click("#gp-join-submit")
    customer.wait_for_selector("#gp-joined-view:not([hidden])")
    wait_for(customer, "document.getElementById('gp-status').dataset.state === 'waiting'", "the queue status")
    assert "in line" in customer.text_content("#gp-status")

    # The agent's page saw it live.
    agent.wait_for_selector("#gp-joined:not([hidden])")
    assert "Customer joined" in agent.text_content("#gp-joined")
    assert "Ada" in agent.text_content("#gp-joined-detail")

    # The customer writes; the agent reads it on the session page and answers.
    customer.fill("#gp-chat-input", f"My router blinks {XSS}")
    customer.press("#gp-chat-input", "Enter")
    customer.wait_for_selector("#gp-chat .gp-msg[data-author='customer']")
    agent.click("#gp-open-session")
    agent.wait_for_url(f"**/sessions/{session_id}")
    agent.wait_for_selector("#gp-chat .gp-msg[data-author='customer']")
    assert f"My router blinks {XSS}" in agent.text_content("#gp-chat .gp-msg[data-author='customer']")
    agent.fill("#gp-chat-input", "Hello Ada, let's look at it together.")
    agent.press("#gp-chat-input", "Enter")
    customer.wait_for_selector("#gp-chat .gp-msg[data-author='agent']")
    assert "let's look at it" in customer.text_content("#gp-chat .gp-msg[data-author='agent']")
    screenshot(customer, "customer-join")

    for page in (agent, customer):
        assert page.evaluate("window.__xss") is None
        assert page.errors == []
    agent.context.close()
    customer.context.close()


def test_find_an_existing_customer_or_start_without_one(browser, tenant):
    known = tenant.admin.post("/api/v1/customers", json={"first_name": "Grace", "last_name": "Hopper",
                                                         "email": "grace@navy.example", "phone": "+1 555 0100"}).json()
    tenant.admin.post("/api/v1/customers", json={"first_name": "Alan", "email": "alan@example.com"})
    agent = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/sessions/new")
    agent.fill("#gp-find-q", "5550100")
    agent.click("#gp-find-submit")
    # The first list (every customer) may still be on the page: wait for the search's own answer.
    wait_for(agent, "document.querySelectorAll('#gp-find-rows tr').length === 1", "one match")
    agent.wait_for_selector(f"#gp-find-rows tr[data-customer-id='{known['id']}']")
    agent.fill("#gp-find-q", "nobody-like-this")
    agent.click("#gp-find-submit")
    agent.wait_for_selector("#gp-find-empty:not([hidden])")
    agent.fill("#gp-find-q", "grace hopper")
    agent.click("#gp-find-submit")
    agent.click(f"#gp-find-rows tr[data-customer-id='{known['id']}'] [data-action='start']")
    wait_for(agent, "document.body.dataset.invited === 'true'", "the invite code")
    session_id = agent.get_attribute("#gp-open-session", "href").rsplit("/", 1)[1]
    session = tenant.admin.get(f"/api/v1/sessions/{session_id}").json()
    assert session["customer_id"] == known["id"] and session["agent_id"] is not None

    agent.goto(f"http://{tenant.host}/sessions/new")
    agent.click("#gp-start-anonymous")
    wait_for(agent, "document.body.dataset.invited === 'true'", "the invite code")
    code = agent.text_content("#gp-invite-code")
    session_id = agent.get_attribute("#gp-open-session", "href").rsplit("/", 1)[1]
    redeemed = tenant.client().post("/api/v1/invites/redeem", json={"code": code, "customer": {"first_name": "Kim"}})
    assert redeemed.status_code == 200, redeemed.text
    agent.wait_for_selector("#gp-joined:not([hidden])")
    wait_for(agent, "document.getElementById('gp-joined-detail').textContent.includes('Kim')", "the customer's name")
    assert tenant.admin.get(f"/api/v1/sessions/{session_id}").json()["state"] == "waiting"
    assert agent.errors == []
    agent.context.close()
