"""The kernel's tenant tables (one set per tenant schema or SQLite file)."""

from __future__ import annotations

from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table,
)

from ..db.metadata import tenant_metadata

users = Table(
    "users",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

login_sessions = Table(
    "login_sessions",
    tenant_metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_by", String(40), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

customers = Table(
    "customers",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(254), nullable=True, index=True),
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

devices = Table(
    "devices",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("manufacturer", String(100), nullable=True),
    Column("brand", String(100), nullable=True),
    Column("model", String(100), nullable=True),
    Column("os_name", String(50), nullable=True),
    Column("os_version", String(50), nullable=True),
    Column("memory_bytes", BigInteger, nullable=True),
    Column("processor", String(200), nullable=True),
    Column("device_name", String(200), nullable=True),
    Column("serial_number", String(100), nullable=True),
    Column("extra", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

support_sessions = Table(
    "support_sessions",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("device_id", String(40), ForeignKey("devices.id", ondelete="SET NULL"), nullable=True),
    Column("agent_id", String(40), ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("state", String(16), nullable=False),
    Column("resolution", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Index("ix_support_sessions_state_created", "state", "created_at"),
)

plugin_settings = Table(
    "plugin_settings",
    tenant_metadata,
    Column("plugin", String(100), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("settings", JSON, nullable=False, default=dict),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    tenant_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(60), nullable=True),
    Column("action", String(60), nullable=False),
    Column("target", String(100), nullable=True),
    Column("details", JSON, nullable=False, default=dict),
)

__all__ = [
    "api_keys", "audit_log", "customers", "devices", "login_sessions",
    "plugin_settings", "support_sessions", "users",
]
