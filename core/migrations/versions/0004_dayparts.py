"""dayparts: shop hours, dayparts with moods, and one push record per daypart per local day

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_hours",
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("open_minute", sa.SmallInteger(), nullable=False),
        sa.Column("close_minute", sa.SmallInteger(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "open_minute BETWEEN 0 AND 1439 AND close_minute BETWEEN 0 AND 1439 "
            "AND open_minute <> close_minute",
            name="shop_hours_range",
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    op.create_table(
        "dayparts",
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("mood", sa.String(length=24), nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.CheckConstraint("slot BETWEEN 0 AND 3", name="daypart_slot"),
        sa.CheckConstraint("start_minute BETWEEN 0 AND 1439", name="daypart_start"),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id", "slot"),
    )
    op.create_table(
        "daypart_pushes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="claimed", nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed','sent','empty','blocked','failed')", name="daypart_push_status"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["set_id"], ["recommendation_sets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "slot", "local_date", name="uq_daypart_push"),
    )


def downgrade() -> None:
    op.drop_table("daypart_pushes")
    op.drop_table("dayparts")
    op.drop_table("shop_hours")
