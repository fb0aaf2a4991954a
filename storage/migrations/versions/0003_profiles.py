"""profiles: what members share about themselves, and the embeddings of their interest phrases

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("environment", sa.String(length=300), nullable=False),
        sa.Column("behaviour", sa.String(length=300), nullable=False),
        sa.Column("capability", sa.String(length=300), nullable=False),
        sa.Column("beliefs", sa.String(length=300), nullable=False),
        sa.Column("identity", sa.String(length=300), nullable=False),
        sa.Column("spirit", sa.String(length=300), nullable=False),
        sa.Column("looking_for", sa.String(length=300), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("work_start", sa.Integer(), nullable=True),
        sa.Column("work_end", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("workspace", "user_id"),
    )
    op.create_table(
        "profile_phrases",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("matcher", sa.String(length=32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "user_id", "phrase"),
    )


def downgrade() -> None:
    op.drop_table("profile_phrases")
    op.drop_table("profiles")
