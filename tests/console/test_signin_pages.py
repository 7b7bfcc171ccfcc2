"""Where people start: the tenant's host sends them to sign in, then to the queue;
a host that is no account says how accounts are reached and names none."""

from __future__ import annotations

import pytest
import requests
from console_support import PASSWORD, agent, browser_page, new_session, screenshot, signed_in_page


pytestmark = pytest.mark.browser


def test_the_tenants_address_leads_to_sign_in_then_the_queue(browser, tenant):
    page = browser_page(browser, tenant, "/")
    page.wait_for_url("**/signin")
    assert page.locator("h1").inner_text() == f"Sign in to {tenant.slug}"
    screenshot(page, "signin")

    page.fill("#gp-email", tenant.admin_email)
    page.fill("#gp-password", "wrong password")
    page.click("#gp-signin-submit")
    error = page.locator("#gp-signin-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "Wrong email or password."
    assert page.url.endswith("/signin")

    page.fill("#gp-password", tenant.admin_password)
    page.click("#gp-signin-submit")
    page.wait_for_url("**/queue")
    assert page.locator("h1").inner_text() == "Queue"
    page.goto(f"http://{tenant.host}/")  # signed in: / is the queue
    page.wait_for_url("**/queue")
    assert page.errors == []


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(browser, tenant):
    session = new_session(tenant.admin)
    page = browser_page(browser, tenant, f"/sessions/{session['id']}")
    page.wait_for_url("**/signin?next=**")
    page.fill("#gp-email", tenant.admin_email)
    page.fill("#gp-password", tenant.admin_password)
    page.click("#gp-signin-submit")
    page.wait_for_url(f"**/sessions/{session['id']}")

    evil = browser_page(browser, tenant, "/signin?next=//evil.example/steal")
    evil.fill("#gp-email", tenant.admin_email)
    evil.fill("#gp-password", tenant.admin_password)
    evil.click("#gp-signin-submit")
    evil.wait_for_url("**/queue")
    assert "evil.example" not in evil.url


def test_a_locked_account_is_told_so(browser, tenant):
    _, user = agent(tenant, "Locked Out")
    page = browser_page(browser, tenant, "/signin")
    for _ in range(12):  # past the lockout threshold
        page.fill("#gp-email", user["email"])
        page.fill("#gp-password", "not the password")
        page.click("#gp-signin-submit")
        page.locator("#gp-signin-error").wait_for(state="visible")
        if "too many failed logins" in page.locator("#gp-signin-error").inner_text():
            break
    assert "too many failed logins" in page.locator("#gp-signin-error").inner_text()


def test_signing_out_here_or_everywhere(browser, tenant):
    _, user = agent(tenant, "Two Browsers")
    laptop = signed_in_page(browser, tenant, user["email"], PASSWORD)
    phone = signed_in_page(browser, tenant, user["email"], PASSWORD)

    laptop.click("#gp-signout")
    laptop.click("#gp-signout-here")
    laptop.wait_for_url("**/signin")
    phone.reload()
    assert phone.url.endswith("/queue")  # still signed in there

    laptop = signed_in_page(browser, tenant, user["email"], PASSWORD)
    laptop.click("#gp-signout")
    laptop.click("#gp-signout-everywhere")
    laptop.wait_for_url("**/signin")
    phone.reload()
    phone.wait_for_url("**/signin?next=**")  # signed out on the other browser too


def test_a_host_that_is_no_account_says_how_accounts_are_reached(browser, tenant):
    page = browser_page(browser, tenant, path="")
    response = page.goto(tenant.server.url + "/")
    assert response.status == 404
    assert page.locator("#gp-error-title").inner_text() == "No account here"
    assert page.locator("#gp-error-hint").inner_text() == (
        f"http://{{account}}.{tenant.kernel.config.base_domain}:{tenant.server.port}/")
    assert tenant.slug not in page.content()  # names no account
    # Machines still get the JSON error.
    answer = requests.get(tenant.server.url + "/", headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_an_unknown_page_on_an_account_is_an_html_404_for_browsers(browser, tenant):
    page = browser_page(browser, tenant, path="")
    response = page.goto(f"http://{tenant.host}/no-such-page")
    assert response.status == 404
    assert page.locator("#gp-error-title").inner_text() == "Not found"
    assert tenant.admin.get("/no-such-page").json()["error"]["code"] == "not_found"


def test_console_pages_refuse_api_keys(tenant):
    key = tenant.admin.new_api_key(role="admin")
    machine = tenant.client().with_api_key(key)
    response = machine.get("/queue", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "not for API keys" in response.text
