"""Runs over HTTP: start, answer, back, resume, actions, apps, subpaths, abandon,
hand-over, pinning to a version, events — and refusals that change nothing."""

from __future__ import annotations

import copy
import threading

import pytest

from guidepath.core.plugins import PluginInfo, hookimpl
from guidepath.guided_paths.sansio.step_types import StepType

from fixtures_api import (
    APPS, PATHS, RUNS, created, document, error, outbox, published, register_app, snapshot,
)



def start(client, **body):
    response = client.post(RUNS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def answer(client, run, step_id, value, status=200):
    response = client.post(f"{RUNS}/{run['id']}/answers", json={"step_id": step_id, "value": value})
    assert response.status_code == status, response.text
    return response.json()


def test_a_run_from_start_to_end(tenant):
    admin = tenant.admin
    path = published(admin, document())
    run = start(admin, path_key="check-cable")
    assert run["id"].startswith("run_") and run["path_id"] == path["id"] and run["version"] == 1
    assert run["status"] == "waiting_answer" and run["current_step"] == "ask"
    assert run["mode"] == "self_service" and run["session_id"] is None
    assert run["view"] == {"step_id": "ask", "path_key": "check-cable", "type": "question", "title": None,
                           "kind": "yes_no", "prompt": "Is the cable plugged in?", "required": True}
    assert run["variables"] == {"plugged": False} and run["can_go_back"] is False

    done = answer(admin, run, "ask", True)
    assert done["status"] == "completed" and done["outcome"] == "resolved" and done["completed_at"]
    assert done["variables"] == {"plugged": True} and done["answers"] == {"ask": True}
    assert done["view"] == {"step_id": "fixed", "path_key": "check-cable", "type": "end", "title": None,
                            "outcome": "resolved", "message": "Good."}
    assert [(h["step_id"], h["event"]) for h in done["history"]] == [
        ("ask", "entered"), ("ask", "answered"), ("decide", "entered"), ("decide", "completed"),
        ("fixed", "entered"), ("fixed", "completed"),
    ]
    assert [h["seq"] for h in done["history"]] == list(range(6))


def test_events_carry_ids_only(tenant):
    admin = tenant.admin
    path = published(admin, document())
    run = start(admin, path_id=path["id"])
    answer(admin, run, "ask", True)
    events = outbox(tenant, "run.")
    assert [t for t, _ in events] == ["run.started", "run.step_completed", "run.step_completed",
                                      "run.step_completed", "run.completed"]
    ids = {"run_id": run["id"], "path_id": path["id"], "version": 1}
    assert events[0][1] == {**ids, "path_key": "check-cable", "session_id": None, "customer_id": None,
                            "mode": "self_service"}
    assert events[1][1] == {**ids, "session_id": None, "seq": 1, "step_id": "ask", "step_path_key": "check-cable",
                            "event": "answered", "step_type": "question"}
    assert events[3][1]["step_type"] == "end"
    completed = events[4][1]
    assert completed["status"] == "completed" and completed["outcome"] == "resolved" and completed["steps"] == 3
    assert completed["duration_ms"] >= 0
    assert all("value" not in data and "answers" not in data for _t, data in events)


def test_bad_answers_are_refused_and_change_nothing(tenant):
    admin = tenant.admin
    published(admin, document())
    run = start(admin, path_key="check-cable")
    before = snapshot(tenant)

    wrong = error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "ask", "value": "yes"}), 422)
    assert wrong == {"code": "wrong_type", "field": "value",
                     "message": "answer yes or no (true or false), not string"}
    not_current = error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "decide", "value": True}), 409)
    assert not_current["code"] == "not_current_step" and not_current["field"] == "step_id"
    assert "'ask'" in not_current["message"]
    missing = error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "ask"}), 422)
    assert missing["field"] == "value"
    extra = error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "ask", "value": True, "x": 1}), 422)
    assert extra["field"] == "x"
    assert error(admin.post(f"{RUNS}/{run['id']}/actions/ask", json={"result": {}}), 409)["code"] == "not_current_step"
    assert error(admin.post(f"{RUNS}/{run['id']}/back"), 409)["code"] == "nothing_to_undo"
    assert error(admin.post(f"{RUNS}/run_00000000000000000000000000/answers",
                            json={"step_id": "ask", "value": True}), 404)["field"] == "id"
    assert snapshot(tenant) == before


