"""The webhooks tables attacked from another tenant: over HTTP nothing of tenant B's
subscriptions or delivery log is reachable from A's host, and on PostgreSQL A's
own database role is refused B's tables by the database itself (the pattern of
tests/isolation/)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from webhook_support import HOOKS, deliveries, make_event, subscribe, wait_until

TABLES = ["webhook_subscriptions", "webhook_deliveries", "webhook_attempts"]


@pytest.fixture
def b_world(tenant_factory, receiver, webhook_options, guidepath_backend):
    if guidepath_backend == "server":
        # Tenants are spread over two containers: of three, two share one, and that
        # pair is the interesting attack (the other schema is right there).
        made = [tenant_factory() for _ in range(3)]
        where = [t.kernel.directory.get(t.id).container_id for t in made]
        a, b = next((made[i], made[j]) for i in range(3) for j in range(i + 1, 3) if where[i] == where[j])
    else:
        a, b = tenant_factory(), tenant_factory()
    hook = subscribe(b, receiver.url(), ["customer.created"])
    make_event(b)
    delivery = wait_until(lambda: [d for d in deliveries(b, hook["id"]) if d["status"] == "succeeded"],
                          what="b's delivery")[0]
    return a, b, hook, delivery


def test_another_tenants_subscriptions_and_deliveries_are_404_over_http(b_world):
    a, b, hook, delivery = b_world
    sid, did = hook["id"], delivery["id"]
    for method, path, body in (
        ("GET", f"{HOOKS}/{sid}", None), ("PATCH", f"{HOOKS}/{sid}", {"enabled": False}),
        ("DELETE", f"{HOOKS}/{sid}", None), ("POST", f"{HOOKS}/{sid}/rotate-secret", None),
        ("GET", f"{HOOKS}/{sid}/deliveries", None), ("GET", f"{HOOKS}/{sid}/deliveries/{did}", None),
        ("POST", f"{HOOKS}/{sid}/deliveries/{did}/redeliver", None),
    ):
        response = a.admin.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
    assert a.admin.get(HOOKS).json()["items"] == []
    # B's subscription is untouched.
    after = b.admin.get(f"{HOOKS}/{sid}").json()
    assert after["enabled"] and after["previous_secret_expires_at"] is None
    assert [d["id"] for d in deliveries(b, sid)] == [did]


def _connect_as(tenant):
    url = make_url(tenant.kernel.pools.engine(tenant.id).url)
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                           dbname=url.database, autocommit=True)


@pytest.mark.postgres
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("statement", ['SELECT * FROM "{b}".{table}', 'DELETE FROM "{b}".{table}',
                                       'UPDATE "{b}".{table} SET id = id'])
def test_another_tenants_role_is_refused_the_webhooks_tables(b_world, guidepath_backend, table, statement):
    if guidepath_backend != "server":
        pytest.skip("database roles exist on the server backend only (embedded tenants are separate files)")
    a, b, hook, _ = b_world
    with _connect_as(a) as conn:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0  # its own, empty
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement.format(b=b.id, table=table))
    assert b.admin.get(f"{HOOKS}/{hook['id']}").status_code == 200
