"""coffee_groups.conversation: the platform's conversation a group was introduced in

Its check-in goes to the same place, also after a restart (Discord: the group's private thread; Slack: its group
DM).

Revision ID: 0009
Revises: s20ops_0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "s20ops_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coffee_groups", sa.Column("conversation", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coffee_groups", schema=None) as batch_op:
        batch_op.drop_column("conversation")
