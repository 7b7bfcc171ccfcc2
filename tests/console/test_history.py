"""History: search past sessions by customer, agent, outcome, state and dates; the
search is the page's URL; bad input is a message on the page; rows open sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from console_support import agent, move, new_session, screenshot, signed_in_page

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def ended(tenant, client, user, first: str, outcome: str, email: str) -> dict:
    customer = tenant.admin.post("/api/v1/customers", json={"first_name": first, "last_name": "Tester",
                                                            "email": email}).json()
    session = new_session(client, customer_id=customer["id"])
    move(client, session["id"], "waiting")
    move(client, session["id"], "active", agent_id=user["id"])
    return move(client, session["id"], "ended", outcome=outcome, resolution=f"{first} done")


def ids(page) -> list[str]:
    return page.eval_on_selector_all("#gp-history tbody tr", "rows => rows.map(r => r.dataset.sessionId)")


def test_history_search(browser, tenant):
    grace_client, grace = agent(tenant, "Grace Hopper", availability="online")
    alan_client, alan = agent(tenant, "Alan Turing", availability="online")
    first = ended(tenant, grace_client, grace, "Zed", "resolved", "zed@example.com")
    second = ended(tenant, alan_client, alan, "Yan", "abandoned", "yan@example.com")
    third = ended(tenant, grace_client, grace, f"Mal {XSS}", "unresolved", "mal@example.com")
    live = new_session(tenant.admin)

    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/history")
    assert ids(page) == [live["id"], third["id"], second["id"], first["id"]]  # newest first
    assert page.text_content(f"tr[data-session-id='{third['id']}'] .gp-customer") == f"Mal {XSS} Tester"

    page.fill("#gp-history-q", "zed@")
    page.click("#gp-history-submit")
    page.wait_for_url("**/history?q=zed%40")
    assert ids(page) == [first["id"]]

    page.goto(f"http://{tenant.host}/history")
    page.select_option("#gp-history-agent", grace["id"])  # submits on change
    page.wait_for_url(f"**agent={grace['id']}**")
    assert ids(page) == [third["id"], first["id"]]
    page.select_option("#gp-history-outcome", "unresolved")
    page.wait_for_url("**outcome=unresolved**")
    assert ids(page) == [third["id"]]
    assert page.input_value("#gp-history-agent") == grace["id"]  # the search is kept in the form

    today = datetime.now().date()
    page.goto(f"http://{tenant.host}/history?outcome=abandoned")
    assert ids(page) == [second["id"]]
    page.fill("#gp-history-from", today.isoformat())
    page.fill("#gp-history-to", today.isoformat())
    page.click("#gp-history-submit")
    page.wait_for_url("**from=**")
    assert "tz=" in page.url and ids(page) == [second["id"]]
    page.fill("#gp-history-from", (today + timedelta(days=1)).isoformat())
    page.fill("#gp-history-to", (today + timedelta(days=2)).isoformat())
    page.click("#gp-history-submit")
    page.wait_for_selector("#gp-history-empty")
    assert "No session matches" in page.text_content("#gp-history-empty")

    page.goto(f"http://{tenant.host}/history?state=ended&q=tester")
    assert ids(page) == [third["id"], second["id"], first["id"]]
    screenshot(page, "history-search")
    page.click(f"tr[data-session-id='{second['id']}'] .gp-customer")
    page.wait_for_url(f"**/sessions/{second['id']}")
    page.wait_for_selector("#gp-read-only")

    answer = page.goto(f"http://{tenant.host}/history?from=31/01/2026&outcome=great")
    assert answer.status == 422
    assert page.text_content("#gp-history-from-error") == "Enter a date like 2026-01-31."
    assert "Choose resolved" in page.text_content("#gp-history-outcome-error")
    assert page.get_attribute("#gp-history-from", "aria-invalid") == "true"
    answer = page.goto(f"http://{tenant.host}/history?from=2026-02-10&to=2026-02-01")
    assert "before the first day" in page.text_content("#gp-history-to-error")
    assert page.goto(f"http://{tenant.host}/history?cursor=bogus").status == 422
    assert page.is_visible("#gp-history-error")
    assert page.goto(f"http://{tenant.host}/history?color=red").status == 422  # undeclared: the page refuses it

    assert page.evaluate("window.__xss") is None
    assert page.errors == []
    page.context.close()


def test_history_pages(browser, tenant):
    made = [new_session(tenant.admin)["id"] for _ in range(27)]
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/history")
    assert ids(page) == made[::-1][:25]
    page.click("#gp-history-next")
    page.wait_for_url("**cursor=**")
    assert ids(page) == made[::-1][25:]
    assert page.locator("#gp-history-next").count() == 0
    page.click("#gp-history-first")
    page.wait_for_url("**/history")
    assert len(ids(page)) == 25
    page.context.close()
