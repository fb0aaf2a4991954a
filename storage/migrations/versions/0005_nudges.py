"""nudges: planned nudges, members' nudge settings, and the record that someone shared something

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=160), nullable=False),
        sa.Column("dedup", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliver_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_nudges_dedup", "nudges", ["workspace", "recipient", "dedup"], unique=True)
    op.create_index("ix_nudges_due", "nudges", ["status", "deliver_at"])
    op.create_index("ix_nudges_subject", "nudges", ["workspace", "subject"])
    op.create_table(
        "nudge_settings",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.Integer(), nullable=True),
        sa.Column("quiet_end", sa.Integer(), nullable=True),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.Column("days_off", sa.String(length=16), nullable=False),
        sa.Column("muted", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "user_id"),
    )
    op.create_table(
        "nudge_shares",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("giver", sa.String(length=64), nullable=False),
        sa.Column("receiver", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_nudge_shares_giver", "nudge_shares", ["workspace", "giver"])
    op.create_index("ix_nudge_shares_receiver", "nudge_shares", ["workspace", "receiver"])


def downgrade() -> None:
    op.drop_table("nudge_shares")
    op.drop_table("nudge_settings")
    op.drop_table("nudges")
