"""Guided Path Apps: the tenant's allowlist of apps that ``app`` steps may embed.

Revision ID: 0001_guided_path_apps
Revises:
Depends on: 0001_tenant

Must match ``plugins/guided_path_apps/tables.py`` exactly
(``tests/plugins/guided_path_apps/test_registry_api.py`` compares them).
"""
from alembic import op
import sqlalchemy as sa


revision = "0001_guided_path_apps"
down_revision = None
branch_labels = ("guided_path_apps",)
depends_on = "0001_tenant"


def upgrade() -> None:
    op.create_table(
        "guided_path_apps",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("output_schema", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guided_path_apps")),
        sa.UniqueConstraint("key", name=op.f("uq_guided_path_apps_key")),
    )


def downgrade() -> None:
    op.drop_table("guided_path_apps")
