"""Log in to PostgreSQL as tenant A's own role and attack tenant B: the database
itself must refuse. (Embedded tenants are separate SQLite files by construction.)"""

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url


@pytest.fixture
def two_tenants(tenant_factory, guidepath_backend):
    if guidepath_backend != "server":
        pytest.skip("database roles exist on the server backend only")
    # Tenants are spread over two containers; with three, two share one, and
    # that pair is the interesting attack (the other schema is right there).
    made = [tenant_factory() for _ in range(3)]
    containers = [t.kernel.directory.get(t.id).container_id for t in made]
    a, b = next((made[i], made[j]) for i in range(3) for j in range(i + 1, 3) if containers[i] == containers[j])
    b.admin.post("/api/v1/customers", json={"first_name": "Secret"}).raise_for_status()
    return a, b


def _connect_as(tenant, database_url=None):
    url = make_url(tenant.kernel.pools.engine(tenant.id).url)
    if database_url:
        url = url.set(database=make_url(database_url).database)
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                           password=url.password, dbname=url.database, autocommit=True)


ATTACKS = [
    'SELECT * FROM "{b}".customers',
    'INSERT INTO "{b}".customers (id, created_at, updated_at) VALUES (\'x\', now(), now())',
    'UPDATE "{b}".customers SET first_name = \'pwned\'',
    'DELETE FROM "{b}".customers',
    'ALTER TABLE "{b}".customers ADD COLUMN pwned int',
    'DROP TABLE "{b}".customers',
    'CREATE TABLE "{b}".evil (x int)',
    'SET ROLE "gp_{b}"',
    'CREATE TABLE public.evil (x int)',
    'CREATE TABLE "{a}".evil (x int)',   # no DDL even in its own schema
    'DROP TABLE "{a}".customers',
    'ALTER TABLE "{a}".customers ADD COLUMN x int',
]


@pytest.mark.postgres
@pytest.mark.parametrize("attack", ATTACKS)
def test_tenant_role_cannot_touch_other_schemas_or_run_ddl(two_tenants, attack):
    a, b = two_tenants
    with _connect_as(a) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(attack.format(a=a.id, b=b.id))
    assert b.admin.get("/api/v1/customers").json()["items"][0]["first_name"] == "Secret"


@pytest.mark.postgres
def test_tenant_role_reads_its_own_schema(two_tenants):
    a, _ = two_tenants
    with _connect_as(a) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == f"gp_{a.id}"
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM tenants")


@pytest.mark.postgres
def test_tenant_role_cannot_connect_to_the_global_database(two_tenants):
    a, _ = two_tenants
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _connect_as(a, a.kernel.config.global_database_url)


@pytest.mark.postgres
def test_tenant_role_cannot_connect_to_another_container(two_tenants):
    a, _ = two_tenants
    mine = a.kernel.directory.get(a.id).container_id
    others = [c for c in a.kernel.directory.containers() if c.id != mine and not c.embedded]
    assert others, "the test setup has two containers"
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _connect_as(a, others[0].url)


@pytest.mark.postgres
def test_requests_run_as_the_tenant_role(two_tenants):
    a, _ = two_tenants
    with a.context().engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == f"gp_{a.id}"
