"""profile_vectors: a member's phrase vectors as one row per matcher instead of one row per phrase

A coffee round reads the vectors of a whole channel; at 20,000 members that was 160,000 rows. The phrase keys go
one a line (normalised keys hold no newline) and the vectors end to end in the same order. Existing vectors are
carried over in both directions.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PHRASES = sa.table("profile_phrases", sa.column("workspace", sa.String), sa.column("user_id", sa.String),
                   sa.column("phrase", sa.String), sa.column("matcher", sa.String),
                   sa.column("vector", sa.LargeBinary))
VECTORS = sa.table("profile_vectors", sa.column("workspace", sa.String), sa.column("user_id", sa.String),
                   sa.column("matcher", sa.String), sa.column("phrases", sa.Text),
                   sa.column("vectors", sa.LargeBinary))


def upgrade() -> None:
    op.create_table(
        "profile_vectors",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("matcher", sa.String(length=32), nullable=False),
        sa.Column("phrases", sa.Text(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "user_id", "matcher"),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(PHRASES.c.workspace, PHRASES.c.user_id, PHRASES.c.matcher, PHRASES.c.phrase,
                                  PHRASES.c.vector).order_by(PHRASES.c.workspace, PHRASES.c.user_id,
                                                             PHRASES.c.matcher, PHRASES.c.phrase))
    merged = []
    for (workspace, user, matcher), group in groupby(rows, key=lambda r: (r[0], r[1], r[2])):
        found = [(phrase, bytes(vector)) for *_, phrase, vector in group]
        merged.append({"workspace": workspace, "user_id": user, "matcher": matcher,
                       "phrases": "\n".join(p for p, _ in found), "vectors": b"".join(v for _, v in found)})
    for start in range(0, len(merged), 1000):
        bind.execute(VECTORS.insert(), merged[start:start + 1000])
    op.drop_table("profile_phrases")


def downgrade() -> None:
    op.create_table(
        "profile_phrases",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("matcher", sa.String(length=32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "user_id", "phrase"),
    )
    bind = op.get_bind()
    split = []
    for workspace, user, matcher, phrases, vectors in bind.execute(sa.select(
            VECTORS.c.workspace, VECTORS.c.user_id, VECTORS.c.matcher, VECTORS.c.phrases, VECTORS.c.vectors)):
        keys = phrases.split("\n") if phrases else []
        size = len(vectors) // len(keys) if keys else 0
        split += [{"workspace": workspace, "user_id": user, "phrase": key, "matcher": matcher,
                   "vector": bytes(vectors[k * size:(k + 1) * size])} for k, key in enumerate(keys)]
    for start in range(0, len(split), 1000):
        bind.execute(PHRASES.insert(), split[start:start + 1000])
    op.drop_table("profile_vectors")