@pytest.mark.parametrize("body, status, field", [
    ({}, 422, "path_id"),
    ({"path_id": "gp_00000000000000000000000000"}, 404, "path_id"),
    ({"path_key": "nope"}, 404, "path_key"),
    ({"path_key": "check-cable", "path_id": "gp_x"}, 422, "path_id"),
    ({"path_key": "check-cable", "variables": {"colour": "red"}}, 422, "variables.colour"),
    ({"path_key": "check-cable", "variables": {"plugged": "yes"}}, 422, "variables.plugged"),
    ({"path_key": "check-cable", "session_id": "ses_00000000000000000000000000"}, 422, "session_id"),
    ({"path_key": "check-cable", "customer_id": "cus_00000000000000000000000000"}, 422, "customer_id"),
    ({"path_key": "check-cable", "mode": "robot"}, 422, "mode"),
    ({"path_key": "check-cable", "locale": "not a locale"}, 422, "locale"),
    ({"path_key": "check-cable", "speed": 3}, 422, "speed"),
])
def test_bad_starts_are_refused(tenant, body, status, field):
    published(tenant.admin, document())
    before = snapshot(tenant)
    assert error(tenant.admin.post(RUNS, json=body), status)["field"] == field
    assert snapshot(tenant) == before


def test_only_published_active_paths_start(tenant, enable_plugin):
    admin = tenant.admin
    draft = created(admin, document("draft-only"))
    assert error(admin.post(RUNS, json={"path_id": draft["id"]}), 409)["code"] == "not_published"
    path = published(admin, document())
    admin.post(f"{PATHS}/{path['id']}/archive").raise_for_status()
    assert error(admin.post(RUNS, json={"path_id": path["id"]}), 409)["code"] == "path_archived"
    admin.post(f"{PATHS}/{path['id']}/restore").raise_for_status()
    enable_plugin(tenant, "guided_paths", {"allow_self_service": False})
    assert error(admin.post(RUNS, json={"path_id": path["id"]}), 403)["code"] == "self_service_disabled"
    assert start(admin, path_id=path["id"], mode="agent")["mode"] == "agent"


def test_runs_stay_pinned_to_their_version(tenant):
    admin = tenant.admin
    path = published(admin, document())
    old = start(admin, path_key="check-cable")
    changed = document()
    changed["steps"]["ask"]["prompt"] = "Is the cable firmly plugged in?"
    changed["steps"]["fixed"]["message"] = "Version two says good."
    admin.put(f"{PATHS}/{path['id']}", json=changed).raise_for_status()
    assert admin.post(f"{PATHS}/{path['id']}/publish").json()["version"] == 2

    new = start(admin, path_key="check-cable")
    assert new["version"] == 2 and new["view"]["prompt"] == "Is the cable firmly plugged in?"
    resumed = admin.get(f"{RUNS}/{old['id']}").json()
    assert resumed["version"] == 1 and resumed["view"]["prompt"] == "Is the cable plugged in?"
    assert answer(admin, old, "ask", True)["view"]["message"] == "Good."
    assert answer(admin, new, "ask", True)["view"]["message"] == "Version two says good."


