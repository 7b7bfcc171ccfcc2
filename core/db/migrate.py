"""Running Alembic for the global database and for one tenant's storage.

Migrations are plain Alembic scripts under ``core/db/migrations/{global,tenant}``;
this module runs them programmatically on a connection we hand in, so the same
scripts serve PostgreSQL tenant schemas (``search_path`` set to the schema, version
table inside it) and embedded tenants' SQLite files.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData

MIGRATIONS = Path(__file__).parent / "migrations"


def global_target_metadata() -> MetaData:
    from ..tenancy import tables  # noqa: F401 - registers the tables
    from .metadata import global_metadata

    return global_metadata


def tenant_target_metadata() -> MetaData:
    from ..domain import tables  # noqa: F401 - registers the domain tables
    from ..events import outbox  # noqa: F401 - registers the outbox table
    from .metadata import tenant_metadata

    return tenant_metadata


def _alembic_config(kind: str, connection: Connection, schema: str | None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS / kind))
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table_schema"] = schema
    return cfg


def head(kind: str) -> str | None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS / kind))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current(connection: Connection, schema: str | None = None) -> str | None:
    ctx = MigrationContext.configure(
        connection, opts={"version_table_schema": schema} if schema else {}
    )
    return ctx.get_current_revision()


def upgrade(kind: str, connection: Connection, schema: str | None = None) -> bool:
    """Bring one database (or tenant schema) to head. Returns True if it changed."""
    target = head(kind)
    if current(connection, schema) == target:
        return False
    command.upgrade(_alembic_config(kind, connection, schema), "head")
    return True
