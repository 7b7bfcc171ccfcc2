"""The webhooks plugin's tenant tables.

``migrations/0001_webhooks.py`` creates exactly these (a test compares them).

* ``webhook_subscriptions``: an endpoint, its event type patterns and its signing
  secrets, sealed (AES-256-GCM) under the tenant's data key. During a rotation the
  previous secret is kept until ``previous_secret_expires_at``.
* ``webhook_deliveries``: one row per (subscription, event): the stored retry
  queue (``status``, ``due_at``, ``attempt``) and, while a worker holds it, a lease
  (``lease_token``, ``lease_until``) that another worker may take over once it has
  expired, so a worker that dies loses nothing.
* ``webhook_attempts``: the delivery log, one row per HTTP attempt.
"""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Table,
                        Text, UniqueConstraint)

from guidepath.core.plugin_api import tenant_metadata

webhook_subscriptions = Table(
    "webhook_subscriptions",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("description", String(500), nullable=False, default=""),
    Column("enabled", Boolean, nullable=False, default=True),
    # Why it was switched off: "admin", "gone" (the endpoint answered 410), "failing".
    Column("disabled_reason", String(20), nullable=True),
    Column("secret", LargeBinary, nullable=False),
    Column("previous_secret", LargeBinary, nullable=True),
    Column("previous_secret_expires_at", DateTime(timezone=True), nullable=True),
    # Set by the first failed attempt after a success; cleared by a success.
    Column("failing_since", DateTime(timezone=True), nullable=True),
    Column("created_by", String(60), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("subscription_id", String(40), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
           nullable=False),
    Column("event_id", String(80), nullable=False),
    Column("event_type", String(128), nullable=False),
    # The event envelope exactly as it is sent (and signed).
    Column("payload", Text, nullable=False),
    # pending | delivering | succeeded | failed | cancelled
    Column("status", String(12), nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
    # Index into the retry schedule of the next attempt (a redelivery starts over).
    Column("schedule_pos", Integer, nullable=False, default=0),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("lease_token", String(40), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscription_id", "event_id"),
    Index("ix_webhook_deliveries_status_due_at", "status", "due_at"),
    Index("ix_webhook_deliveries_created_at", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    tenant_metadata,
    Column("id", String(40), primary_key=True),
    Column("delivery_id", String(40), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("error", String(300), nullable=True),
)

__all__ = ["webhook_attempts", "webhook_deliveries", "webhook_subscriptions"]
