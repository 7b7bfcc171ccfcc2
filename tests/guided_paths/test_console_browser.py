"""Guided Paths in the console, in headless Chromium on both backends: the runner
panel on a session's page through every step type (with back and the server's
errors at the field), the run page answering a question, the admin list, editor
(errors at the step, fix, validate, publish, archive) and graph view, an agent's
403, and markup in a title or a step's text shown literally with no script run.
Screenshots go to docs/screenshots/ with GUIDEPATH_SCREENSHOTS=1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console_support import PASSWORD, agent, new_session, screenshot, signed_in_page, wait_for
from fixtures_api import RUNS, published

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'
DEMO_PATHS = Path(__file__).resolve().parents[2] / "guided_paths" / "demo_paths"
TITLE = f"Router reset {XSS}"


def every_step_doc() -> dict:
    return {
        "schema_version": 1, "id": "every-step", "title": TITLE, "start": "welcome",
        "variables": {"colour": {"type": "string"}, "tried": {"type": "array", "default": []},
                      "name": {"type": "string"}, "lights": {"type": "number"}},
        "steps": {
            "welcome": {"type": "message", "title": "Welcome", "text": f"Hello {XSS}\n\nLet's start.",
                        "next": "colour"},
            "colour": {"type": "question", "prompt": "Which colour is the light?", "kind": "single_choice",
                       "options": [{"value": "red", "label": "Red"}, {"value": "green", "label": "Green"}],
                       "store_as": "colour", "next": "tried"},
            "tried": {"type": "question", "prompt": "What did you try?", "kind": "multiple_choice",
                      "options": [{"value": "plug", "label": "Unplugged it"}, {"value": "wait", "label": "Waited"}],
                      "min_selected": 1, "store_as": "tried", "next": "name"},
            "name": {"type": "question", "prompt": "The network's name?", "kind": "text", "min_length": 3,
                     "store_as": "name", "next": "lights"},
            "lights": {"type": "question", "prompt": "How many lights are on?", "kind": "number",
                       "min": 0, "max": 8, "store_as": "lights", "next": "works"},
            "works": {"type": "question", "prompt": "Does it work now?", "kind": "yes_no", "next": "route"},
            "route": {"type": "decision", "branches": [{"when": {"===": [{"var": "answers.works"}, True]},
                                                        "next": "done"}], "default": "check"},
            "check": {"type": "action", "action": "acme.line_check", "next": "done", "on_error": "escalate"},
            "done": {"type": "end", "outcome": "resolved", "message": "Fixed."},
            "escalate": {"type": "end", "outcome": "escalate", "message": "An agent will take over."},
        },
    }


def field_error(page) -> str:
    wait_for(page, "[...document.querySelectorAll('#gp-runner .gp-field-error')].some(e => !e.hidden)",
             "an error at the field")
    return page.text_content("#gp-runner .gp-field-error")


def step_is(page, step_id: str) -> None:
    wait_for(page, f"document.querySelector('#gp-runner #gp-step')?.dataset.stepId === {json.dumps(step_id)}",
             f"step {step_id}")


def test_the_runner_panel_goes_through_every_step_type(browser, tenant):
    published(tenant.admin, every_step_doc())
    session = new_session(tenant.admin)
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, f"/sessions/{session['id']}")
    try:
        panel = '[data-panel="guided-path"]'
        wait_for(page, "document.querySelectorAll('#gp-runner-path option').length > 1", "the published paths")
        assert page.text_content("#gp-runner-path option[data-key='every-step']") == TITLE
        page.select_option("#gp-runner-path", label=TITLE)
        page.click("#gp-runner-start")

        step_is(page, "welcome")
        assert page.text_content("#gp-runner-title") == TITLE  # the title, not the key, as text
        assert XSS in page.text_content("#gp-message-text")
        page.click("#gp-ack")

        step_is(page, "colour")
        page.click("label:has-text('Green')")
        page.click("#gp-answer-submit")
        step_is(page, "tried")
        page.click("#gp-back")  # back: the answer given before is chosen again
        step_is(page, "colour")
        assert page.is_checked("#gp-runner input[type=radio][value='1']")
        page.click("#gp-answer-submit")

        step_is(page, "tried")
        page.click("#gp-answer-submit")  # nothing chosen: the server says so, at the field
        assert "at least 1" in field_error(page)
        page.click("label:has-text('Waited')")
        page.click("#gp-answer-submit")

        step_is(page, "name")
        page.fill("#gp-runner textarea", "ab")
        page.click("#gp-answer-submit")
        assert "3" in field_error(page)
        page.fill("#gp-runner textarea", "home-net")
        page.click("#gp-answer-submit")

        step_is(page, "lights")
        assert page.get_attribute("#gp-runner input[type=number]", "max") == "8"
        page.fill("#gp-runner input[type=number]", "12")
        page.click("#gp-answer-submit")
        assert "8" in field_error(page)
        assert page.get_attribute("#gp-runner input[type=number]", "aria-invalid") == "true"
        page.fill("#gp-runner input[type=number]", "3")
        page.click("#gp-answer-submit")

        step_is(page, "works")
        page.click("#gp-answer-no")
        step_is(page, "check")  # the decision went on by itself; nobody does acme.line_check
        page.click("#gp-action-done")

        step_is(page, "done")
        assert page.text_content("#gp-outcome") == "Resolved"
        assert page.text_content("#gp-end-message") == "Fixed."
        page.click("#gp-run-variables summary")
        assert page.text_content("#gp-runner [data-variable='tried']") == '["wait"]'
        assert page.text_content("#gp-runner [data-variable='lights']") == "3"
        history = page.text_content("#gp-runner .gp-run-history")
        assert "colour · back" in history and "check · completed" in history
        assert page.evaluate("window.__xss") is None and not page.errors, page.errors
        page.locator(panel).scroll_into_view_if_needed()
        screenshot(page, "guided-path-runner-panel")

        runs = tenant.admin.get(RUNS, params={"session_id": session["id"]}).json()["items"]
        assert [(r["status"], r["outcome"], r["mode"]) for r in runs] == [("completed", "resolved", "agent")]
    finally:
        page.context.close()


def test_an_ended_session_shows_the_handed_over_runs_history(browser, tenant):
    admin = tenant.admin
    published(admin, every_step_doc())
    self_service = admin.post(RUNS, json={"path_key": "every-step", "mode": "self_service"}).json()
    handed = admin.post(f"{RUNS}/{self_service['id']}/handover").json()
    session_id = handed["session_id"]
    admin.post(f"/api/v1/sessions/{session_id}/state", json={"state": "ended", "outcome": "resolved"})
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, f"/sessions/{session_id}")
    try:
        wait_for(page, "document.querySelector('[data-panel=\"guided-path\"] .gp-panel-body')?.dataset.ready")
        wait_for(page, "document.querySelector('#gp-runner-earlier .gp-run-history')", "the run's history")
        summary = page.text_content("#gp-runner-earlier summary")
        assert TITLE in summary and "self-service, handed over" in summary
        assert "handed over to session" in page.text_content("#gp-runner-earlier .gp-run-history")
        assert page.locator("#gp-runner form").count() == 0  # read only
    finally:
        page.context.close()


def test_the_run_page_answers_a_question(browser, tenant):
    published(tenant.admin, every_step_doc())
    run = tenant.admin.post(RUNS, json={"path_key": "every-step", "mode": "agent"}).json()
    tenant.admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "welcome", "value": {"ack": True}})
    url = f"/guided-paths/runs/{run['id']}"
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, url)
    try:
        assert page.text_content("#gp-run-title") == TITLE
        assert page.evaluate("getComputedStyle(document.querySelector('.gp-topbar')).display") != "none"
        wait_for(page, "document.querySelector('#gp-step')?.dataset.stepId === 'colour'")
        page.click("label:has-text('Red')")
        screenshot(page, "guided-path-run-page")
        page.click("#gp-answer-submit")
        wait_for(page, "document.querySelector('#gp-step')?.dataset.stepId === 'tried'")
        assert tenant.admin.get(f"{RUNS}/{run['id']}").json()["variables"]["colour"] == "red"
        assert page.evaluate("window.__xss") is None and not page.errors, page.errors
    finally:
        page.context.close()
    # Signed out: the sign-in page, which comes back to the run.
    anonymous = browser.new_context()
    try:
        page = anonymous.new_page()
        page.goto(f"http://{tenant.host}{url}")
        assert "/signin?next=" in page.url and page.is_visible("#gp-email")
    finally:
        anonymous.close()


BROKEN = {
    "schema_version": 1, "id": "edited-path", "title": f"Edited {XSS}", "start": "ask",
    "steps": {
        "ask": {"type": "question", "prompt": f"Plugged in? {XSS}", "kind": "yes_no", "next": "nowhere"},
        "done": {"type": "end", "outcome": "resolved"},
    },
}


def test_admins_edit_validate_publish_graph_and_archive(browser, tenant):
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password, "/admin/guided-paths/new")
    try:
        wait_for(page, "document.body.dataset.ready", "the editor")
        page.fill("#gp-editor", json.dumps(BROKEN, indent=2))
        page.click("#gp-editor-save")
        wait_for(page, "document.querySelector('.gp-issue-group[data-step=\"ask\"] .gp-issue')", "issues at step ask")
        issue = page.locator('.gp-issue-group[data-step="ask"] .gp-issue').first
        assert issue.get_attribute("data-code") == "graph.unknown_target"
        assert issue.get_attribute("data-pointer") == "/steps/ask/next"
        issue.click()  # selects what it points at in the editor
        selected = page.evaluate("(() => { const e = document.querySelector('#gp-editor'); "
                                 "return e.value.slice(e.selectionStart, e.selectionEnd); })()")
        assert selected == '"nowhere"'
        assert page.text_content("#gp-steps li[data-step='ask'] .gp-count") == "1"
        page.click("#gp-editor-publish")  # refused: every problem listed
        wait_for(page, "!document.querySelector('#gp-editor-error').hidden", "the refusal")
        assert "problem" in page.text_content("#gp-editor-error")
        assert page.text_content("#gp-editor-title") == f"Edited {XSS}"
        screenshot(page, "guided-path-editor-errors")

        fixed = {**BROKEN, "steps": {**BROKEN["steps"], "ask": {**BROKEN["steps"]["ask"], "next": "done"}}}
        page.fill("#gp-editor", json.dumps(fixed, indent=2))
        page.click("#gp-editor-save")
        wait_for(page, "document.querySelector('#gp-no-issues')", "no problems")
        page.click("#gp-editor-publish")
        wait_for(page, "document.querySelector('#gp-editor-notice').textContent.includes('Published version 1')")
        assert "published v1" in page.text_content("#gp-editor-version")

        page.click("#gp-editor-graph")
        page.wait_for_selector("#gp-graph svg, #gp-graph-unavailable")
        if page.locator("#gp-graph-unavailable").count():
            pytest.fail(page.text_content("#gp-graph-unavailable"))
        texts = page.eval_on_selector_all("#gp-graph svg text", "nodes => nodes.map(n => n.textContent)")
        assert {"ask", "done", "[question]", "yes / no"} <= set(texts)
        assert f"Plugged in? {XSS}"[:47] in " ".join(texts)

        page.goto(f"http://{tenant.host}/admin/guided-paths")
        row = page.locator("#gp-paths tr[data-key='edited-path']")
        assert row.locator(".gp-path-title").text_content() == f"Edited {XSS}"
        assert "v1" in row.text_content() and row.get_attribute("data-status") == "active"
        row.locator("[data-action='archive']").click()
        page.wait_for_selector("#gp-paths tr[data-key='edited-path'][data-status='archived']")
        assert page.evaluate("window.__xss") is None and not page.errors, page.errors
        screenshot(page, "guided-paths-list")
    finally:
        page.context.close()


def test_an_agent_gets_a_403_on_the_admin_pages(browser, tenant):
    _client, user = agent(tenant)
    page = signed_in_page(browser, tenant, user["email"], PASSWORD, "/queue")
    try:
        assert page.locator("#gp-nav-guided-paths").count() == 0
        response = page.goto(f"http://{tenant.host}/admin/guided-paths")
        assert response.status == 403 and page.text_content("#gp-error-title") == "Not allowed"
    finally:
        page.context.close()


def test_the_graph_of_a_demo_path_shows_every_step(browser, tenant):
    """The picture of a path (docs/screenshots/guided-path-graph.png): the demo path
    "Wi-Fi keeps dropping", every step a node, branches labelled."""
    document = json.loads((DEMO_PATHS / "wifi-keeps-dropping.json").read_text())
    path = published(tenant.admin, document)
    page = signed_in_page(browser, tenant, tenant.admin_email, tenant.admin_password,
                          f"/admin/guided-paths/{path['id']}/graph")
    page.wait_for_selector("#gp-graph svg")
    texts = set(page.eval_on_selector_all("#gp-graph svg text", "nodes => nodes.map(n => n.textContent)"))
    assert set(document["steps"]) <= texts  # steps are keyed by their ids
    assert "otherwise" in texts  # a decision's default branch is labelled
    screenshot(page, "guided-path-graph")
