"""message_addressees: whom a flat-chat message speaks to or mentions (ids), for the reply ranker across processes

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_addressees",
        sa.Column("workspace", sa.String(length=64), primary_key=True),
        sa.Column("message_id", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.String(length=64), primary_key=True),
        sa.Column("spoken_to", sa.Boolean(), nullable=False),
        sa.Column("mentioned", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_message_addressees_user", "message_addressees", ["workspace", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_message_addressees_user", table_name="message_addressees")
    op.drop_table("message_addressees")