def test_back_and_resume(tenant):
    admin = tenant.admin
    doc = document()
    doc["steps"]["ask"]["next"] = "how_many"
    doc["steps"]["how_many"] = {"type": "question", "kind": "number", "prompt": "How many cables?",
                                "min": 0, "max": 10, "next": "decide"}
    published(admin, doc)
    run = start(admin, path_key="check-cable")
    run = answer(admin, run, "ask", False)
    assert run["current_step"] == "how_many" and run["can_go_back"] is True
    assert run["view"]["min"] == 0 and run["view"]["max"] == 10
    assert error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "how_many", "value": 11}), 422)["code"] == "too_large"

    assert error(admin.post(f"{RUNS}/{run['id']}/back", json={"step_id": "ask"}), 409)["code"] == "not_current_step"
    back = admin.post(f"{RUNS}/{run['id']}/back", json={"step_id": "how_many"})
    assert back.status_code == 200, back.text
    back = back.json()
    assert back["current_step"] == "ask" and back["variables"] == {"plugged": False} and back["answers"] == {}
    assert back["history"][-1]["event"] == "back" and back["history"][-1]["step_id"] == "ask"

    # A new client (the customer's app after a reconnect) sees the same run.
    other = tenant.client().login(tenant.admin_email, tenant.admin_password)
    resumed = other.get(f"{RUNS}/{run['id']}").json()
    assert resumed["view"] == back["view"] and resumed["history"] == back["history"]
    again = answer(other, resumed, "ask", True)
    assert again["variables"] == {"plugged": True} and again["current_step"] == "how_many"
    done = answer(other, again, "how_many", 2)
    assert done["outcome"] == "resolved" and done["answers"] == {"ask": True, "how_many": 2}
    assert error(admin.post(f"{RUNS}/{run['id']}/back"), 409)["code"] == "run_finished"


def test_abandon(tenant):
    admin = tenant.admin
    published(admin, document())
    run = start(admin, path_key="check-cable")
    abandoned = admin.post(f"{RUNS}/{run['id']}/abandon")
    assert abandoned.status_code == 200
    assert abandoned.json()["status"] == "abandoned" and abandoned.json()["view"] is None
    assert error(admin.post(f"{RUNS}/{run['id']}/abandon"), 409)["code"] == "run_finished"
    assert error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "ask", "value": True}), 409)["code"] == "run_finished"
    assert error(admin.post(f"{RUNS}/{run['id']}/handover"), 409)["code"] == "run_finished"
    completed = [data for t, data in outbox(tenant, "run.completed")]
    assert completed == [{"run_id": run["id"], "path_id": run["path_id"], "version": 1, "session_id": None,
                          "status": "abandoned",
                          "outcome": None, "steps": 0, "duration_ms": completed[0]["duration_ms"]}]


def test_escalated_self_service_run_is_handed_over(tenant):
    admin = tenant.admin
    customer = admin.post("/api/v1/customers", json={"email": "c@example.com"}).json()
    published(admin, document())
    run = start(admin, path_key="check-cable", customer_id=customer["id"])
    done = answer(admin, run, "ask", False)
    assert done["status"] == "completed" and done["outcome"] == "escalate"
    assert done["session_id"] and done["handed_over_at"]
    session = admin.get(f"/api/v1/sessions/{done['session_id']}").json()
    assert session["state"] == "waiting" and session["customer_id"] == customer["id"]
    assert done["history"][-1] == {**done["history"][-1], "event": "handed_over",
                                   "value": {"session_id": session["id"]}}
    assert [r["id"] for r in admin.get(RUNS, params={"session_id": session["id"]}).json()["items"]] == [run["id"]]
    handed = [data for _t, data in outbox(tenant, "run.handed_over")]
    assert handed == [{"run_id": run["id"], "path_id": run["path_id"], "version": 1, "session_id": session["id"]}]
    assert error(admin.post(f"{RUNS}/{run['id']}/handover"), 409)["code"] == "already_handed_over"


def test_explicit_hand_over_keeps_the_run_going(tenant):
    admin = tenant.admin
    published(admin, document())
    session = admin.post("/api/v1/sessions", json={}).json()
    run = start(admin, path_key="check-cable", session_id=session["id"], mode="self_service")
    handed = admin.post(f"{RUNS}/{run['id']}/handover")
    assert handed.status_code == 200, handed.text
    handed = handed.json()
    assert handed["session_id"] == session["id"] and handed["status"] == "waiting_answer"
    assert admin.get(f"/api/v1/sessions/{session['id']}").json()["state"] == "waiting"
    # The agent carries on with the customer; escalating now hands over nothing twice.
    done = answer(admin, handed, "ask", False)
    assert done["outcome"] == "escalate" and done["session_id"] == session["id"]
    assert len(outbox(tenant, "run.handed_over")) == 1

    agent_run = start(admin, path_key="check-cable", session_id=session["id"])
    assert agent_run["mode"] == "agent"
    assert error(admin.post(f"{RUNS}/{agent_run['id']}/handover"), 409)["code"] == "not_self_service"
    other = start(admin, path_key="check-cable")
    assert error(admin.post(f"{RUNS}/{other['id']}/handover", json={"session_id": "ses_nope"}), 422)["field"] == "session_id"
    admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "ended"}).raise_for_status()
    assert error(admin.post(f"{RUNS}/{other['id']}/handover", json={"session_id": session["id"]}), 409)["code"] == "session_ended"


