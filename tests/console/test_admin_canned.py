"""Admins keep the canned responses agents insert with "/" (agents may only read them)."""

from __future__ import annotations

import pytest
from console_support import PASSWORD, agent, screenshot, signed_in_page

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def test_an_admin_creates_edits_and_deletes_a_canned_response(browser, tenant):
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/admin/canned-responses")
    page.wait_for_selector("body[data-ready='true']")
    page.fill("#gp-canned-shortcut", "Restart")  # not a shortcut: the server says so at the field
    page.fill("#gp-canned-title", "Restart the phone")
    page.fill("#gp-canned-body", "Hold the power button for ten seconds.")
    page.click("#gp-canned-save")
    error = page.locator("#gp-canned-shortcut-error")
    error.wait_for()
    assert page.locator("#gp-canned-shortcut").get_attribute("aria-invalid") == "true"

    page.fill("#gp-canned-shortcut", "/restart")
    page.click("#gp-canned-save")
    page.wait_for_selector("#gp-canned-rows tr:has-text('/restart')")
    assert tenant.admin.get("/api/v1/canned-responses").json()["items"][0]["title"] == "Restart the phone"

    page.click("#gp-canned-rows tr:has-text('/restart') [data-action='edit']")
    page.fill("#gp-canned-title", XSS)
    page.click("#gp-canned-save")
    page.wait_for_selector(f"#gp-canned-rows .gp-canned-title:text-is('{XSS}')")
    screenshot(page, "admin-canned-responses")
    assert page.evaluate("window.__xss") is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#gp-canned-rows tr:has-text('/restart') [data-action='delete']")
    page.wait_for_selector("#gp-canned-empty:visible")
    assert tenant.admin.get("/api/v1/canned-responses").json()["items"] == []
    assert page.errors == []


def test_agents_get_403_on_the_page(browser, tenant):
    _, user = agent(tenant, "Just An Agent")
    page = signed_in_page(browser, tenant, user["email"], PASSWORD, "/queue")
    response = page.goto(f"http://{tenant.host}/admin/canned-responses")
    assert response.status == 403
    assert page.locator("#gp-error-title").inner_text() == "Not allowed"
    assert page.locator("#gp-nav-canned").count() == 0  # not in an agent's menu
