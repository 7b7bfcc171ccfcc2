"""The queue: waiting and active sessions, pushed over WS /ws (no polling), taken in
one step, moved through with the keyboard; new work is signalled."""

from __future__ import annotations

import time

import pytest
from console_support import PASSWORD, agent, move, new_session, screenshot, signed_in_page

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def customer(tenant, first: str, last: str = "Customer") -> dict:
    response = tenant.admin.post("/api/v1/customers", json={"first_name": first, "last_name": last,
                                                           "email": f"{first.lower()[:10]}@example.com"})
    assert response.status_code == 201, response.text
    return response.json()


def device(tenant, customer_id: str) -> dict:
    response = tenant.admin.post("/api/v1/devices", json={
        "customer_id": customer_id, "manufacturer": "Google", "brand": "Pixel", "model": "Pixel 8",
        "os_name": "Android", "os_version": "15"})
    assert response.status_code == 201, response.text
    return response.json()


def waiting_session(tenant, first: str) -> dict:
    who = customer(tenant, first)
    session = new_session(tenant.admin, customer_id=who["id"], device_id=device(tenant, who["id"])["id"])
    return move(tenant.admin, session["id"], "waiting")


def row(page, session_id: str):
    return page.locator(f'#gp-queue-rows tr[data-session-id="{session_id}"]')


def test_the_queue_lists_live_sessions_with_who_what_and_how_long(browser, tenant):
    waiting = waiting_session(tenant, "Ada")
    ended = waiting_session(tenant, "Gone")
    move(tenant.admin, ended["id"], "ended")
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password)
    entry = row(page, waiting["id"])
    entry.wait_for()
    assert entry.locator(".gp-customer").inner_text() == "Ada Customer"
    assert "Google Pixel 8" in entry.inner_text() and "Android 15" in entry.inner_text()
    assert entry.get_attribute("data-state") == "waiting"
    assert "#1" in entry.inner_text()  # its position in the queue
    assert "unassigned" in entry.inner_text()
    assert row(page, ended["id"]).count() == 0  # ended sessions are history, not queue
    assert page.locator("#gp-waiting-count").inner_text() == "1 waiting"

    # A busier queue for the picture: more waiting, one being helped.
    for name in ("Grace", "Alan"):
        waiting_session(tenant, name)
    helped = waiting_session(tenant, "Katherine")
    assert tenant.admin.post(f"/api/v1/sessions/{helped['id']}/take").status_code == 200
    page.select_option("#gp-availability", "online")
    row(page, helped["id"]).filter(has_text="(you)").wait_for()
    page.locator("#gp-waiting-count").filter(has_text="3 waiting").wait_for()
    page.wait_for_timeout(1600)  # the new rows' highlight fades
    screenshot(page, "queue")
    assert page.errors == []


def test_a_new_session_appears_without_reloading(browser, tenant):
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password)
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector("#gp-live[data-state='open']")
    started = time.monotonic()
    session = waiting_session(tenant, "Newcomer")
    # Its row may first show it "created" (the first of its two events): wait for "waiting".
    page.locator(f'#gp-queue-rows tr[data-session-id="{session["id"]}"][data-state="waiting"]').wait_for()
    print(f"\n[queue] a new waiting session appeared in {1000 * (time.monotonic() - started):.0f} ms")
    # New work is signalled: the favicon badge, the title count and a sound (the badge
    # clears a few seconds after the agent has seen it, so it is waited for, not read once).
    page.wait_for_selector("#gp-favicon[data-count='1']", state="attached")
    page.wait_for_selector("body[data-chimes]", state="attached")
    assert int(page.locator("body").get_attribute("data-chimes")) >= 1

    move(tenant.admin, session["id"], "ended")
    row(page, session["id"]).wait_for(state="detached")


def test_take_assigns_me_and_opens_the_session_and_a_late_taker_is_told(browser, tenant):
    session = waiting_session(tenant, "Contested")
    first_client, first = agent(tenant, "First Agent", availability="online")
    _, second = agent(tenant, "Second Agent", availability="online")
    page = signed_in_page(browser, tenant, second["email"], PASSWORD)
    row(page, session["id"]).wait_for()

    # The first agent's take lands while the second's request is on its way.
    def first_agent_wins(route):
        assert first_client.post(f"/api/v1/sessions/{session['id']}/take").status_code == 200
        route.continue_()

    page.route(f"**/api/v1/sessions/{session['id']}/take", first_agent_wins)
    row(page, session["id"]).locator("[data-action='take']").click()
    error = page.locator("#gp-queue-error")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("the session is already taken by First Agent")
    assert page.url.endswith("/queue")  # not sent to a session that is not theirs
    row(page, session["id"]).filter(has_text="First Agent").wait_for()  # the row is updated live
    page.unroute(f"**/api/v1/sessions/{session['id']}/take")
    assert page.errors == []

    mine = waiting_session(tenant, "Mine")
    row(page, mine["id"]).wait_for()
    row(page, mine["id"]).locator("[data-action='take']").click()
    page.wait_for_url(f"**/sessions/{mine['id']}")
    page.wait_for_selector("#gp-session-agent:text-is('with Second Agent (you)')")
    assert page.locator("#gp-session-state").inner_text() == "active"


def test_the_keyboard_moves_through_the_queue_and_opens_a_session(browser, tenant):
    first, second = waiting_session(tenant, "Keyboard One"), waiting_session(tenant, "Keyboard Two")
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password)
    row(page, second["id"]).wait_for()
    page.keyboard.press("j")
    assert row(page, first["id"]).get_attribute("aria-selected") == "true"
    page.keyboard.press("j")
    assert row(page, second["id"]).get_attribute("aria-selected") == "true"
    page.keyboard.press("k")
    assert row(page, first["id"]).get_attribute("aria-selected") == "true"
    page.keyboard.press("?")
    assert page.locator("#gp-shortcuts-dialog").is_visible()
    assert "Take the selected session" in page.locator("#gp-shortcuts-list").inner_text()
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/sessions/{first['id']}")


def test_availability_is_set_by_the_agent_and_kept(browser, tenant):
    _, user = agent(tenant, "Presence Agent")
    page = signed_in_page(browser, tenant, user["email"], PASSWORD)
    page.locator("#gp-offline-hint").wait_for()  # shown once the queue has loaded
    page.select_option("#gp-availability", "online")
    page.wait_for_selector("#gp-availability-dot[data-availability='online']")
    page.locator("#gp-offline-hint").wait_for(state="hidden")
    assert tenant.admin.get(f"/api/v1/users/{user['id']}").json()["availability"] == "online"
    page.reload()
    assert page.locator("#gp-availability").input_value() == "online"


def test_markup_in_a_customers_name_is_shown_as_text(browser, tenant):
    who = customer(tenant, XSS, "Injected")
    session = move(tenant.admin, new_session(tenant.admin, customer_id=who["id"])["id"], "waiting")
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password)
    cell = row(page, session["id"]).locator(".gp-customer")
    cell.wait_for()
    assert cell.inner_text() == f"{XSS} Injected"
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
