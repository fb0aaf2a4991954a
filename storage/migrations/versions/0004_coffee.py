"""coffee: virtual coffee schedules, members, avoid lists, rounds, groups and check-ins

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "coffee_channels",
        sa.Column("workspace", ID, nullable=False),
        sa.Column("channel", ID, nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("cross_teams", sa.Boolean(), nullable=False),
        sa.Column("no_repeat", sa.Integer(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("workspace", "channel"),
    )
    op.create_index("ix_coffee_channels_next_run_at", "coffee_channels", ["next_run_at"])
    op.create_table(
        "coffee_members",
        sa.Column("workspace", ID, nullable=False),
        sa.Column("channel", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.String(length=16), nullable=False),
        sa.Column("skip_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "channel", "user_id"),
    )
    op.create_index("ix_coffee_members_user", "coffee_members", ["workspace", "user_id"])
    op.create_table(
        "coffee_avoid",
        sa.Column("workspace", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("avoided", ID, nullable=False),
        sa.PrimaryKeyConstraint("workspace", "user_id", "avoided"),
    )
    op.create_index("ix_coffee_avoid_avoided", "coffee_avoid", ["workspace", "avoided"])
    op.create_table(
        "coffee_rounds",
        sa.Column("workspace", ID, nullable=False),
        sa.Column("channel", ID, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkin_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkin_sent", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "channel", "due_at"),
    )
    op.create_index("ix_coffee_rounds_checkin", "coffee_rounds", ["checkin_sent", "checkin_at"])
    op.create_table(
        "coffee_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", ID, nullable=False),
        sa.Column("channel", ID, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_coffee_groups_round", "coffee_groups", ["workspace", "channel", "due_at", "idx"], unique=True)
    op.create_table(
        "coffee_seats",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("workspace", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("dm", sa.String(length=16), nullable=False),
        sa.Column("checkin", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("group_id", "user_id"),
    )
    op.create_index("ix_coffee_seats_user", "coffee_seats", ["workspace", "user_id"])


def downgrade() -> None:
    for table in ("coffee_seats", "coffee_groups", "coffee_rounds", "coffee_avoid", "coffee_members",
                  "coffee_channels"):
        op.drop_table(table)
