"""GET /api/v1/audit-log's filters (added for the admin console's audit screen):
actor, action (exact or a family ending with a dot), target, since/until, combined
with each other and with the cursor; bad values are 422s naming the parameter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from guidepath.core.domain import audit

LOG = "/api/v1/audit-log"


def _seed(tenant) -> None:
    ctx = tenant.context()
    with ctx.begin() as conn:
        for i in range(5):
            audit.record(conn, "user:usr_a", "user.created", f"usr_{i}", {"i": i})
        audit.record(conn, "user:usr_b", "user.updated", "usr_1", {"fields": ["name"]})
        audit.record(conn, "api_key:key_x", "api_key.created", "key_1", {"role": "agent"})
        audit.record(conn, "user:usr_b", "user_x.odd", "usr_9")  # "_" is no wildcard in a family


def _actions(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["action"] for item in answer.json()["items"]]


def test_filters_match_exactly_and_combine(tenant):
    _seed(tenant)
    admin = tenant.admin
    assert _actions(admin.get(LOG, params={"actor": "user:usr_b"})) == ["user_x.odd", "user.updated"]
    assert _actions(admin.get(LOG, params={"action": "api_key.created"})) == ["api_key.created"]
    assert set(_actions(admin.get(LOG, params={"action": "user."}))) == {"user.created", "user.updated"}
    assert _actions(admin.get(LOG, params={"action": "user"})) == []  # exact unless it ends with a dot
    assert _actions(admin.get(LOG, params={"target": "usr_1"})) == ["user.updated", "user.created"]
    assert _actions(admin.get(LOG, params={"target": "usr_1", "actor": "user:usr_a"})) == ["user.created"]
    assert _actions(admin.get(LOG, params={"actor": "user:nobody"})) == []


def test_the_cursor_pages_through_the_filtered_entries(tenant):
    _seed(tenant)
    seen, cursor = [], None
    for _ in range(5):
        params = {"action": "user.created", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = tenant.admin.get(LOG, params=params).json()
        seen += [item["target"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"usr_{i}" for i in reversed(range(5))]


def test_time_range(tenant):
    _seed(tenant)
    now = datetime.now(timezone.utc)
    later = (now + timedelta(hours=1)).isoformat()
    earlier = (now - timedelta(hours=1)).isoformat()
    assert len(_actions(tenant.admin.get(LOG, params={"since": earlier, "actor": "user:usr_a"}))) == 5
    assert _actions(tenant.admin.get(LOG, params={"since": later})) == []
    assert _actions(tenant.admin.get(LOG, params={"until": earlier})) == []
    # Another zone names the same instant.
    plus_two = (now + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert len(_actions(tenant.admin.get(LOG, params={"until": plus_two, "actor": "user:usr_a"}))) == 5


def test_bad_filters_are_422_naming_them(tenant):
    for params, field in [({"since": "yesterday"}, "since"), ({"until": ""}, "until"),
                          ({"actor": "x" * 61}, "actor"), ({"who": "me"}, "who")]:
        answer = tenant.admin.get(LOG, params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["field"] == field
