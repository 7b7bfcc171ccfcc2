"""``/api/v1/analytics``: CSV export (``?format=csv`` and ``Accept: text/csv``),
422s naming the parameter, admins only, the OpenAPI document, and the migration."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import inspect

from analytics_support import A, deliver, get
from guidepath.plugins.analytics import plugin
from guidepath.plugins.analytics.tables import TABLES
from test_analytics_etl import DAY, EXPECTED_OVERVIEW, GP, U1, scripted_day


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.text)))


def test_csv_export_of_each_endpoint(tenant):
    deliver(tenant, *scripted_day(tenant.id))
    admin = tenant.admin
    rows = _csv(admin.get(f"{A}/overview", params={**DAY, "format": "csv"}))
    assert rows[0] == ["metric", "value"]
    values = dict(rows[1:])
    assert values["sessions.total"] == "4" and values["sessions.by_state.waiting"] == "4"
    assert values["sessions.median_wait_seconds"] == "180.0" and values["relay.camera_seconds"] == "30.0"
    assert values["runs.by_outcome.escalate"] == "1"
    # Accept: text/csv without ?format= does the same; ?format=json wins over the header.
    assert _csv(admin.get(f"{A}/overview", params=DAY, headers={"Accept": "text/csv"})) == rows
    as_json = admin.get(f"{A}/overview", params={**DAY, "format": "json"}, headers={"Accept": "text/csv"})
    assert as_json.json() == EXPECTED_OVERVIEW

    series = _csv(admin.get(f"{A}/sessions", params={**DAY, "format": "csv"}))
    assert series[0] == ["start", "created", "waiting", "active", "ended", "resolved", "unresolved", "abandoned"]
    assert len(series) == 25 and series[10] == ["2026-03-02T09:00:00Z", "2", "2", "2", "1", "1", "0", "0"]
    agents = _csv(admin.get(f"{A}/agents", params={**DAY, "format": "csv"}))
    assert agents[0][0] == "agent_id" and agents[1][:4] == [U1, "2", "1", "1"]
    funnel = _csv(admin.get(f"{A}/paths/{GP}/funnel", params={"format": "csv"}))
    assert funnel[:3] == [["step_id", "reached", "drop_off", "median_seconds"], ["(started)", "3", "0", ""],
                          ["ask", "2", "1", "30.0"]]


@pytest.mark.parametrize("path, params, field", [
    ("/overview", {"from": "yesterday"}, "from"),
    ("/overview", {"to": "2026-13-01T00:00:00Z"}, "to"),
    ("/overview", {"format": "xml"}, "format"),
    ("/overview", {"colour": "blue"}, "colour"),
    ("/sessions", {"interval": "minute"}, "interval"),
    ("/sessions", {"from": "2026-03-02T25:00:00Z"}, "from"),
    ("/agents", {"to": ""}, "to"),
    (f"/paths/{GP}/funnel", {"version": "0"}, "version"),
    (f"/paths/{GP}/funnel", {"version": "one"}, "version"),
])
def test_bad_parameters_are_422_naming_the_field(tenant, path, params, field):
    response = tenant.admin.get(f"{A}{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_ranges_that_are_empty_huge_or_beyond_the_calendar_are_answered(tenant):
    deliver(tenant, *scripted_day(tenant.id))
    # Ending before it begins: an empty range, zeros (not a refusal: the schema cannot say it).
    inverted = get(tenant, "/overview", **{"from": "2026-03-03T00:00:00Z", "to": "2026-03-02T00:00:00Z"})
    assert inverted["sessions"]["total"] == 0 and inverted["runs"]["started"] == 0
    assert get(tenant, "/sessions", **{"from": "2026-03-03T00:00:00Z", "to": "2026-03-02T00:00:00Z"})["items"] == []
    # Six years of hours: only the part that holds data is listed.
    huge = get(tenant, "/sessions", interval="hour", **{"from": "2020-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"})
    assert not huge["truncated"] and huge["from"] == "2020-01-01T00:00:00Z"
    assert [i["start"] for i in huge["items"]][0] == "2026-03-02T09:00:00Z" and len(huge["items"]) == 6
    assert sum(i["created"] for i in huge["items"]) == 4
    # The ends of the calendar, in any zone.
    for bounds in ({"from": "0001-01-01T00:00:00+05:00"}, {"to": "9999-12-31T23:59:59-05:00"},
                   {"from": "0001-01-01T00:00:00+05:00", "to": "9999-12-31T23:59:59-05:00"}):
        assert get(tenant, "/overview", **bounds)["sessions"]["total"] in (0, 4)
        assert get(tenant, "/sessions", interval="day", **bounds)["interval"] == "day"


def test_a_malformed_path_id_is_404_and_an_unknown_path_answers_zeros(tenant):
    assert tenant.admin.get(f"{A}/paths/not-a-path/funnel").status_code == 404
    empty = get(tenant, f"/paths/gp_{'z' * 26}/funnel")
    assert empty["version"] is None and empty["started"] == 0 and empty["steps"] == []


def test_admins_only(tenant):
    anonymous = tenant.client()
    assert anonymous.get(f"{A}/overview").status_code == 401
    email, password = "agent-an@example.com", "correct horse battery staple"
    made = tenant.admin.post("/api/v1/users", json={"email": email, "role": "agent", "password": password})
    assert made.status_code == 201, made.text
    agent = tenant.client().login(email, password)
    for path in ("/overview", "/sessions", "/agents", f"/paths/{GP}/funnel"):
        assert agent.get(f"{A}{path}").status_code == 403, path


def test_the_openapi_document_lists_json_and_csv(tenant):
    document = tenant.admin.get("/api/openapi.json").json()
    for path in ("overview", "sessions", "agents", "paths/{path_id}/funnel"):
        operation = document["paths"][f"{A}/{path}"]["get"]
        assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
        assert {"401", "403", "422"} <= set(operation["responses"])
        assert "format" in {p["name"] for p in operation["parameters"]}
    overview = document["paths"][f"{A}/overview"]["get"]["responses"]["200"]["content"]["application/json"]
    assert set(overview["schema"]["properties"]) >= {"sessions", "runs", "relay"}


def test_the_plugin_is_a_builtin_enabled_by_default(guidepath_kernel):
    info = guidepath_kernel.plugins.info("analytics")
    assert info.builtin and info.default_enabled


def test_the_migration_creates_exactly_the_tables(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from guidepath.core.db import migrate
    from guidepath.core.db.engines import make_engine

    folder = plugin.register_migrations()[0]
    engine = make_engine(f"sqlite:///{tmp_path / 'tenant.db'}")
    ours = {table.name for table in TABLES}
    try:
        with engine.begin() as conn:
            migrate.upgrade("tenant", conn, extra_locations=[folder])
        with engine.connect() as conn:
            assert ours <= set(inspect(conn).get_table_names())

            def include_object(obj, name, type_, reflected, compare_to):
                table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
                return table in ours

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            assert compare_metadata(context, migrate.tenant_target_metadata()) == []
    finally:
        engine.dispose()
