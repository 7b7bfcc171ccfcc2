"""The Alembic branch ``guided_paths`` creates exactly the tables of ``tables.py``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import guidepath.guided_paths as package
from guidepath.core.db import migrate
from guidepath.core.db.engines import make_engine
from guidepath.guided_paths import plugin, tables



FOLDER = str(Path(package.__file__).parent / "migrations")
OURS = {t.name for t in (tables.guided_paths, tables.guided_path_versions, tables.guided_path_runs,
                         tables.guided_path_run_steps, tables.guided_path_media)}


def differences(conn) -> list:
    """What Alembic would change to make ``conn``'s schema match the metadata: the
    kernel's tables and ours (other plugins' tables may be in the metadata too)."""
    metadata = migrate.tenant_target_metadata()
    present = set(inspect(conn).get_table_names())
    wanted = present | OURS

    def include_name(name, type_, parent_names):
        return type_ != "table" or name in wanted

    def include_object(obj, name, type_, reflected, compare_to):
        # include_name sees reflected names only; other plugins' tables that are in
        # the metadata but not in this database are left out here.
        return type_ != "table" or name in wanted

    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name,
                                                     "include_object": include_object})
    return compare_metadata(context, metadata)


def test_the_plugin_registers_its_folder():
    assert plugin.register_migrations() == [FOLDER]


def test_fresh_sqlite_upgrade_matches_the_tables(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tenant.db'}")
    try:
        with engine.begin() as conn:
            assert migrate.upgrade("tenant", conn, extra_locations=[FOLDER]) is True
        with engine.connect() as conn:
            assert OURS <= set(inspect(conn).get_table_names())
            assert differences(conn) == []
            assert "0002_guided_path_media" in migrate.current_heads(conn)
    finally:
        engine.dispose()


def test_the_branch_downgrades_and_upgrades_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tenant.db'}")
    try:
        with engine.begin() as conn:
            migrate.upgrade("tenant", conn, extra_locations=[FOLDER])
        config = migrate._alembic_config("tenant", [FOLDER])
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "guided_paths@base")
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            assert not names & OURS and "support_sessions" in names
        with engine.begin() as conn:
            migrate.upgrade("tenant", conn, extra_locations=[FOLDER])
        with engine.connect() as conn:
            assert differences(conn) == []
    finally:
        engine.dispose()


def test_real_tenants_match_the_tables(tenant):
    """On both backends: a tenant made by the kernel (its own schema and role on
    PostgreSQL) has our tables exactly as declared."""
    with tenant.context().engine.connect() as conn:
        assert OURS <= set(inspect(conn).get_table_names())
        assert differences(conn) == []
