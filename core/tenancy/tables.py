"""Global database tables: the tenant directory and the container registry.

Nothing else may live in the global database.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table

from ..db.metadata import global_metadata

containers = Table(
    "containers",
    global_metadata,
    Column("id", String(32), primary_key=True),
    # postgresql+psycopg://migrator@host/db for a server container; "sqlite" for
    # the embedded container (a folder of per-tenant SQLite files).
    Column("url", String(512), nullable=False, unique=True),
    Column("capacity", Integer, nullable=False, default=5000),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tenants = Table(
    "tenants",
    global_metadata,
    Column("id", String(32), primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    # provisioning → active ⇄ suspended → deleting
    Column("status", String(16), nullable=False, index=True),
    Column("container_id", String(32), ForeignKey("containers.id"), nullable=False, index=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

tenant_hosts = Table(
    "tenant_hosts",
    global_metadata,
    Column("host", String(253), primary_key=True),
    Column("tenant_id", String(32), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
)
