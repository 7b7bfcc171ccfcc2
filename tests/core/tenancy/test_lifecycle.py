"""Tenant lifecycle on both backends: create, place, suspend, resume, delete."""

import pytest
from sqlalchemy import text

from guidepath.core.domain.errors import Conflict, Invalid, NotFound
from guidepath.core.tenancy.service import TenantService
from guidepath.core.tenancy.slugs import validate_slug, SlugError


@pytest.fixture
def service(guidepath_kernel):
    return TenantService(guidepath_kernel)


@pytest.mark.parametrize("slug", ["Acme", "-acme", "acme-", "ac_me", "a" * 64, "", "www", "admin", "xn--80ak6aa92e"])
def test_bad_slugs_are_refused_and_nothing_is_created(service, guidepath_kernel, slug):
    before = {t.id for t in guidepath_kernel.directory.list()}
    with pytest.raises(Invalid) as info:
        service.create(slug)
    assert info.value.field == "slug" and info.value.message
    assert {t.id for t in guidepath_kernel.directory.list()} == before


def test_slug_rules_accept_dns_labels():
    for slug in ("acme", "a", "acme-support", "1st-line", "a" * 63):
        assert validate_slug(slug) == slug
    with pytest.raises(SlugError, match="lower case"):
        validate_slug("ACME")


@pytest.mark.parametrize("slug", ["relay", "relay1", "relay-eu-2", "nexus", "www"])
def test_our_own_host_names_are_reserved(slug):
    with pytest.raises(SlugError, match="reserved"):
        validate_slug(slug)


def test_names_that_merely_start_like_ours_are_fine():
    assert validate_slug("relayco") == "relayco"


def test_duplicate_slug_is_a_conflict(tenant, service):
    with pytest.raises(Conflict, match="already exists"):
        service.create(tenant.slug)


def test_bad_admin_is_refused_before_anything_is_provisioned(service, guidepath_kernel):
    before = {t.id for t in guidepath_kernel.directory.list()}
    with pytest.raises(Invalid) as info:
        service.create("good-slug-bad-admin", admin_email="not-an-email", admin_password="long-enough-pw")
    assert info.value.field == "email"
    with pytest.raises(Invalid):
        service.create("good-slug-short-pw", admin_email="a@example.com", admin_password="short")
    assert {t.id for t in guidepath_kernel.directory.list()} == before


def _storage_footprint(kernel):
    """Every tenant schema and role (server) or tenant folder (embedded) that exists."""
    if kernel.config.embedded:
        return {p.name for p in kernel.config.tenants_dir.iterdir()}
    from guidepath.core.db.engines import make_admin_engine

    found = set()
    for container in kernel.directory.containers():
        engine = make_admin_engine(container.url)
        with engine.connect() as conn:
            found |= {("schema", r[0]) for r in conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname ~ '^t[0-9a-f]{16}$'"))}
            found |= {("role", r[0]) for r in conn.execute(
                text("SELECT rolname FROM pg_roles WHERE rolname ~ '^gp_t[0-9a-f]{16}$' "
                     "AND has_database_privilege(rolname, current_database(), 'CONNECT')"))}
        engine.dispose()
    return found


def test_a_failure_midway_rolls_everything_back(service, guidepath_kernel, monkeypatch):
    """If migrations fail, the directory row, schema and role (or file) are all undone."""
    from guidepath.core.db import migrate

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    directory_before = {t.id for t in guidepath_kernel.directory.list()}
    storage_before = _storage_footprint(guidepath_kernel)
    monkeypatch.setattr(migrate, "upgrade", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.create("doomed-tenant")
    monkeypatch.undo()
    assert {t.id for t in guidepath_kernel.directory.list()} == directory_before
    assert _storage_footprint(guidepath_kernel) == storage_before
    assert service.create("doomed-tenant").slug == "doomed-tenant"  # the slug is free again
    service.delete("doomed-tenant")


def test_new_tenants_go_to_the_least_full_container(service, guidepath_kernel, guidepath_backend):
    if guidepath_backend != "server":
        pytest.skip("embedded mode has a single container (a folder of files)")
    made = [service.create(f"place-{i}") for i in range(4)]
    try:
        counts = [c.tenant_count for c in guidepath_kernel.directory.containers()]
        assert max(counts) - min(counts) <= 1, counts
    finally:
        for t in made:
            service.delete(t.slug)


def test_suspend_resume_and_illegal_state_changes(tenant, service):
    assert service.suspend(tenant.slug).status == "suspended"
    with pytest.raises(Conflict):
        service.suspend(tenant.slug)
    assert service.resume(tenant.slug).status == "active"
    with pytest.raises(Conflict):
        service.resume(tenant.slug)
    with pytest.raises(NotFound):
        service.suspend("no-such-tenant")


def test_delete_destroys_key_files_cache_and_storage(tenant_factory, service, guidepath_kernel, guidepath_backend):
    doomed = tenant_factory()
    ctx = doomed.context()
    stored = ctx.files.put([b"customer screenshot"], name="shot.png", content_type="image/png")
    ctx.cache.set("k", b"v")
    container_path = guidepath_kernel.files.container_path(doomed.id)
    assert (container_path / stored.id).exists()
    db_url = str(ctx.engine.url)
    topics = _tenant_topics(guidepath_kernel, doomed.id)
    if guidepath_backend == "server":
        assert "session" in topics  # created at sign-up, before the first event
    service.delete(doomed.slug)
    assert _tenant_topics(guidepath_kernel, doomed.id) == set()

    assert guidepath_kernel.directory.get(doomed.id) is None
    assert not container_path.exists()
    assert doomed.client().get("/api/v1/auth/me").status_code == 404
    if guidepath_backend == "server":
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(db_url)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host=url.host, user=url.username, dbname=url.database, password=url.password)
    else:
        assert not (guidepath_kernel.config.tenants_dir / doomed.id).exists()


def _tenant_topics(kernel, tenant_id):
    """Streams of the tenant's Kafka topics (none on the in-process bus)."""
    if not kernel.config.kafka_bootstrap:
        return set()
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=kernel.config.kafka_bootstrap)
    try:
        prefix = f"gp.{tenant_id}."
        return {t[len(prefix):] for t in admin.list_topics() if t.startswith(prefix)}
    finally:
        admin.close()
