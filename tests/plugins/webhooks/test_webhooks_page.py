"""/admin/webhooks in headless Chromium, on both backends: subscribe (the secret shown
once), a refused pattern named at its field, edit the event types, disable and
enable, rotate, the delivery log with redelivery, delete; markup in every string
the page shows stays text; agents get the 403 page."""

from __future__ import annotations

import pytest

from console_support import screenshot, signed_in_page, wait_for
from webhook_support import HOOKS, deliveries, make_event, wait_until

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def test_the_admin_page_manages_subscriptions_and_shows_the_log(browser, tenant, receiver, webhook_options):
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/admin/webhooks")
    try:
        wait_for(page, "document.body.dataset.ready === 'true'", "the page")
        assert page.locator("#gp-hooks-empty").is_visible()
        assert page.locator("a[href='/admin/webhooks']").count() >= 1  # in the admin menu

        # A pattern no event type matches: 422 shown at the field.
        page.fill("#gp-hook-url", receiver.url("/hook"))
        page.fill("#gp-hook-types", "nothing.*")
        page.click("#gp-hook-create")
        page.locator("#gp-hook-types-error").wait_for()
        assert "nothing.*" in page.inner_text("#gp-hook-types-error")

        page.fill("#gp-hook-types", "customer.*, session.*")
        page.fill("#gp-hook-description", XSS)
        page.click("#gp-hook-create")
        page.locator("#gp-secret-dialog").wait_for()
        secret = page.input_value("#gp-secret-value")
        assert secret.startswith("whsec_") and "shown only this once" in page.inner_text("#gp-secret-dialog")
        screenshot(page, "admin-webhooks-secret")
        page.click("#gp-secret-done")
        assert secret not in page.content()
        hook = tenant.admin.get(HOOKS).json()["items"][0]
        assert hook["event_types"] == ["customer.*", "session.*"] and hook["description"] == XSS
        row = page.locator(f"tr[data-hook-id='{hook['id']}']")
        assert XSS in row.inner_text()  # shown literally

        # Edit the event types.
        row.locator("[data-action=edit]").click()
        page.fill("#gp-edit-types", "customer.created")
        page.click("#gp-edit-save")
        wait_until(lambda: tenant.admin.get(f"{HOOKS}/{hook['id']}").json()["event_types"] == ["customer.created"])
        row.filter(has_text="customer.created").wait_for()  # the row is redrawn once the answer arrives

        # Disable, enable.
        row.locator("[data-action=toggle]").click()
        wait_for(page, f"document.querySelector(\"tr[data-hook-id='{hook['id']}'] .gp-badge\").textContent.startsWith('Disabled')")
        assert not tenant.admin.get(f"{HOOKS}/{hook['id']}").json()["enabled"]
        row.locator("[data-action=toggle]").click()
        wait_for(page, f"document.querySelector(\"tr[data-hook-id='{hook['id']}'] .gp-badge\").textContent === 'Enabled'")

        # Rotate: a new secret, shown once, with the grace period.
        row.locator("[data-action=rotate]").click()
        page.locator("#gp-secret-dialog").wait_for()
        rotated = page.input_value("#gp-secret-value")
        assert rotated.startswith("whsec_") and rotated != secret
        assert "previous secret stays valid" in page.inner_text("#gp-secret-note")
        page.click("#gp-secret-done")

        # The delivery log: a failed delivery, redelivered from the page.
        webhook_options(schedule=(0.0,))
        status = {"code": 500}
        receiver.script = lambda path: (status["code"], {}, XSS.encode(), 0.0)
        make_event(tenant)
        wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "failed"], what="failure")
        row.locator("[data-action=log]").click()
        page.locator("#gp-log-rows tr[data-status=failed]").wait_for()
        log_row = page.locator("#gp-log-rows tr").first
        assert "HTTP 500" in log_row.inner_text() and XSS in log_row.inner_text()
        screenshot(page, "admin-webhooks", full_page=True)
        status["code"] = 200
        log_row.locator("[data-action=redeliver]").click()
        wait_until(lambda: deliveries(tenant, hook["id"])[0]["status"] == "succeeded", what="redelivered")
        page.click("#gp-log-refresh")
        page.locator("#gp-log-rows tr[data-status=succeeded]").wait_for()

        # Delete, after a confirmation.
        row.locator("[data-action=delete]").click()
        page.click("#gp-delete-confirm")
        wait_for(page, "!document.getElementById('gp-hooks-empty').hidden", "the empty list")
        assert tenant.admin.get(HOOKS).json()["items"] == []
        assert page.evaluate("window.__xss") is None
        assert page.errors == []
    finally:
        page.context.close()


def test_agents_get_the_403_page(browser, tenant):
    from console_support import PASSWORD, agent

    _, user = agent(tenant)
    page = signed_in_page(browser, tenant, user["email"], PASSWORD, "/queue")
    try:
        response = page.goto(f"http://{tenant.host}/admin/webhooks")
        assert response.status == 403
        assert "for admins" in page.inner_text("#gp-error-message")
        assert page.locator("a[href='/admin/webhooks']").count() == 0
    finally:
        page.context.close()
