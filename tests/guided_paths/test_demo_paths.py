"""The demo paths: valid, seeded by the ``seed_demo`` hook, idempotent, and each
one run from start to an end over HTTP (both backends)."""

from __future__ import annotations

from guidepath.guided_paths.demo import demo_documents, seed_demo_paths
from guidepath.guided_paths.plugin import registry_for
from guidepath.guided_paths.sansio.validation import validate_document

from fixtures_api import PATHS, RUNS, outbox


KEYS = ["phone-wont-charge", "set-up-email", "wifi-keeps-dropping"]


def test_demo_documents_are_valid_and_use_every_feature(guidepath_kernel):
    documents = demo_documents()
    assert [d["id"] for d in documents] == KEYS
    registry = registry_for(guidepath_kernel)
    published = {}
    for doc in documents:
        assert validate_document(doc, registry, known_paths=published) == []
        published[doc["id"]] = doc
    steps = [s for d in documents for s in d["steps"].values()]
    kinds = {s["kind"] for s in steps if s["type"] == "question"}
    assert kinds == {"single_choice", "multiple_choice", "text", "number", "yes_no"}
    assert {s["outcome"] for s in steps if s["type"] == "end"} == {"resolved", "unresolved", "escalate"}
    assert {s["action"] for s in steps if s["type"] == "action"} == {"diagnostics.collect"}
    assert any("===" in b["when"] for s in steps if s["type"] == "decision" for b in s["branches"])
    assert any(s["type"] == "message" for s in steps)


def test_seed_demo_hook_publishes_them_once(tenant):
    ctx = tenant.context()
    ctx.hooks.seed_demo(ctx.tenant, ctx)
    paths = tenant.admin.get(PATHS).json()["items"]
    assert sorted(p["key"] for p in paths) == KEYS
    assert all(p["latest_version"] == 1 for p in paths)
    seed_demo_paths(ctx)  # again: nothing new
    assert all(p["latest_version"] == 1 for p in tenant.admin.get(PATHS).json()["items"])
    assert len(outbox(tenant, "guided_path.published")) == 3


class Run:
    """Drive one run over HTTP, checking where it waits before each move."""

    def __init__(self, client, **body):
        self.client = client
        response = client.post(RUNS, json=body)
        assert response.status_code == 201, response.text
        self.run = response.json()

    @property
    def view(self):
        return self.run["view"]

    def _post(self, path, body):
        response = self.client.post(f"{RUNS}/{self.run['id']}{path}", json=body)
        assert response.status_code == 200, response.text
        self.run = response.json()
        return self

    def answer(self, step_id, value):
        assert self.run["current_step"] == step_id, (self.run["current_step"], step_id)
        return self._post("/answers", {"step_id": step_id, "value": value})

    def ack(self, step_id):
        assert self.view["type"] == "message"
        return self.answer(step_id, {"ack": True})

    def action(self, step_id, result, ok=True):
        assert self.run["status"] == "waiting_action" and self.run["current_step"] == step_id
        return self._post(f"/actions/{step_id}", {"ok": ok, "result": result})


def test_phone_wont_charge_in_german_to_a_worn_battery(tenant):
    seed_demo_paths(tenant.context())
    run = Run(tenant.admin, path_key="phone-wont-charge", locale="de-DE", mode="agent")
    assert run.view["title"] == "Bringen wir Ihr Handy zum Laden"
    run.ack("welcome")
    assert run.view["prompt"] == "Wie laden Sie das Handy?"
    assert [o["label"] for o in run.view["options"]][0] == "Netzteil in der Steckdose"
    run.answer("ask_charger", "wall")
    run.answer("check_port", True).ack("clean_port").answer("port_clean_works", False)
    run.answer("try_other_cable", False)
    assert run.view == {"step_id": "run_diagnostics", "path_key": "phone-wont-charge", "type": "action",
                        "title": "Akku wird geprüft", "action": "diagnostics.collect",
                        "input": {"categories": ["battery", "charging"]}}
    run.action("run_diagnostics", {"battery_health": "poor", "charging_port": "ok"})
    assert run.run["status"] == "completed" and run.run["outcome"] == "unresolved"
    assert run.view["message"].startswith("Der Akku ist verschlissen")
    assert run.run["variables"]["charger"] == "wall"


def test_phone_wont_charge_wireless_resolved(tenant):
    seed_demo_paths(tenant.context())
    run = Run(tenant.admin, path_key="phone-wont-charge")
    run.ack("welcome").answer("ask_charger", "wireless").ack("wireless_tips").answer("wireless_works", True)
    assert run.run["outcome"] == "resolved" and run.view["message"] == "Great — your phone is charging again."


def test_wifi_keeps_dropping_escalates_to_an_agent(tenant):
    seed_demo_paths(tenant.context())
    run = Run(tenant.admin, path_key="wifi-keeps-dropping")           # self-service
    run.answer("ask_scope", "this_phone")
    assert run.view["kind"] == "multiple_choice" and run.view["min_selected"] == 1
    run.answer("ask_when", ["moving", "random"])
    assert run.view["kind"] == "number" and (run.view["min"], run.view["max"]) == (0, 4)
    run.answer("ask_bars", 3).ack("forget_network").answer("better_now", False)
    run.action("collect_network", {"error": "the device did not answer"}, ok=False)
    assert run.run["outcome"] == "escalate" and run.run["handed_over_at"]
    session = tenant.admin.get(f"/api/v1/sessions/{run.run['session_id']}").json()
    assert session["state"] == "waiting"
    assert run.run["variables"]["bars"] == 3


def test_wifi_router_problem_is_unresolved(tenant):
    seed_demo_paths(tenant.context())
    run = Run(tenant.admin, path_key="wifi-keeps-dropping", mode="agent")
    run.answer("ask_scope", "all_devices").ack("restart_router").answer("router_stable", False)
    assert run.run["outcome"] == "unresolved" and "internet provider" in run.view["message"]


def test_set_up_email_by_hand_then_app_password(tenant):
    seed_demo_paths(tenant.context())
    run = Run(tenant.admin, path_key="set-up-email", mode="agent")
    run.answer("ask_provider", "other")
    response = tenant.admin.post(f"{RUNS}/{run.run['id']}/answers",
                                 json={"step_id": "ask_address", "value": "not an address"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "pattern_mismatch"
    run.answer("ask_address", "ada@example.com").answer("knows_server", True).ack("manual_setup")
    run.answer("works", False).answer("ask_two_step", True).ack("app_password").answer("works_now", True)
    assert run.run["outcome"] == "resolved" and run.view["message"].startswith("Your email is set up")
    # What the customer typed stays in the run, never in an event.
    assert run.run["answers"]["ask_address"] == "ada@example.com"
    assert "ada@example.com" not in repr(outbox(tenant))


def test_set_up_email_sync_switched_off(tenant):
    seed_demo_paths(tenant.context())
    run = Run(tenant.admin, path_key="set-up-email", mode="agent")
    run.answer("ask_provider", "gmail").ack("add_account").answer("works", False).answer("ask_two_step", False)
    run.action("check_accounts", {"mail_sync": "disabled"})
    assert run.run["outcome"] == "resolved" and "Sync mail" in run.view["message"]
