"""The analytics tables attacked from another tenant: over HTTP A's host never shows
B's numbers, and on PostgreSQL A's own database role is refused B's tables by the
database itself (the pattern of tests/isolation/)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from analytics_support import A, deliver, get
from guidepath.plugins.analytics.tables import TABLES
from test_analytics_etl import DAY, EXPECTED_OVERVIEW, GP, scripted_day

NAMES = [table.name for table in TABLES]


@pytest.fixture
def b_world(tenant_factory, guidepath_backend):
    if guidepath_backend == "server":
        # Of three tenants spread over two containers two share one: the interesting pair.
        made = [tenant_factory() for _ in range(3)]
        where = [t.kernel.directory.get(t.id).container_id for t in made]
        a, b = next((made[i], made[j]) for i in range(3) for j in range(i + 1, 3) if where[i] == where[j])
    else:
        a, b = tenant_factory(), tenant_factory()
    deliver(b, *scripted_day(b.id))
    return a, b


def test_another_tenants_numbers_are_not_reachable_over_http(b_world):
    a, b = b_world
    assert get(b, "/overview", **DAY) == EXPECTED_OVERVIEW
    seen = get(a, "/overview", **DAY)
    assert seen["sessions"]["total"] == 0 and seen["runs"]["started"] == 0
    assert seen["relay"] == {"remote_control_seconds": 0.0, "camera_seconds": 0.0}
    assert all(not any(v for k, v in item.items() if k != "start")
               for item in get(a, "/sessions", **DAY)["items"])
    assert get(a, "/agents", **DAY)["items"] == []
    funnel = get(a, f"/paths/{GP}/funnel")
    assert funnel["started"] == 0 and funnel["steps"] == [] and funnel["version"] is None
    # B's admin's login does not work on A's host.
    cookies = "; ".join(f"{c.name}={c.value}" for c in b.admin.session.cookies)
    assert a.client().get(f"{A}/overview", headers={"Cookie": cookies}).status_code == 401


def _connect_as(tenant):
    url = make_url(tenant.kernel.pools.engine(tenant.id).url)
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                           dbname=url.database, autocommit=True)


@pytest.mark.postgres
@pytest.mark.parametrize("table", NAMES)
@pytest.mark.parametrize("statement", ['SELECT * FROM "{b}".{table}', 'DELETE FROM "{b}".{table}',
                                       'INSERT INTO "{b}".{table} DEFAULT VALUES'])
def test_another_tenants_role_is_refused_the_analytics_tables(b_world, guidepath_backend, table, statement):
    if guidepath_backend != "server":
        pytest.skip("database roles exist on the server backend only (embedded tenants are separate files)")
    a, b = b_world
    with _connect_as(a) as conn:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0  # its own, empty
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement.format(b=b.id, table=table))
    assert get(b, "/overview", **DAY) == EXPECTED_OVERVIEW
