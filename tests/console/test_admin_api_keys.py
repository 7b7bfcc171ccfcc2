"""/admin/api-keys in headless Chromium, on both backends: the list, creating a key
(shown once, in a dialog with a copy button and a warning; it works, and only its
prefix remains on the page), revoking after a confirmation, and a name with markup."""

from __future__ import annotations

import pytest

from admin_support import page_errors, screenshot, signed_in, wait_until

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def row_named(page, name: str):
    return page.locator("#gp-keys-rows tr", has=page.locator(".gp-key-name", has_text=name))


def test_create_shows_the_key_once_then_revoke(browser, tenant):
    tenant.admin.post("/api/v1/api-keys", json={"name": "Old integration", "role": "agent"})
    context, page, console = signed_in(browser, tenant, "/admin/api-keys")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page.wait_for_selector('body[data-ready="true"]')
        assert page.locator("#gp-keys-rows tr").count() == 1
        assert "never" in row_named(page, "Old integration").inner_text()

        # An empty name: the API's 422 names the field.
        page.click("#gp-key-create")
        page.locator("#gp-key-name-error").wait_for()
        assert page.get_attribute("#gp-key-name", "aria-invalid") == "true"

        page.fill("#gp-key-name", "CRM sync")
        page.select_option("#gp-key-role", "admin")
        page.click("#gp-key-create")
        dialog = page.locator("#gp-key-created")
        dialog.wait_for()
        key = page.input_value("#gp-key-value")
        assert key.startswith("gpk_") and len(key) > 30
        assert "shown only this once" in dialog.inner_text()
        page.click("#gp-key-copy")
        wait_until(page, "document.body.dataset.copied === 'true'")
        assert page.evaluate("navigator.clipboard.readText()") == key
        screenshot(page, "admin-api-key-created")

        # The key works (as an admin key), and once the dialog is closed it is nowhere on the page.
        assert tenant.client().with_api_key(key).get("/api/v1/api-keys").status_code == 200
        page.click("#gp-key-done")
        assert not dialog.is_visible()
        assert page.input_value("#gp-key-value") == "" and key not in page.content()
        wait_until(page, "document.getElementById('gp-keys-notice').textContent.includes('Only its prefix')")
        created = row_named(page, "CRM sync")
        assert key[:10] in created.inner_text() and "Admin" in created.inner_text()
        assert page.locator("#gp-keys-rows tr").first.get_attribute("id") == created.get_attribute("id")

        # Revoke: a confirmation first; cancelling changes nothing.
        created.locator("[data-action=revoke]").click()
        assert page.locator("#gp-key-revoke").is_visible()
        assert "CRM sync" in page.inner_text("#gp-key-revoke-name")
        page.click("#gp-key-revoke-cancel")
        assert tenant.client().with_api_key(key).get("/api/v1/api-keys").status_code == 200
        created.locator("[data-action=revoke]").click()
        page.click("#gp-key-revoke-confirm")
        row_named(page, "CRM sync").locator("[data-status=revoked]").wait_for()
        assert row_named(page, "CRM sync").locator("[data-action=revoke]").count() == 0
        assert tenant.client().with_api_key(key).get("/api/v1/api-keys").status_code == 401
        assert page_errors(console) == []
    finally:
        context.close()


def test_a_key_name_with_markup_is_text(browser, tenant):
    tenant.admin.post("/api/v1/api-keys", json={"name": XSS})
    context, page, console = signed_in(browser, tenant, "/admin/api-keys")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        assert page.locator("#gp-keys-rows .gp-key-name").first.inner_text() == XSS
        page.click("#gp-keys-rows [data-action=revoke]")
        assert page.inner_text("#gp-key-revoke-name") == XSS
        page.click("#gp-key-revoke-cancel")
        page.fill("#gp-key-name", XSS + " 2")
        page.click("#gp-key-create")
        page.locator("#gp-key-created").wait_for()
        assert page.inner_text("#gp-key-created-name") == XSS + " 2"
        assert page.locator("img").count() == 0
        assert page.evaluate("window.__xss") is None
    finally:
        context.close()
