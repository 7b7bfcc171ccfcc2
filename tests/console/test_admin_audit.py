"""/admin/audit in headless Chromium, on both backends: entries newest first with
actor names, filters (actor, action family, target, time range) reflected in the
page's address, "Load more" following the cursor, and an entry with markup shown as
text."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from guidepath.core.domain import audit

from admin_support import page_errors, screenshot, signed_in, wait_until

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def seed(tenant, count: int = 60) -> str:
    admin_id = tenant.admin.get("/api/v1/auth/me").json()["id"]
    with tenant.context().begin() as conn:
        for i in range(count):
            audit.record(conn, f"user:{admin_id}", "user.updated", f"usr_{i:03d}", {"fields": ["name"]})
        audit.record(conn, None, "plugin.configured", "remote_control", {"enabled": True})
    return admin_id


def rows(page):
    return page.locator("#gp-audit-rows tr")


def test_entries_filters_and_load_more(browser, tenant):
    admin_id = seed(tenant)
    tenant.admin.post("/api/v1/api-keys", json={"name": "Robot"})
    total = len(tenant.admin.get("/api/v1/audit-log", params={"limit": 200}).json()["items"])
    assert 62 <= total < 100
    context, page, console = signed_in(browser, tenant, "/admin/audit")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        assert rows(page).count() == 50
        newest = rows(page).first.inner_text()
        assert "api_key.created" in newest and "Administrator" in newest and f"user:{admin_id}" in newest
        assert "system" in rows(page).nth(1).inner_text()  # no actor
        screenshot(page, "admin-audit")

        page.click("#gp-audit-more")
        wait_until(page, f"document.querySelectorAll('#gp-audit-rows tr').length === {total}")
        assert page.locator("#gp-audit-more").is_hidden()
        seqs = page.eval_on_selector_all("#gp-audit-rows tr", "els => els.map(e => Number(e.dataset.seq))")
        assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == total

        # A family of actions, then one target; the address says so.
        page.fill("#gp-audit-action", "plugin.")
        page.click("#gp-audit-apply")
        wait_until(page, "document.querySelectorAll('#gp-audit-rows tr').length === 1")
        assert "plugin.configured" in rows(page).first.inner_text()
        assert "action=plugin." in page.url
        page.fill("#gp-audit-action", "")
        page.fill("#gp-audit-target", "usr_007")
        page.click("#gp-audit-apply")
        wait_until(page, "document.querySelectorAll('#gp-audit-rows tr').length === 1 && "
                         "document.getElementById('gp-audit-rows').textContent.includes('usr_007')")

        # A time range in the future: nothing; cleared: everything again.
        page.fill("#gp-audit-target", "")
        page.fill("#gp-audit-since", "2999-01-01T00:00")
        page.click("#gp-audit-apply")
        page.locator("#gp-audit-empty").wait_for()
        assert rows(page).count() == 0
        page.click("#gp-audit-clear")
        wait_until(page, "document.querySelectorAll('#gp-audit-rows tr').length === 50")
        assert page.url.endswith("/admin/audit")

        # A linked, filtered view (by actor) opens with its filters in the form.
        page.goto(f"http://{tenant.host}/admin/audit?actor={quote(f'user:{admin_id}')}&action=user.updated")
        page.wait_for_selector('body[data-ready="true"]')
        assert page.input_value("#gp-audit-actor") == f"user:{admin_id}"
        assert rows(page).count() == 50 and page.locator("#gp-audit-more").is_visible()
        assert page_errors(console) == []
    finally:
        context.close()


def test_an_entry_with_markup_is_text(browser, tenant):
    with tenant.context().begin() as conn:
        audit.record(conn, f"user:{XSS}", XSS, XSS, {"name": XSS})
    context, page, console = signed_in(browser, tenant, "/admin/audit")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        text = rows(page).first.inner_text()
        assert text.count(XSS) >= 3
        assert page.locator("#gp-main img").count() == 0
        assert page.evaluate("window.__xss") is None
        # The page lists it among the filter's suggestions too, as text.
        options = page.eval_on_selector_all("#gp-audit-actions option", "els => els.map(e => e.value)")
        assert XSS in options
        assert page.evaluate("window.__xss") is None
    finally:
        context.close()


def test_a_bad_filter_in_the_address_is_refused(tenant):
    answer = tenant.admin.get("/admin/audit?since=yesterday", headers={"Accept": "text/html"})
    assert answer.status_code == 422 and "since" in answer.text
