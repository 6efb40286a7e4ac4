"""taste signals (onboarding picks and adds per owner) and owners.taste_tags

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taste_signals",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('pick','add')", name="taste_signal_kind"),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_taste_signals_owner", "taste_signals", ["owner_id", "created_at"])
    op.add_column(
        "owners",
        sa.Column(
            "taste_tags",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )

    # Server-side defaults, so rows written by plain SQL get the same values as the ORM's.
    for column, default in _OWNER_DEFAULTS.items():
        op.alter_column("owners", column, server_default=sa.text(default))


_OWNER_DEFAULTS = {
    "language": "'en'",
    "timezone": "'Asia/Seoul'",
    "spotify_state": "'none'",
    "explicit_filter": "false",
}


def downgrade() -> None:
    for column in _OWNER_DEFAULTS:
        op.alter_column("owners", column, server_default=None)
    op.drop_column("owners", "taste_tags")
    op.drop_index("ix_taste_signals_owner", table_name="taste_signals")
    op.drop_table("taste_signals")
