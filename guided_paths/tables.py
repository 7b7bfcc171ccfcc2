"""The tenant tables of Guided Paths (one set per tenant schema or SQLite file).

A path (``guided_paths``) has one editable draft and any number of immutable
published versions (``guided_path_versions``); runs (``guided_path_runs``) are
pinned to the version they started on and keep the runner's state as JSON, while
``guided_path_run_steps`` is the append-only record of what happened, step by
step, with timestamps — what hand-over shows an agent and what analytics reads.

Defined on the kernel's ``tenant_metadata`` without a schema name, like the
kernel's own tables; ``migrations/0001_guided_paths.py`` creates exactly these
(a test compares the two).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON, BigInteger, Column, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Table,
)

from guidepath.core.plugin_api import tenant_metadata
from guidepath.core.plugin_api import domain_tables as _core_tables  # noqa: F401 - support_sessions, customers

#: Path lifecycle: ``archived`` paths keep their versions and runs but start no new runs.
PATH_STATUSES = ("active", "archived")
#: How a run is driven: by a customer alone (the SDK) or by an agent with a customer.
RUN_MODES = ("self_service", "agent")

guided_paths = Table(
    "guided_paths",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    # The document's own ``id`` slug: what subpath steps and the CLI refer to.
    Column("key", String(63), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("draft", JSON, nullable=False),
    Column("draft_updated_at", DateTime(timezone=True), nullable=False),
    Column("latest_version", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: The largest version number: ``version`` is an Integer column (int4 on PostgreSQL),
#: so routes and parameters refuse anything larger before it reaches the database.
MAX_VERSION = 2**31 - 1

guided_path_versions = Table(
    "guided_path_versions",
    tenant_metadata,
    Column("path_id", String(40), ForeignKey("guided_paths.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("published_by", String(60), nullable=True),
)

guided_path_runs = Table(
    "guided_path_runs",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("path_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("session_id", String(40), ForeignKey("support_sessions.id", ondelete="SET NULL"),
           nullable=True, index=True),
    Column("customer_id", String(40), ForeignKey("customers.id", ondelete="SET NULL"), nullable=True),
    Column("mode", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("locale", String(35), nullable=True),
    Column("state", JSON, nullable=False),
    Column("started_by", String(60), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("handed_over_at", DateTime(timezone=True), nullable=True),
    # Pinned to a version that exists (and so to a path that exists).
    ForeignKeyConstraint(["path_id", "version"],
                         ["guided_path_versions.path_id", "guided_path_versions.version"]),
    Index("ix_guided_path_runs_path_id_version", "path_id", "version"),
    Index("ix_guided_path_runs_status", "status"),
)

guided_path_run_steps = Table(
    "guided_path_run_steps",
    tenant_metadata,
    Column("run_id", String(40), ForeignKey("guided_path_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # The path that owns the step: the run's own, or a subpath's (document ``id`` slugs).
    Column("path_key", String(63), nullable=True),
    Column("step_id", String(63), nullable=True),
    Column("event", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("value", JSON, nullable=True),
)

# Files of the tenant's file store that admins uploaded as Guided Path media
# (images and videos for message steps). The bytes (and the file name) live
# encrypted in the file store; this row is what makes a file id servable through
# GET /api/v1/guided-paths/media/{file_id} — other files of the tenant (e.g.
# recordings) are not reachable there.
guided_path_media = Table(
    "guided_path_media",
    tenant_metadata,
    Column("file_id", String(60), primary_key=True),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_by", String(60), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

__all__ = [
    "PATH_STATUSES", "RUN_MODES",
    "guided_path_media", "guided_path_run_steps", "guided_path_runs", "guided_path_versions", "guided_paths",
]