def test_two_answers_racing_for_one_step(tenant):
    admin = tenant.admin
    published(admin, document())
    run = start(admin, path_key="check-cable")
    results = []
    barrier = threading.Barrier(4)

    def send(value):
        client = tenant.client().login(tenant.admin_email, tenant.admin_password)
        barrier.wait()
        results.append(client.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "ask", "value": value}))

    threads = [threading.Thread(target=send, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409], [r.text for r in results]
    final = admin.get(f"{RUNS}/{run['id']}").json()
    assert [h["event"] for h in final["history"]].count("answered") == 1


def test_actions_and_apps(tenant):
    admin = tenant.admin
    doc = document("device-check", variables={"report": {"type": "object", "default": {}},
                                             "rating": {"type": "integer", "default": 0}})
    doc["start"] = "collect"
    doc["steps"] = {
        "collect": {"type": "action", "action": "diagnostics.collect", "input": {"what": ["battery"]},
                    "store_as": "report", "next": "rate", "on_error": "failed"},
        "rate": {"type": "app", "app_id": "rating", "input": {"health": {"var": "vars.report.health"}},
                 "output_schema": {"type": "integer", "minimum": 1, "maximum": 5},
                 "store_as": "rating", "next": "done"},
        "done": {"type": "end", "outcome": "resolved"},
        "failed": {"type": "end", "outcome": "unresolved"},
    }
    published_error = error(admin.post(f"{PATHS}/import", params={"publish": "true"}, json=doc), 422)
    assert published_error["issues"] == [{
        "pointer": "/steps/rate/app_id", "code": "app.unknown_app",
        "message": "app 'rating' is not registered for this account; an admin registers Guided Path "
                   "Apps with POST /api/v1/guided-path-apps"}]
    rating = register_app(admin, "rating", output_schema={"type": "integer", "maximum": 4})
    published(admin, doc)
    run = start(admin, path_key="device-check", mode="agent")
    assert run["status"] == "waiting_action"
    assert run["view"] == {"step_id": "collect", "path_key": "device-check", "type": "action", "title": None,
                           "action": "diagnostics.collect", "input": {"what": ["battery"]}}
    requested = outbox(tenant, "run.action_requested")
    assert requested == [("run.action_requested", {"run_id": run["id"], "path_id": run["path_id"], "version": 1,
                                                    "step_id": "collect", "action": "diagnostics.collect",
                                                    "session_id": None})]
    before = snapshot(tenant)
    assert error(admin.post(f"{RUNS}/{run['id']}/actions/collect", json={"result": [1]}), 422)["field"] == "result"
    assert error(admin.post(f"{RUNS}/{run['id']}/actions/rate", json={"result": {}}), 409)["code"] == "not_current_step"
    assert snapshot(tenant) == before

    run = admin.post(f"{RUNS}/{run['id']}/actions/collect", json={"result": {"health": 81}}).json()
    assert run["status"] == "waiting_app" and run["variables"]["report"] == {"health": 81}
    assert run["view"]["input"] == {"health": 81} and run["view"]["output_schema"]["maximum"] == 5
    assert run["view"]["app"] == {"app_id": "rating", "title": "Rating", "url": "https://apps.example.com/rating",
                                  "origin": "https://apps.example.com", "input_schema": {"type": "object"},
                                  "output_schema": {"type": "integer", "maximum": 4}}
    assert run["view"]["app_error"] is None
    before = snapshot(tenant)
    bad = error(admin.post(f"{RUNS}/{run['id']}/apps/rate", json={"output": 9}), 422)
    assert bad["code"] == "invalid_output" and "app 'rating' declares" in bad["message"]
    # Allowed by the app's declared schema, refused by the step's own output_schema.
    bad = error(admin.post(f"{RUNS}/{run['id']}/apps/rate", json={"output": 0}), 422)
    assert bad["code"] == "invalid_output" and bad["field"] == "output"
    assert snapshot(tenant) == before
    # Taken off the allowlist: the run shows why, and refuses outputs.
    assert admin.delete(f"{APPS}/{rating['id']}").status_code == 204
    shown = admin.get(f"{RUNS}/{run['id']}").json()["view"]
    assert shown["app"] is None and shown["app_error"]["code"] == "app_not_allowed"
    refused = error(admin.post(f"{RUNS}/{run['id']}/apps/rate", json={"output": 4}), 409)
    assert refused["code"] == "app_not_allowed" and "'rating' is not registered" in refused["message"]
    assert snapshot(tenant) == before
    register_app(admin, "rating", output_schema={"type": "integer", "maximum": 4})
    done = admin.post(f"{RUNS}/{run['id']}/apps/rate", json={"output": 4}).json()
    assert done["outcome"] == "resolved" and done["variables"]["rating"] == 4

    failing = start(admin, path_key="device-check", mode="agent")
    failed = admin.post(f"{RUNS}/{failing['id']}/actions/collect", json={"ok": False, "result": {"error": "offline"}})
    assert failed.json()["outcome"] == "unresolved" and failed.json()["variables"]["report"] == {}


def test_subpaths_run_inside_the_run(tenant):
    admin = tenant.admin
    published(admin, document("child"))
    parent = document("parent", variables={"sub": {"type": "object", "default": {}}})
    parent["start"] = "intro"
    parent["steps"] = {
        "intro": {"type": "message", "text": "First, the cable.", "next": "cable"},
        "cable": {"type": "subpath", "path_id": "child", "store_as": "sub", "next": "after"},
        "after": {"type": "decision",
                  "branches": [{"when": {"===": [{"var": "vars.sub.outcome"}, "resolved"]}, "next": "ok"}],
                  "default": "no"},
        "ok": {"type": "end", "outcome": "resolved", "message": "Both fine."},
        "no": {"type": "end", "outcome": "unresolved"},
    }
    published(admin, parent)
    run = start(admin, path_key="parent", mode="agent")
    assert run["view"]["type"] == "message" and run["view"]["answer_hint"] == {"ack": True}
    assert error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "intro", "value": {"ack": False}}), 422)["code"] == "wrong_type"
    inside = answer(admin, run, "intro", {"ack": True})
    assert inside["current_step"] == "ask" and inside["current_path_key"] == "child"
    assert inside["view"]["path_key"] == "child" and inside["view"]["prompt"] == "Is the cable plugged in?"
    done = answer(admin, inside, "ask", True)
    assert done["outcome"] == "resolved" and done["variables"]["sub"]["outcome"] == "resolved"
    assert done["view"]["message"] == "Both fine."
    assert {h["path_key"] for h in done["history"]} == {"parent", "child"}
    completed = [(d["step_path_key"], d["step_id"], d["step_type"])
                 for _t, d in outbox(tenant, "run.step_completed") if d["run_id"] == run["id"]]
    assert completed == [("parent", "intro", "message"), ("child", "ask", "question"),
                         ("child", "decide", "decision"), ("child", "fixed", "end"),
                         ("parent", "cable", "subpath"), ("parent", "after", "decision"),
                         ("parent", "ok", "end")]

    # Escalating inside the subpath ends the whole run; the view shows the child's end.
    escalated = answer(admin, answer(admin, start(admin, path_key="parent", mode="agent"), "intro", {"ack": True}),
                       "ask", False)
    assert escalated["outcome"] == "escalate" and escalated["view"] == {
        "step_id": "escalate", "path_key": "child", "type": "end", "title": None, "outcome": "escalate",
        "message": "An agent will help."}
    assert admin.get(f"{RUNS}/{escalated['id']}").json()["view"] == escalated["view"]


