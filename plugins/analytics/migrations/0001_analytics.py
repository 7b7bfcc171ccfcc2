"""Analytics: hourly aggregates, raw durations for medians, the ETL's working state
and its processed-events table.

Revision ID: 0001_analytics
Revises:
Depends on: 0001_tenant

Must match ``plugins/analytics/tables.py`` exactly
(``tests/plugins/analytics/test_analytics_api.py`` compares them).
"""
from alembic import op
import sqlalchemy as sa


revision = "0001_analytics"
down_revision = None
branch_labels = ("analytics",)
depends_on = "0001_tenant"

_ID = 80


def _hour() -> sa.Column:
    return sa.Column("hour", sa.DateTime(timezone=True), nullable=False)


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=_ID), nullable=nullable)


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "analytics_processed_events",
        _id("event_id"),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        _pk("analytics_processed_events", "event_id"),
    )
    op.create_table(
        "analytics_session_hours",
        _hour(),
        *_counts("created", "waiting", "active", "ended", "resolved", "unresolved", "abandoned"),
        _pk("analytics_session_hours", "hour"),
    )
    op.create_table(
        "analytics_agent_hours",
        _hour(), _id("agent_id"),
        *_counts("answered", "ended", "resolved"),
        _pk("analytics_agent_hours", "hour", "agent_id"),
    )
    op.create_table(
        "analytics_run_hours",
        _hour(), _id("path_id"), sa.Column("version", sa.Integer(), nullable=False),
        *_counts("started", "completed", "abandoned", "resolved", "unresolved", "escalate"),
        _pk("analytics_run_hours", "hour", "path_id", "version"),
    )
    op.create_table(
        "analytics_step_hours",
        _hour(), _id("path_id"), sa.Column("version", sa.Integer(), nullable=False), _id("step_id"),
        *_counts("reached", "position_sum"),
        _pk("analytics_step_hours", "hour", "path_id", "version", "step_id"),
    )
    op.create_table(
        "analytics_relay_hours",
        _hour(), sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        *_counts("connections"),
        _pk("analytics_relay_hours", "hour", "kind"),
    )
    op.create_table(
        "analytics_durations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _hour(),
        sa.Column("kind", sa.String(length=10), nullable=False),
        _id("agent_id", True), _id("path_id", True),
        sa.Column("version", sa.Integer(), nullable=True),
        _id("step_id", True),
        sa.Column("seconds", sa.Float(), nullable=False),
        _pk("analytics_durations", "id"),
    )
    op.create_index("ix_analytics_durations_kind_hour", "analytics_durations", ["kind", "hour"])
    op.create_table(
        "analytics_session_facts",
        _id("session_id"),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_active_at", sa.DateTime(timezone=True), nullable=True),
        _pk("analytics_session_facts", "session_id"),
    )
    op.create_table(
        "analytics_run_facts",
        _id("run_id"), _id("path_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        _pk("analytics_run_facts", "run_id"),
    )
    op.create_table(
        "analytics_run_steps",
        _id("run_id"), _id("step_id"),
        _pk("analytics_run_steps", "run_id", "step_id"),
    )
    op.create_table(
        "analytics_relay_open",
        _id("connection_id"),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        _pk("analytics_relay_open", "connection_id"),
    )


def downgrade() -> None:
    for table in ("analytics_relay_open", "analytics_run_steps", "analytics_run_facts", "analytics_session_facts",
                  "analytics_durations", "analytics_relay_hours", "analytics_step_hours", "analytics_run_hours",
                  "analytics_agent_hours", "analytics_session_hours", "analytics_processed_events"):
        op.drop_table(table)
