"""The kernel's tenant tables (one set per tenant schema or SQLite file)."""

from __future__ import annotations

from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, text,
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
    # The agent console (migration 0002_console): set by the agent, never inferred.
    Column("availability", String(16), nullable=False, default="offline", server_default="offline"),
    Column("capacity", Integer, nullable=False, default=3, server_default=text("3")),
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
    # The agent console (migration 0002_console).
    Column("outcome", String(16), nullable=True),
    Column("waiting_since", DateTime(timezone=True), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Index("ix_support_sessions_state_created", "state", "created_at"),
    Index("ix_support_sessions_state_waiting_since", "state", "waiting_since"),
    Index("ix_support_sessions_agent_state", "agent_id", "state"),
    Index("ix_support_sessions_ended_at", "ended_at"),
    Index("ix_support_sessions_outcome", "outcome"),
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

# -- the agent console (migration 0002_console) ----------------------------------------

session_messages = Table(
    "session_messages",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("session_id", String(40), ForeignKey("support_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("author_type", String(16), nullable=False),
    Column("author_id", String(40), nullable=True),
    Column("author_name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_session_messages_session_created", "session_id", "created_at"),
)

invite_codes = Table(
    "invite_codes",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("session_id", String(40), ForeignKey("support_sessions.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(60), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

customer_tokens = Table(
    "customer_tokens",
    tenant_metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("session_id", String(40), ForeignKey("support_sessions.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("customer_id", String(40), ForeignKey("customers.id", ondelete="SET NULL"), nullable=True),
    Column("invite_id", String(40), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

canned_responses = Table(
    "canned_responses",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("title", String(100), nullable=False),
    Column("shortcut", String(30), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("created_by", String(60), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

session_timeline = Table(
    "session_timeline",
    tenant_metadata,
    # No foreign key: the timeline is a log written from events, which may name a
    # session the event's producer knows and this table need not check.
    Column("event_id", String(80), primary_key=True),
    Column("session_id", String(40), nullable=False),
    Column("type", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(60), nullable=True),
    Column("data", JSON, nullable=False, default=dict),
    Index("ix_session_timeline_session_at", "session_id", "at"),
)

__all__ = [
    "api_keys", "audit_log", "canned_responses", "customer_tokens", "customers", "devices",
    "invite_codes", "login_sessions", "plugin_settings", "session_messages", "session_timeline",
    "support_sessions", "users",
]