def test_locales(tenant):
    admin = tenant.admin
    doc = document(locales=["en", "de"], title={"en": "Check the cable", "de": "Kabel prüfen"})
    doc["steps"]["ask"]["prompt"] = {"en": "Is the cable plugged in?", "de": "Ist das Kabel eingesteckt?"}
    published(admin, doc)
    german = start(admin, path_key="check-cable", locale="de-CH")
    assert german["locale"] == "de" and german["view"]["prompt"] == "Ist das Kabel eingesteckt?"
    assert start(admin, path_key="check-cable", locale="fr")["view"]["prompt"] == "Is the cable plugged in?"
    assert start(admin, path_key="check-cable")["locale"] == "en"


def test_list_runs(tenant):
    admin = tenant.admin
    published(admin, document())
    session = admin.post("/api/v1/sessions", json={}).json()
    first = start(admin, path_key="check-cable", session_id=session["id"])
    second = start(admin, path_key="check-cable")
    answer(admin, second, "ask", True)
    ids = lambda **params: [r["id"] for r in admin.get(RUNS, params=params).json()["items"]]
    assert ids() == [first["id"], second["id"]]
    assert ids(session_id=session["id"]) == [first["id"]]
    assert ids(status="live") == [first["id"]]
    assert ids(status="completed") == [second["id"]]
    assert ids(path_id="check-cable") == [first["id"], second["id"]]
    assert ids(path_id="unknown") == []
    page = admin.get(RUNS, params={"limit": 1}).json()
    assert admin.get(RUNS, params={"limit": 1, "cursor": page["next"]}).json()["items"][0]["id"] == second["id"]
    assert "variables" not in page["items"][0]
    assert error(admin.get(RUNS, params={"status": "flying"}), 422)["field"] == "status"
    assert error(admin.get(RUNS, params={"cursor": "x"}), 422)["field"] == "cursor"


