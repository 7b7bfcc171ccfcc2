"""/admin/users in headless Chromium, on both backends: the list (with availability,
capacity, disabled and locked-out users), create, edit, disable/enable, reset a
password, the API's refusals at their field, markup shown as text, and the 403 page
for agents on every admin screen."""

from __future__ import annotations

import pytest
import requests

from admin_support import page_errors, screenshot, signed_in, wait_until

pytestmark = pytest.mark.browser

AGENT_PASSWORD = "agent-password-123"
XSS = '<img src=x onerror="window.__xss=1">'
ADMIN_PAGES = ["/admin/users", "/admin/api-keys", "/admin/plugins", "/admin/audit"]


def make_agent(tenant, email: str = "agent@example.com", **fields) -> dict:
    answer = tenant.admin.post("/api/v1/users", json={"email": email, "password": AGENT_PASSWORD, "role": "agent",
                                                      **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def row(page, email: str):
    return page.locator(f'#gp-users-rows tr[data-email="{email}"]')


def test_the_list_shows_every_user_with_state(browser, tenant):
    make_agent(tenant, "grace@example.com", name="Grace Hopper", capacity=5)
    disabled = make_agent(tenant, "off@example.com", name="Off Duty")
    tenant.admin.patch(f"/api/v1/users/{disabled['id']}", json={"disabled": True})
    make_agent(tenant, "locked@example.com", name="Locked Out")
    anonymous = tenant.client()
    for _ in range(6):
        anonymous.post("/api/v1/auth/login", json={"email": "locked@example.com", "password": "wrong-password!"})

    context, page, console = signed_in(browser, tenant, "/admin/users")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        assert page.locator("#gp-users-rows tr").count() == 4
        grace = row(page, "grace@example.com")
        assert "Grace Hopper" in grace.inner_text() and grace.locator(".gp-user-capacity").inner_text() == "5"
        assert "offline" in grace.inner_text() and grace.locator("[data-status=active]").count() == 1
        assert row(page, "off@example.com").locator("[data-status=disabled]").count() == 1
        assert row(page, "locked@example.com").locator("[data-status=locked]").count() == 1
        assert row(page, tenant.admin_email).locator(".gp-user-role").inner_text() == "Admin"
        assert page.locator("#gp-nav-users").get_attribute("aria-current") == "page"
        screenshot(page, "admin-users")

        # Resetting the password lifts the lockout, and the person can sign in with it.
        row(page, "locked@example.com").locator("[data-action=password]").click()
        page.fill("#gp-password-new", "short")
        page.click("#gp-password-save")
        error = page.locator("#gp-password-form .gp-field-error")
        error.wait_for()
        assert "password" in error.inner_text()
        assert page.get_attribute("#gp-password-new", "aria-invalid") == "true"
        page.fill("#gp-password-new", "a-brand-new-password")
        page.click("#gp-password-save")
        wait_until(page, "document.getElementById('gp-users-notice').textContent.includes('New password')")
        assert row(page, "locked@example.com").locator("[data-status=locked]").count() == 0
        assert tenant.client().post("/api/v1/auth/login", json={
            "email": "locked@example.com", "password": "a-brand-new-password"}).status_code == 200
        assert page_errors(console) == []
    finally:
        context.close()


def test_create_edit_disable_and_enable(browser, tenant):
    context, page, console = signed_in(browser, tenant, "/admin/users")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        page.click("#gp-user-new")
        page.fill("#gp-user-email", "new.agent@example.com")
        page.fill("#gp-user-name", "New Agent")
        page.select_option("#gp-user-role", "agent")
        page.fill("#gp-user-capacity", "99")
        page.fill("#gp-user-password", "new-agent-password")
        page.click("#gp-user-save")
        # The server's 422 names `capacity`: shown at that input, the dialog stays open.
        error = page.locator("#gp-user-form .gp-field-error")
        error.wait_for()
        assert "capacity" in error.inner_text()
        assert page.get_attribute("#gp-user-capacity", "aria-invalid") == "true"
        page.fill("#gp-user-capacity", "4")
        page.click("#gp-user-save")
        row(page, "new.agent@example.com").wait_for()
        assert not page.locator("#gp-user-dialog").is_visible()
        created = {u["email"]: u for u in tenant.admin.get("/api/v1/users").json()["items"]}["new.agent@example.com"]
        assert (created["name"], created["role"], created["capacity"]) == ("New Agent", "agent", 4)

        # A taken email is refused at the email field.
        page.click("#gp-user-new")
        page.fill("#gp-user-email", "NEW.agent@example.com")
        page.fill("#gp-user-password", "another-password")
        page.click("#gp-user-save")
        page.locator("#gp-user-email-error").wait_for()
        assert "already exists" in page.inner_text("#gp-user-email-error")
        page.click("#gp-user-cancel")

        # Edit: name, role, capacity.
        row(page, "new.agent@example.com").locator("[data-action=edit]").click()
        assert page.is_disabled("#gp-user-email")
        page.fill("#gp-user-name", "Renamed Agent")
        page.select_option("#gp-user-role", "admin")
        page.fill("#gp-user-capacity", "7")
        page.click("#gp-user-save")
        wait_until(page, "document.getElementById('gp-users-notice').textContent.includes('Saved')")
        edited = row(page, "new.agent@example.com")
        assert "Renamed Agent" in edited.inner_text() and edited.locator(".gp-user-role").inner_text() == "Admin"
        assert edited.locator(".gp-user-capacity").inner_text() == "7"

        # Disable, then enable.
        edited.locator("[data-action=disable]").click()
        row(page, "new.agent@example.com").locator("[data-status=disabled]").wait_for()
        assert tenant.admin.get(f"/api/v1/users/{created['id']}").json()["disabled"] is True
        row(page, "new.agent@example.com").locator("[data-action=enable]").click()
        row(page, "new.agent@example.com").locator("[data-status=active]").wait_for()
        assert tenant.admin.get(f"/api/v1/users/{created['id']}").json()["disabled"] is False
        assert page_errors(console) == []
    finally:
        context.close()


def test_the_last_admin_is_refused_at_the_role(browser, tenant):
    context, page, console = signed_in(browser, tenant, "/admin/users")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        me = row(page, tenant.admin_email)
        me.locator("[data-action=edit]").click()
        page.select_option("#gp-user-role", "agent")
        page.click("#gp-user-save")
        page.locator("#gp-user-role-error").wait_for()
        assert "last active admin" in page.inner_text("#gp-user-role-error")
        assert page.get_attribute("#gp-user-role", "aria-invalid") == "true"
        page.click("#gp-user-cancel")
        me.locator("[data-action=disable]").click()
        page.locator("#gp-users-error").wait_for()
        assert "last active admin" in page.inner_text("#gp-users-error")
        assert "last active admin" in me.locator(".gp-field-error").inner_text()
        assert page_errors(console) == []
    finally:
        context.close()


def test_a_name_with_markup_is_text(browser, tenant):
    make_agent(tenant, "xss@example.com", name=XSS)
    context, page, console = signed_in(browser, tenant, "/admin/users")
    try:
        page.wait_for_selector('body[data-ready="true"]')
        assert row(page, "xss@example.com").locator(".gp-user-name").inner_text().startswith(XSS)
        assert page.locator("#gp-users-rows img").count() == 0
        row(page, "xss@example.com").locator("[data-action=edit]").click()
        assert page.input_value("#gp-user-name") == XSS
        assert XSS in page.inner_text("#gp-user-dialog-title")
        page.click("#gp-user-cancel")
        assert page.evaluate("window.__xss") is None
    finally:
        context.close()


def test_agents_get_a_403_page_on_every_admin_screen(browser, tenant):
    make_agent(tenant, "plain.agent@example.com")
    context, page, console = signed_in(browser, tenant, "/queue", email="plain.agent@example.com",
                                       password=AGENT_PASSWORD)
    try:
        assert page.locator("#gp-nav-users").count() == 0  # no admin menu either
        for path in ADMIN_PAGES:
            response = page.goto(f"http://{tenant.host}{path}")
            assert response.status == 403, path
            assert page.inner_text("#gp-error-title") == "Not allowed"
            assert "for admins" in page.inner_text("#gp-error-message")
    finally:
        context.close()


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_need_a_signed_in_admin(tenant, path):
    anonymous = requests.get(f"{tenant.server.url}{path}", headers={"Host": tenant.host, "Accept": "text/html"},
                             allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and "/signin?next=" in anonymous.headers["Location"]
    page = tenant.admin.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.text and " style=" not in page.text
