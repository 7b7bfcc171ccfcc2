"""Running Alembic for the global database and for one tenant's storage.

Migrations are plain Alembic scripts under ``core/db/migrations/{global,tenant}``;
this module runs them programmatically on a connection we hand in, so the same
scripts serve PostgreSQL tenant schemas (``search_path`` set to the schema, version
table inside it) and embedded tenants' SQLite files.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Sequence

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


def _alembic_config(kind: str, extra_locations: Sequence[str] = ()) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS / kind))
    if extra_locations:
        # Plugins' tenant tables live on their own Alembic branches, in their own
        # folders (hook ``register_migrations``); ";" keeps paths with spaces intact.
        cfg.set_main_option("path_separator", ";")
        cfg.set_main_option(
            "version_locations", ";".join([str(MIGRATIONS / kind / "versions"), *extra_locations])
        )
    return cfg


def _script(kind: str, extra_locations: Sequence[str] = ()) -> ScriptDirectory:
    """The parsed revision graph, reused while its folders are unchanged.

    Parsing imports every revision file (tens of milliseconds); ``guidepath db
    upgrade`` asks once per tenant, so over a thousand tenants parsing was most of
    a re-run's time. A folder's mtime changes when a revision file is added or
    removed, which is what changes the graph.
    """
    locations = (str(MIGRATIONS / kind / "versions"), *extra_locations)
    stamp = tuple(_mtime_ns(location) for location in locations)
    return _parsed_script(kind, tuple(extra_locations), stamp)


@functools.lru_cache(maxsize=16)
def _parsed_script(kind: str, extra_locations: tuple[str, ...], stamp: tuple[int, ...]) -> ScriptDirectory:
    return ScriptDirectory.from_config(_alembic_config(kind, extra_locations))


def _mtime_ns(folder: str) -> int:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return -1  # a missing folder: let Alembic report it when parsing


def heads(kind: str, extra_locations: Sequence[str] = ()) -> frozenset[str]:
    return frozenset(_script(kind, extra_locations).get_heads())


def head(kind: str) -> str | None:
    """The single head of the kernel's own scripts (the global database has no plugins)."""
    return _script(kind).get_current_head()


def current_heads(connection: Connection, schema: str | None = None) -> frozenset[str]:
    ctx = MigrationContext.configure(
        connection, opts={"version_table_schema": schema} if schema else {}
    )
    return frozenset(ctx.get_current_heads())


def current(connection: Connection, schema: str | None = None) -> str | None:
    revisions = current_heads(connection, schema)
    return next(iter(revisions)) if len(revisions) == 1 else None


def is_current(
    kind: str, connection: Connection, schema: str | None = None, extra_locations: Sequence[str] = ()
) -> bool:
    """Whether every head is applied.

    Not ``current_heads() == heads()``: a plugin branch whose first revision
    ``depends_on`` the kernel's leaves only the plugin's revision in the version
    table, while the kernel's revision is still a head of the script graph.
    ``iterate_revisions`` walks down from what is applied, dependencies included.
    """
    script = _script(kind, extra_locations)
    applied = current_heads(connection, schema)
    if not applied:
        return not script.get_heads()
    try:
        reached = {rev.revision for rev in script.iterate_revisions(tuple(applied), "base")}
    except Exception:  # noqa: BLE001 - a revision we no longer have: let upgrade report it
        return False
    return set(script.get_heads()) <= reached


def upgrade(
    kind: str, connection: Connection, schema: str | None = None, extra_locations: Sequence[str] = ()
) -> bool:
    """Bring one database (or tenant schema) to every head. True if it changed."""
    if is_current(kind, connection, schema, extra_locations):
        return False
    cfg = _alembic_config(kind, extra_locations)
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table_schema"] = schema
    command.upgrade(cfg, "heads")
    return True
