"""Slack token columns wide enough for rotating tokens, sealed

With token rotation Slack's bot and refresh tokens are about 150 characters; sealed (Fernet, base64) they take
about 300, past the VARCHAR(200) slack_sdk's schema gives them. PostgreSQL refuses the write; SQLite never checks
a VARCHAR's length, so there is nothing to change there.

Revision ID: s20ops_0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s20ops_0008"  # as databases upgraded past it record it; the file is named like the others
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length=200))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.String(length=200), existing_type=sa.Text())
