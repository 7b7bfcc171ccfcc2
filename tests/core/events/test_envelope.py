"""The envelope, topic names and de-duplication: pure, no broker, no database."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from guidepath.core.events import (
    ALL_TENANTS_PATTERN,
    EnvelopeError,
    Event,
    SeenIds,
    TopicError,
    deduplicated,
    parse_topic,
    tenant_pattern,
    topic_for,
)

TENANT = "t3f9a0c2e4b6d8a10"
OTHER = "t0000000000000001"


def make(**overrides):
    event = Event.new(TENANT, "session.state_changed", {"session_id": "ses_1", "n": 1})
    return event.to_dict() | overrides


# -- Event -----------------------------------------------------------------------


def test_new_event_has_prefixed_random_id_and_utc_time():
    a = Event.new(TENANT, "session.created", {"session_id": "ses_1"})
    b = Event.new(TENANT, "session.created", {"session_id": "ses_1"})
    assert a.id.startswith("evt_") and len(a.id) >= 20
    assert a.id != b.id
    assert a.time.endswith("Z")
    assert a.occurred_at.utcoffset().total_seconds() == 0
    assert a.schema_version == 1
    assert a.stream == "session"


def test_stream_is_the_part_before_the_first_dot():
    assert Event.new(TENANT, "plugin.settings_changed", {}).stream == "plugin"
    assert Event.new(TENANT, "webhooks.delivery.failed", {}).stream == "webhooks"


def test_json_round_trip_is_exact_and_compact():
    event = Event.new(TENANT, "session.created", {"session_id": "ses_1", "name": "Zoë ✓"}, schema_version=3)
    raw = event.to_json()
    assert isinstance(raw, bytes)
    assert b" " not in raw.replace("Zoë ✓".encode(), b"")
    assert list(json.loads(raw)) == ["id", "tenant_id", "type", "time", "schema_version", "data"]
    back = Event.from_json(raw)
    assert back == event
    assert back.schema_version == 3
    assert Event.from_json(raw.decode()) == event  # str works too


def test_new_detaches_data_from_the_callers_dict():
    data = {"session_id": "ses_1", "tags": ["a"]}
    event = Event.new(TENANT, "session.created", data)
    data["tags"].append("b")
    assert event.data == {"session_id": "ses_1", "tags": ["a"]}


def test_new_rejects_data_that_is_not_json():
    with pytest.raises(EnvelopeError, match="not JSON-serialisable"):
        Event.new(TENANT, "session.created", {"when": object()})
    with pytest.raises(EnvelopeError, match="not JSON-serialisable"):
        Event.new(TENANT, "session.created", {"x": float("nan")})
    with pytest.raises(EnvelopeError, match="JSON object"):
        Event.new(TENANT, "session.created", ["not", "a", "dict"])  # type: ignore[arg-type]


def test_events_hash_by_id():
    event = Event.new(TENANT, "session.created", {})
    assert {event, Event.from_json(event.to_json())} == {event}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"id": "evt_x"}', "missing tenant_id, type, time, schema_version, data"),
    ],
)
def test_from_json_rejects_malformed_input(raw, message):
    with pytest.raises(EnvelopeError, match=message):
        Event.from_json(raw)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": "cus_0123456789abcdefghij"}, "invalid event id"),
        ({"id": 'evt_"quoted"-and-more-chars'}, "invalid event id"),
        ({"tenant_id": "acme"}, "invalid tenant_id"),
        ({"tenant_id": "T3F9A0C2E4B6D8A10"}, "invalid tenant_id"),
        ({"type": "nodot"}, "invalid event type"),
        ({"type": "Session.Created"}, "invalid event type"),
        ({"type": "session..created"}, "invalid event type"),
        ({"time": "2026-01-02T03:04:05"}, "invalid time"),
        ({"time": "2026-01-02T03:04:05+01:00"}, "invalid time"),
        ({"time": "yesterdayZ"}, "invalid time"),
        ({"schema_version": 0}, "schema_version"),
        ({"schema_version": True}, "schema_version"),
        ({"schema_version": "1"}, "schema_version"),
        ({"data": [1]}, "invalid data"),
    ],
)
def test_from_json_validates_every_field(overrides, message):
    with pytest.raises(EnvelopeError, match=message):
        Event.from_json(json.dumps(make(**overrides)))


def test_from_json_names_unexpected_fields():
    with pytest.raises(EnvelopeError, match="unexpected extra"):
        Event.from_json(json.dumps(make(extra=1)))


def test_envelope_errors_are_value_errors():
    with pytest.raises(ValueError):
        Event.from_json(b"{}")


# -- topics ----------------------------------------------------------------------


def test_topic_for_and_parse_topic_round_trip():
    topic = topic_for(TENANT, "session")
    assert topic == f"gp.{TENANT}.session"
    assert parse_topic(topic) == (TENANT, "session")
    assert parse_topic(topic).stream == "session"


@pytest.mark.parametrize("tenant_id", ["acme", "t123", "t3f9a0c2e4b6d8a1G", "t3f9a0c2e4b6d8a10.x", "", None])
def test_topic_for_rejects_bad_tenant_ids(tenant_id):
    with pytest.raises(TopicError, match="tenant id"):
        topic_for(tenant_id, "session")  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", ["", "Session", "1session", "a.b", "a-b", "x" * 64])
def test_topic_for_rejects_bad_streams(stream):
    with pytest.raises(TopicError, match="stream"):
        topic_for(TENANT, stream)


@pytest.mark.parametrize("topic", ["session", "gp.acme.session", f"gp.{TENANT}", f"gp.{TENANT}.a.b", f"xgp.{TENANT}.s"])
def test_parse_topic_rejects_foreign_topics(topic):
    with pytest.raises(TopicError):
        parse_topic(topic)


def test_tenant_pattern_matches_only_that_tenants_topics():
    import re

    pattern = re.compile(tenant_pattern(TENANT))
    assert pattern.match(topic_for(TENANT, "session"))
    assert pattern.match(topic_for(TENANT, "plugin"))
    assert not pattern.match(topic_for(OTHER, "session"))
    assert not pattern.match(f"gp.{TENANT}0.session")  # a longer id sharing the prefix
    assert not pattern.match(f"gp.{TENANT}.session.extra")
    assert not pattern.match(f"xx.gp.{TENANT}.session")
    everyone = re.compile(ALL_TENANTS_PATTERN)
    assert everyone.match(topic_for(TENANT, "session")) and everyone.match(topic_for(OTHER, "device"))
    assert not everyone.match("gp.acme.session")


# -- de-duplication --------------------------------------------------------------


def test_seen_ids_is_a_bounded_lru():
    seen = SeenIds(capacity=3)
    for event_id in ("a", "b", "c"):
        seen.add(event_id)
    assert "a" in seen  # touching "a" makes "b" the oldest
    seen.add("d")
    assert "b" not in seen
    assert {"a", "c", "d"} == {i for i in "abcd" if i in seen}
    assert len(seen) == 3
    assert seen.first_time("e") is True
    assert seen.first_time("e") is False


def test_seen_ids_first_time_is_atomic_across_threads():
    seen = SeenIds(capacity=100)
    wins = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait(5)
        if seen.first_time("evt_same"):
            wins.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert wins == [1]


def test_deduplicated_skips_repeats_but_retries_failures():
    handled = []
    failures = iter([True, False])

    def handler(event: Event) -> None:
        if event.type == "flaky.thing" and next(failures):
            raise RuntimeError("transient")
        handled.append(event.id)

    handle = deduplicated(handler, capacity=10)
    first = Event.new(TENANT, "session.created", {})
    handle(first)
    handle(first)  # a redelivery: skipped
    flaky = Event.new(TENANT, "flaky.thing", {})
    with pytest.raises(RuntimeError):
        handle(flaky)
    handle(flaky)  # the retry after a failure must run
    handle(flaky)
    assert handled == [first.id, flaky.id]
    assert handle.__wrapped__ is handler


# -- import rules ----------------------------------------------------------------


def test_events_package_imports_nothing_of_ours_but_the_table_metadata():
    code = (
        "import sys, guidepath.core.events as e; e.KafkaBus; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('guidepath', 'flask')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    modules = set(out.stdout.split())
    allowed = {"guidepath", "guidepath.core", "guidepath.core.db", "guidepath.core.db.metadata",
               # the one definition of a tenant id: a leaf module with no IO
               "guidepath.core.domain", "guidepath.core.domain.ids"}
    foreign = {m for m in modules if not m.startswith("guidepath.core.events") and m not in allowed}
    assert foreign == set()
