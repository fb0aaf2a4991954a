"""coffee_channels.manager: who set coffee up in a channel, told of members a round could not DM

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coffee_channels", sa.Column("manager", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coffee_channels", schema=None) as batch_op:
        batch_op.drop_column("manager")
