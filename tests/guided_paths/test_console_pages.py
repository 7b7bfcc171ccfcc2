"""The Guided Path pages of the console over HTTP (the browser half is in
test_console_browser.py): who may see them, the panel and the menu item the hooks
add, events of a session's run naming the session, and the graph's escaping."""

from __future__ import annotations

import re

import pytest

from console_support import agent, new_session
from fixtures_api import RUNS, outbox, published

from guidepath.guided_paths import graph_view

ADMIN_PAGES = ["/admin/guided-paths", "/admin/guided-paths/new"]
XSS = '<img src=x onerror="window.__xss=1">'


def doc(key: str = "page-check", title: str = "Page check") -> dict:
    return {
        "schema_version": 1, "id": key, "title": title, "start": "ask",
        "steps": {
            "ask": {"type": "question", "prompt": "Does it work?", "kind": "yes_no", "next": "decide"},
            "decide": {"type": "decision", "branches": [{"when": {"===": [{"var": "answers.ask"}, True]},
                                                         "next": "done"}], "default": "nope"},
            "done": {"type": "end", "outcome": "resolved"},
            "nope": {"type": "end", "outcome": "unresolved"},
        },
    }


def test_admin_pages_need_an_admin(tenant):
    path = published(tenant.admin, doc())
    pages = [*ADMIN_PAGES, f"/admin/guided-paths/{path['id']}/edit", f"/admin/guided-paths/{path['id']}/graph"]
    client, _user = agent(tenant)
    for url in pages:
        assert tenant.admin.get(url).status_code == 200, url
        refused = client.get(url)
        assert refused.status_code == 403 and "Not allowed" in refused.text, url
        anonymous = tenant.client().get(url, allow_redirects=False)
        assert anonymous.status_code == 302 and "/signin?next=" in anonymous.headers["Location"], url
    assert 'id="gp-nav-guided-paths"' in tenant.admin.get("/queue").text
    assert 'id="gp-nav-guided-paths"' not in client.get("/queue").text


def test_the_session_page_has_the_runner_panel(tenant):
    session = new_session(tenant.admin)
    page = tenant.admin.get(f"/sessions/{session['id']}")
    assert 'data-panel="guided-path"' in page.text
    assert "/guided-paths/assets/runner-panel.js" in page.text


def test_a_sessions_run_names_the_session_in_every_event(tenant):
    admin = tenant.admin
    path = published(admin, {**doc(title={"en": "Page check", "de": "Seitenprüfung"}), "locales": ["en", "de"]})
    session = new_session(admin)
    run = admin.post(RUNS, json={"path_id": path["id"], "session_id": session["id"], "locale": "de"}).json()
    assert run["mode"] == "agent" and run["path_title"] == "Seitenprüfung"
    admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "ask", "value": True})
    events = [(kind, data) for kind, data in outbox(tenant, "run.") if data["run_id"] == run["id"]]
    assert {kind for kind, _ in events} == {"run.started", "run.step_completed", "run.completed"}
    assert all(data["session_id"] == session["id"] for _kind, data in events)


def test_the_graph_page_draws_every_step(tenant):
    path = published(tenant.admin, doc(title=XSS))
    page = tenant.admin.get(f"/admin/guided-paths/{path['id']}/graph")
    assert page.status_code == 200
    if graph_view.shutil.which("dot") is None:
        assert "Graphviz is not installed" in page.text
        pytest.skip("Graphviz (dot) is not installed: the page says so")
    svg = page.text[page.text.index("<svg"):page.text.index("</svg>")]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"ask", "decide", "done", "nope", "[decision]", "answers.ask === true", "otherwise"} <= set(texts)
    assert "<script" not in svg and "onerror" not in page.text.replace("onerror=&#34;", "").replace(
        "onerror=&quot;", "")
    assert "&lt;img src=x" in page.text  # the title, escaped


def test_dot_strings_cannot_break_out():
    hostile = 'a"b\\"];\n evil [shape=box] //'
    assert graph_view.dot_string(hostile) == '"a\\"b\\\\\\"];\\n evil [shape=box] //"'
    dot = graph_view.to_dot({"start": "x", "steps": {"x": {"type": "end", "outcome": "resolved",
                                                            "title": hostile}, hostile: {"type": "message",
                                                                                          "next": hostile}}})
    # Step ids never become DOT names: every node is n<index>, every label one quoted string.
    assert re.findall(r"^  (\S+) \[", dot, re.M) == ["graph", "node", "edge", "start", "n0", "n1"]
    if graph_view.shutil.which("dot"):
        svg = graph_view.render_svg(dot)
        assert "evil" in svg and "<script" not in svg and 'shape="box"' not in svg


def test_without_graphviz_the_page_says_so(monkeypatch):
    monkeypatch.setattr(graph_view.shutil, "which", lambda _name: None)
    with pytest.raises(graph_view.GraphUnavailable, match="apt-get install graphviz"):
        graph_view.render_svg("digraph { a }")


def test_svg_is_cleaned_of_anything_but_drawing():
    raw = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" onload="x()"><script>alert(1)</script>'
           b'<g id="a" style="x"><text x="1">&lt;b&gt;</text><a href="javascript:x"><path d="M0,0"/></a></g></svg>')
    clean = graph_view.clean_svg(raw)
    assert "script" not in clean and "onload" not in clean and "style" not in clean and "href" not in clean
    assert "&lt;b&gt;" in clean and "<path" in clean