class SignaturePlugin:
    PLUGIN = PluginInfo(name="test-signature")

    @hookimpl
    def register_step_types(self):
        return [StepType(
            name="acme.signature", description="Sign on screen.",
            config_schema={"type": "object", "required": ["prompt"], "additionalProperties": False,
                           "properties": {"prompt": {"type": "string"}}},
            interactive=True,
            answer_schema={"type": "object", "required": ["svg"], "additionalProperties": False,
                           "properties": {"svg": {"type": "string", "minLength": 1}}},
        )]


def test_plugin_step_types(tenant, register_plugin, enable_plugin):
    admin = tenant.admin
    doc = document("signed")
    doc["start"] = "sign"
    doc["steps"]["sign"] = {"type": "acme.signature", "prompt": "Sign here", "next": "ask"}
    # Without the plugin, the draft is kept but cannot be published.
    path = created(admin, doc)
    assert [i["code"] for i in path["issues"]] == ["step.unknown_type"]

    register_plugin(SignaturePlugin())
    bad = copy.deepcopy(doc)
    bad["steps"]["sign"]["prompt"] = 5
    err = error(admin.put(f"{PATHS}/signed", json=bad), 422)
    assert err["issues"][0]["pointer"] == "/steps/sign/prompt"
    admin.post(f"{PATHS}/signed/publish").raise_for_status()
    run = start(admin, path_key="signed")
    assert run["view"]["type"] == "acme.signature" and run["view"]["config"] == {"prompt": "Sign here"}
    assert error(admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "sign", "value": {"svg": ""}}), 422)["code"] == "invalid_answer"
    assert answer(admin, run, "sign", {"svg": "<svg/>"})["current_step"] == "ask"

    # A tenant that disables the plugin cannot publish with its step types.
    enable_plugin(tenant, "test-signature", enabled=False)
    admin.patch(f"{PATHS}/signed", json={"title": "Signed, again"}).raise_for_status()
    assert error(admin.post(f"{PATHS}/signed/publish"), 422)["issues"][0]["code"] == "step.unknown_type"
