"""Guided Path media: the files admins uploaded for message steps.

Revision ID: 0002_guided_path_media
Revises: 0001_guided_paths

Must match ``guided_paths/tables.py`` exactly (``tests/guided_paths/test_migrations.py``).
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_guided_path_media"
down_revision = "0001_guided_paths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guided_path_media",
        sa.Column("file_id", sa.String(length=60), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_guided_path_media")),
    )


def downgrade() -> None:
    op.drop_table("guided_path_media")
