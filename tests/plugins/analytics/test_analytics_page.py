"""/admin/analytics in headless Chromium, on both backends: the numbers, the uPlot
charts (canvases), a number that moves when a session changes state (pushed over
WS /ws, then re-read), markup in a path's title and an agent's name shown as text;
the page without uPlot says "run make install"; agents get the 403 page."""

from __future__ import annotations

import pytest

from analytics_support import agent, move, new_session, overview, wait_until
from console_support import PASSWORD, screenshot, signed_in_page, wait_for
from console_support import agent as console_agent

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'
SERVER_WAIT = 60.0  # events travel through Kafka on the server backend

DOCUMENT = {
    "schema_version": 1, "id": "check-cable", "title": f"Check the cable {XSS}",
    "variables": {"plugged": {"type": "boolean", "default": False}}, "start": "ask",
    "steps": {
        "ask": {"type": "question", "kind": "yes_no", "prompt": "Is the cable plugged in?", "store_as": "plugged",
                "next": "decide"},
        "decide": {"type": "decision", "branches": [{"when": {"===": [{"var": "vars.plugged"}, True]},
                                                     "next": "fixed"}], "default": "escalate"},
        "fixed": {"type": "end", "outcome": "resolved", "message": "Good."},
        "escalate": {"type": "end", "outcome": "escalate", "message": "An agent will help."},
    },
}


def _runs(tenant) -> str:
    admin = tenant.admin
    made = admin.post("/api/v1/guided-paths/import", params={"publish": "true"}, json=DOCUMENT)
    assert made.status_code in (200, 201), made.text
    for value in (True, False, True):
        run = admin.post("/api/v1/runs", json={"path_key": "check-cable"})
        assert run.status_code == 201, run.text
        answered = admin.post(f"/api/v1/runs/{run.json()['id']}/answers", json={"step_id": "ask", "value": value})
        assert answered.status_code == 200, answered.text
    admin.post("/api/v1/runs", json={"path_key": "check-cable"})  # started, not finished
    return made.json()["id"]


def _sessions(tenant) -> None:
    someone = agent(tenant, f"Ada {XSS}")
    for outcome in ("resolved", "unresolved"):
        sid = new_session(tenant)
        move(tenant, sid, "waiting")
        move(tenant, sid, "active", agent_id=someone)
        move(tenant, sid, "ended", outcome=outcome, resolution="Done" if outcome == "resolved" else None)


def test_the_dashboard_draws_charts_and_moves_with_events(browser, tenant):
    path_id = _runs(tenant)
    _sessions(tenant)
    wait_until(lambda: (o := overview(tenant))["runs"]["started"] == 4 and o["sessions"]["by_state"]["ended"] == 2,
               timeout=SERVER_WAIT, what="the analytics of the script")
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/admin/analytics")
    try:
        wait_for(page, "document.body.dataset.analyticsReady === 'true'", "the dashboard")
        assert page.locator("#gp-an-vendor-missing").count() == 0
        assert page.locator("a[href='/admin/analytics']").count() >= 1  # in the admin menu
        # Two sessions of the script, and the one the escalated self-service run was handed over to.
        assert page.inner_text("#gp-an-sessions-total") == "3"
        assert page.inner_text("#gp-an-sessions-resolved") == "1"
        assert page.inner_text("#gp-an-resolution-rate") == "50%"
        assert page.inner_text("#gp-an-runs-started") == "4"
        # uPlot drew both charts: a canvas each.
        assert page.locator("#gp-an-series-chart canvas").count() >= 1
        assert page.locator("#gp-an-funnel-chart canvas").count() >= 1
        assert page.input_value("#gp-an-path") == path_id
        assert XSS in page.inner_text("#gp-an-path")  # the title, as text
        steps = page.locator("#gp-an-funnel-rows tr")
        assert steps.count() == 4 and page.locator("#gp-an-funnel-rows tr[data-step=ask] td").nth(1).inner_text() == "3"
        assert XSS in page.inner_text("#gp-an-agents-rows")  # the agent's name, as text
        csv = page.get_attribute("#gp-an-series-csv", "href")
        assert "format=csv" in csv and "interval=hour" in csv

        # A new customer in the queue: today's number moves without a reload.
        move(tenant, new_session(tenant), "waiting")
        wait_for(page, "document.getElementById('gp-an-sessions-total').textContent === '4'",
                 "the number to move", timeout=SERVER_WAIT)
        screenshot(page, "admin-analytics", full_page=True)
        assert page.evaluate("window.__xss") is None
        assert page.errors == []
    finally:
        page.context.close()


def test_without_uplot_the_page_says_run_make_install(tenant, monkeypatch):
    from guidepath.plugins.analytics import pages

    monkeypatch.setattr(pages, "UPLOT", ("vendor/not-there.js", "vendor/not-there.css"))
    html = tenant.admin.get("/admin/analytics")
    assert html.status_code == 200
    assert "run <code>make install</code>" in html.text and 'id="gp-an-vendor-missing"' in html.text
    assert "uPlot.iife.min.js?v=" not in html.text


def test_the_vendored_uplot_is_served(tenant):
    response = tenant.client().get("/analytics/assets/vendor/uPlot.iife.min.js")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/javascript")
    assert "uPlot" in response.text
    assert tenant.client().get("/analytics/assets/vendor/other.js").status_code == 404
    assert tenant.client().get("/analytics/assets/../pages.py").status_code == 404


def test_agents_get_the_403_page(browser, tenant):
    _, user = console_agent(tenant)
    page = signed_in_page(browser, tenant, user["email"], PASSWORD, "/queue")
    try:
        response = page.goto(f"http://{tenant.host}/admin/analytics")
        assert response.status == 403
        assert "for admins" in page.inner_text("#gp-error-message")
        assert page.locator("a[href='/admin/analytics']").count() == 0
    finally:
        page.context.close()
