"""Guided Paths tables: paths, immutable versions, runs and their recorded steps.

Revision ID: 0001_guided_paths
Revises:
Depends on: 0001_tenant (support_sessions, customers)

Must match ``guided_paths/tables.py`` exactly (``tests/guided_paths/test_migrations.py``
compares them with Alembic's ``compare_metadata``).
"""
from alembic import op
import sqlalchemy as sa


revision = "0001_guided_paths"
down_revision = None
branch_labels = ("guided_paths",)
depends_on = "0001_tenant"


def upgrade() -> None:
    op.create_table(
        "guided_paths",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("draft_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guided_paths")),
        sa.UniqueConstraint("key", name=op.f("uq_guided_paths_key")),
    )
    op.create_table(
        "guided_path_versions",
        sa.Column("path_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["path_id"], ["guided_paths.id"],
                                name=op.f("fk_guided_path_versions_path_id_guided_paths")),
        sa.PrimaryKeyConstraint("path_id", "version", name=op.f("pk_guided_path_versions")),
    )
    op.create_table(
        "guided_path_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("path_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="SET NULL",
                                name=op.f("fk_guided_path_runs_customer_id_customers")),
        sa.ForeignKeyConstraint(["path_id", "version"],
                                ["guided_path_versions.path_id", "guided_path_versions.version"],
                                name=op.f("fk_guided_path_runs_path_id_guided_path_versions")),
        sa.ForeignKeyConstraint(["session_id"], ["support_sessions.id"], ondelete="SET NULL",
                                name=op.f("fk_guided_path_runs_session_id_support_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guided_path_runs")),
    )
    with op.batch_alter_table("guided_path_runs", schema=None) as batch_op:
        batch_op.create_index("ix_guided_path_runs_path_id_version", ["path_id", "version"], unique=False)
        batch_op.create_index(batch_op.f("ix_guided_path_runs_session_id"), ["session_id"], unique=False)
        batch_op.create_index("ix_guided_path_runs_status", ["status"], unique=False)

    op.create_table(
        "guided_path_run_steps",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("path_key", sa.String(length=63), nullable=True),
        sa.Column("step_id", sa.String(length=63), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["guided_path_runs.id"], ondelete="CASCADE",
                                name=op.f("fk_guided_path_run_steps_run_id_guided_path_runs")),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_guided_path_run_steps")),
    )


def downgrade() -> None:
    op.drop_table("guided_path_run_steps")
    with op.batch_alter_table("guided_path_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_guided_path_runs_status")
        batch_op.drop_index(batch_op.f("ix_guided_path_runs_session_id"))
        batch_op.drop_index("ix_guided_path_runs_path_id_version")
    op.drop_table("guided_path_runs")
    op.drop_table("guided_path_versions")
    op.drop_table("guided_paths")
