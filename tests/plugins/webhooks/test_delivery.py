"""Deliveries against a real HTTP receiver on loopback, on both backends: signed per
Standard Webhooks (verified with the ``standardwebhooks`` reference library),
retried on a stored schedule, and never crossing tenants."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook

from webhook_support import wait_until, HOOKS, deliveries, make_event, subscribe


def _verify(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_events_are_delivered_signed_per_standard_webhooks(tenant, receiver, webhook_options):
    hook = subscribe(tenant, receiver.url(), ["customer.*"])
    assert hook["secret"].startswith("whsec_") and "secret" not in tenant.admin.get(f"{HOOKS}/{hook['id']}").json()
    customers = make_event(tenant, 2)

    got = wait_until(lambda: len(receiver.received()) >= 2 and receiver.received(), what="two deliveries")
    envelopes = [_verify(hook["secret"], r) for r in got]
    assert sorted(e["data"]["customer_id"] for e in envelopes) == sorted(customers)
    for request, envelope in zip(got, envelopes):
        assert envelope["type"] == "customer.created" and envelope["tenant_id"] == tenant.id
        assert request.headers["webhook-id"] == envelope["id"]
        assert request.headers["content-type"] == "application/json"
        assert set(envelope) == {"id", "tenant_id", "type", "time", "schema_version", "data"}
    # A wrong secret does not verify.
    other = tenant.admin.post(f"{HOOKS}/{hook['id']}/rotate-secret").json()["secret"]
    with pytest.raises(Exception):
        Webhook("whsec_" + "A" * 43 + "=").verify(got[0].body, got[0].headers)
    assert other != hook["secret"]

    logged = wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "succeeded"][1:] and
                        deliveries(tenant, hook["id"]), what="the log")
    first = logged[0]
    assert first["attempt_count"] == 1 and first["attempts"][0]["status_code"] == 200
    assert first["attempts"][0]["response_body"] == "ok" and first["attempts"][0]["latency_ms"] >= 0


def test_patterns_choose_the_events(tenant, receiver, webhook_options):
    subscribe(tenant, receiver.url("/sessions"), ["session.*"])
    subscribe(tenant, receiver.url("/customers"), ["customer.created"])
    make_event(tenant)
    wait_until(lambda: receiver.received("/customers"), what="the customer event")
    tenant.admin.post("/api/v1/sessions", json={}).raise_for_status()
    wait_until(lambda: receiver.received("/sessions"), what="the session event")
    time.sleep(0.3)
    assert all(json.loads(r.body)["type"].startswith("session.") for r in receiver.received("/sessions"))
    assert [json.loads(r.body)["type"] for r in receiver.received("/customers")] == ["customer.created"]


def test_receiver_down_then_up_gets_every_event_with_stable_ids(tenant, receiver, webhook_options):
    down = {"on": True}
    receiver.script = lambda path: (503, {}, b"down", 0.0) if down["on"] else (200, {}, b"ok", 0.0)
    hook = subscribe(tenant, receiver.url(), ["customer.created"])
    make_event(tenant, 3)
    wait_until(lambda: len({r.headers["webhook-id"] for r in receiver.received()}) >= 3 and
               len(receiver.received()) >= 6, what="retries while down")
    down["on"] = False
    wait_until(lambda: all(d["status"] == "succeeded" for d in deliveries(tenant, hook["id"])) and
               len(deliveries(tenant, hook["id"])) == 3, what="all delivered")
    ok = [r for r in receiver.received() if r.headers["webhook-id"]]
    by_id: dict[str, set] = {}
    for request in ok:
        envelope = _verify(hook["secret"], request)
        assert envelope["id"] == request.headers["webhook-id"]
        by_id.setdefault(request.headers["webhook-id"], set()).add(request.body)
    assert len(by_id) == 3 and all(len(bodies) == 1 for bodies in by_id.values())  # same body on every retry
    for item in deliveries(tenant, hook["id"]):
        assert item["attempt_count"] >= 2
        assert [a["status_code"] for a in item["attempts"]][-1] == 503 and item["attempts"][0]["status_code"] == 200


def test_retry_after_is_honoured(tenant, receiver, webhook_options):
    calls = []

    def script(path):
        calls.append(time.monotonic())
        return (429, {"Retry-After": "2"}, b"slow down", 0.0) if len(calls) == 1 else (200, {}, b"", 0.0)

    receiver.script = script
    hook = subscribe(tenant, receiver.url(), ["customer.created"])
    make_event(tenant)
    wait_until(lambda: len(calls) >= 2, what="the retry")
    assert calls[1] - calls[0] >= 1.9  # the schedule alone would retry after 0.2 s
    item = wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "succeeded"],
                      what="success")[0]
    assert [a["status_code"] for a in item["attempts"]] == [200, 429]


def test_410_disables_the_subscription_with_an_event_and_an_audit_entry(tenant, receiver, webhook_options):
    receiver.script = lambda path: (410, {}, b"gone", 0.0) if path == "/gone" else (200, {}, b"ok", 0.0)
    gone = subscribe(tenant, receiver.url("/gone"), ["customer.created"])
    watcher = subscribe(tenant, receiver.url("/watch"), ["webhook.*"])
    make_event(tenant)
    state = wait_until(lambda: (s := tenant.admin.get(f"{HOOKS}/{gone['id']}").json()) and not s["enabled"] and s,
                       what="disabled")
    assert state["disabled_reason"] == "gone"
    notice = wait_until(lambda: receiver.received("/watch"), what="the disabled event")[0]
    envelope = _verify(watcher["secret"], notice)
    assert envelope["type"] == "webhook.subscription_disabled"
    assert envelope["data"] == {"subscription_id": gone["id"], "reason": "gone"}
    audit = tenant.admin.get("/api/v1/audit-log").json()["items"]
    assert any(e["action"] == "webhook.disabled" and e["target"] == gone["id"] for e in audit)
    # Nothing more goes to it.
    make_event(tenant)
    time.sleep(0.5)
    assert len(receiver.received("/gone")) == 1


def test_failing_for_too_long_disables(tenant, receiver, webhook_options):
    webhook_options(disable_after_seconds=0.5)
    receiver.script = lambda path: (500, {}, b"broken", 0.0)
    hook = subscribe(tenant, receiver.url(), ["customer.created"])
    make_event(tenant)
    state = wait_until(lambda: (s := tenant.admin.get(f"{HOOKS}/{hook['id']}").json()) and not s["enabled"] and s,
                       what="disabled after failing")
    assert state["disabled_reason"] == "failing"
    assert tenant.admin.get("/api/v1/audit-log").json()["items"][0]["action"] in ("webhook.disabled",)


def test_exhausted_schedule_fails_then_redeliver(tenant, receiver, webhook_options):
    webhook_options(schedule=(0.0, 0.1, 0.1))
    status = {"code": 500}
    receiver.script = lambda path: (status["code"], {}, b"x" * 10_000, 0.0)
    hook = subscribe(tenant, receiver.url(), ["customer.created"])
    make_event(tenant)
    item = wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "failed"],
                      what="failed")[0]
    assert item["attempt_count"] == 3 and item["next_attempt_at"] is None
    assert len(item["attempts"][0]["response_body"]) == 2048  # truncated in the log
    status["code"] = 204
    response = tenant.admin.post(f"{HOOKS}/{hook['id']}/deliveries/{item['id']}/redeliver")
    assert response.status_code == 202, response.text
    done = wait_until(lambda: tenant.admin.get(f"{HOOKS}/{hook['id']}/deliveries/{item['id']}").json()
                      ["status"] == "succeeded", what="redelivered")
    assert done
    ids = {r.headers["webhook-id"] for r in receiver.received()}
    assert len(ids) == 1 and len(receiver.received()) == 4


def test_rotation_signs_with_both_secrets(tenant, receiver, webhook_options):
    hook = subscribe(tenant, receiver.url(), ["customer.created"])
    rotated = tenant.admin.post(f"{HOOKS}/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["secret"] != hook["secret"] and new["previous_secret_expires_at"]
    make_event(tenant)
    request = wait_until(lambda: receiver.received(), what="delivery")[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert _verify(hook["secret"], request) == _verify(new["secret"], request)


def test_a_tenants_subscription_never_gets_another_tenants_events(tenant_factory, receiver, webhook_options):
    a, b = tenant_factory(), tenant_factory()
    hook_a = subscribe(a, receiver.url("/a"))
    hook_b = subscribe(b, receiver.url("/b"))
    make_event(a, 2)
    make_event(b, 1)
    wait_until(lambda: len(receiver.received("/a")) >= 2 and len(receiver.received("/b")) >= 1, what="deliveries")
    time.sleep(0.5)
    assert {_verify(hook_a["secret"], r)["tenant_id"] for r in receiver.received("/a")} == {a.id}
    assert {_verify(hook_b["secret"], r)["tenant_id"] for r in receiver.received("/b")} == {b.id}


def test_a_slow_endpoint_does_not_delay_another(tenant, receiver, webhook_options):
    """The slow endpoint takes 3 s an answer and gets 2 deliveries at a time: its third
    delivery arrives only after its first two end. Every delivery to the fast endpoint
    arrives before that — measured between the two endpoints, so how long the events
    took to reach the worker (the bus, on the server backend) does not matter."""
    webhook_options(threads=4, per_endpoint=2, read_timeout=5.0, total_timeout=6.0)
    receiver.script = lambda path: (200, {}, b"", 3.0 if path == "/slow" else 0.0)
    subscribe(tenant, receiver.url("/slow"), ["customer.created"])
    subscribe(tenant, receiver.url("/fast"), ["customer.created"])
    make_event(tenant, 5)
    wait_until(lambda: len(receiver.received("/fast")) >= 5, what="fast deliveries", timeout=60)
    wait_until(lambda: len(receiver.received("/slow")) >= 3, what="the slow endpoint's third delivery", timeout=60)
    third_slow = sorted(r.at for r in receiver.received("/slow"))[2]
    assert max(r.at for r in receiver.received("/fast")) < third_slow, "the fast endpoint waited behind the slow one"


def test_redirects_are_not_followed(tenant, receiver, webhook_options):
    receiver.script = lambda path: ((302, {"Location": receiver.url("/target")}, b"", 0.0) if path == "/redirect"
                                    else (200, {}, b"", 0.0))
    webhook_options(schedule=(0.0,))
    hook = subscribe(tenant, receiver.url("/redirect"), ["customer.created"])
    make_event(tenant)
    item = wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "failed"],
                      what="failed")[0]
    assert item["attempts"][0]["status_code"] == 302
    time.sleep(0.3)
    assert receiver.received("/target") == []


def test_deliveries_survive_a_worker_restart(tenant, receiver, webhook_options, guidepath_kernel):
    """Stop the kernel's worker with deliveries pending (the receiver is down): a new
    worker finds them in the database and delivers them; a lease left by a worker
    that died mid-send is taken over once it expires."""
    from guidepath.plugins.webhooks.options import state_for
    from guidepath.plugins.webhooks.worker import DeliveryWorker

    state = state_for(guidepath_kernel)
    running = list(state.workers)
    receiver.script = lambda path: (503, {}, b"", 0.0)
    webhook_options(schedule=(0.0, 1.0, 1.0, 1.0))
    hook = subscribe(tenant, receiver.url(), ["customer.created"])
    make_event(tenant, 2)
    wait_until(lambda: len(receiver.received()) >= 2, what="first attempts")
    for worker in running:
        worker.stop()
    try:
        # Simulate a worker that died holding a lease on one of them.
        from guidepath.plugins.webhooks import store
        from sqlalchemy import update
        from guidepath.core.plugin_api import utcnow
        from datetime import timedelta

        ctx = tenant.context()
        with ctx.begin() as conn:
            first = conn.execute(store.D.select().order_by(store.D.c.id)).first()
            conn.execute(update(store.D).where(store.D.c.id == first.id).values(
                status="delivering", lease_token="dead", lease_until=utcnow() + timedelta(seconds=1)))
        receiver.script = lambda path: (200, {}, b"", 0.0)
        replacement = DeliveryWorker(guidepath_kernel, name="webhooks-test")
        replacement.start()
        try:
            wait_until(lambda: all(d["status"] == "succeeded" for d in deliveries(tenant, hook["id"])),
                       what="delivered after the restart")
        finally:
            replacement.stop()
    finally:
        for worker in running:
            worker.__init__(guidepath_kernel, name=worker.name)
            worker.start()
    assert len({r.headers["webhook-id"] for r in receiver.received()}) == 2
