"""The tenant table of the Guided Path Apps allowlist.

``migrations/0001_guided_path_apps.py`` creates exactly this table (a test
compares the two).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, String, Table

from guidepath.core.plugin_api import tenant_metadata

guided_path_apps = Table(
    "guided_path_apps",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    # What ``app`` steps name in ``app_id``.
    Column("key", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("url", String(2048), nullable=False),
    # Derived from ``url`` (scheme://host[:port]); the page's CSP frame-src.
    Column("origin", String(300), nullable=False),
    Column("input_schema", JSON, nullable=False),
    Column("output_schema", JSON, nullable=False),
    Column("created_by", String(60), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

__all__ = ["guided_path_apps"]
