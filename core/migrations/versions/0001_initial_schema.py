"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:24:31.014359
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "artist_aliases",
        sa.Column("alias_norm", sa.String(length=300), nullable=False),
        sa.Column("artist_norm", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("alias_norm"),
    )
    op.create_index(
        op.f("ix_artist_aliases_artist_norm"), "artist_aliases", ["artist_norm"], unique=False
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dim", sa.SmallInteger(), nullable=False),
        sa.Column("n_users", sa.Integer(), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("n_interactions", sa.Integer(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "owners",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=True),
        sa.Column("shop_name", sa.String(length=128), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("spotify_state", sa.String(length=16), nullable=False),
        sa.Column("spotify_user_id", sa.String(length=128), nullable=True),
        sa.Column("spotify_display_name", sa.String(length=256), nullable=True),
        sa.Column("explicit_filter", sa.Boolean(), nullable=False),
        sa.Column("onboarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "spotify_state IN ('none','linked','expired')", name="owner_spotify_state"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.SmallInteger(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("label_en", sa.String(length=64), nullable=False),
        sa.Column("label_ko", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("artist", sa.String(length=300), nullable=False),
        sa.Column("album", sa.String(length=300), nullable=True),
        sa.Column("year", sa.SmallInteger(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.Column("popularity", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("spotify_id", sa.String(length=64), nullable=True),
        sa.Column("spotify_uri", sa.String(length=96), nullable=True),
        sa.Column("spotify_status", sa.String(length=16), nullable=False),
        sa.Column("lastfm_url", sa.String(length=512), nullable=True),
        sa.Column("norm_title", sa.String(length=300), nullable=False),
        sa.Column("norm_artist", sa.String(length=300), nullable=False),
        sa.Column("interaction_count", sa.Integer(), nullable=False),
        sa.Column("embedding", Vector(64), nullable=True),
        sa.Column("embedding_version", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "spotify_status IN ('unresolved','resolved','not_found')", name="track_spotify_status"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("norm_title", "norm_artist", name="uq_track_norm"),
    )
    op.create_index("ix_tracks_norm_artist", "tracks", ["norm_artist"], unique=False)
    op.create_index(
        "ix_tracks_norm_title_trgm",
        "tracks",
        ["norm_title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"norm_title": "gin_trgm_ops"},
    )
    op.create_index("ix_tracks_spotify_status", "tracks", ["spotify_status"], unique=False)
    op.create_table(
        "oauth_states",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index(
        op.f("ix_oauth_states_expires_at"), "oauth_states", ["expires_at"], unique=False
    )
    op.create_table(
        "owner_embeddings",
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("embedding", Vector(64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    op.create_table(
        "playlists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('spotify','screenshot','bot','starter')", name="playlist_source"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "source", "external_id", name="uq_playlist_external"),
    )
    op.create_index("ix_playlists_owner", "playlists", ["owner_id"], unique=False)
    op.create_table(
        "spotify_tokens",
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("access_token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    op.create_table(
        "track_embeddings",
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("embedding", Vector(64), nullable=False),
        sa.ForeignKeyConstraint(["model_version"], ["model_versions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_version", "track_id"),
    )
    op.create_table(
        "track_tags",
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.SmallInteger(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("track_id", "tag_id"),
    )
    op.create_index("ix_track_tags_tag", "track_tags", ["tag_id"], unique=False)
    op.create_table(
        "vetoes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("artist_norm", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("track_id IS NOT NULL OR artist_norm IS NOT NULL", name="veto_target"),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "artist_norm", name="uq_veto_artist"),
        sa.UniqueConstraint("owner_id", "track_id", name="uq_veto_track"),
    )
    op.create_table(
        "playlist_tracks",
        sa.Column("playlist_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(["playlist_id"], ["playlists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("playlist_id", "track_id"),
    )
    op.create_index("ix_playlist_tracks_track", "playlist_tracks", ["track_id"], unique=False)
    op.create_table(
        "recommendation_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("playlist_id", sa.Integer(), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("page", sa.SmallInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["playlist_id"], ["playlists.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_rec_sets_owner_created", "recommendation_sets", ["owner_id", "created_at"], unique=False
    )
    op.create_table(
        "recommendation_items",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.SmallInteger(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vetoed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["set_id"], ["recommendation_sets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("set_id", "track_id"),
    )
    # Serving: nearest tracks by inner product on L2-normalised vectors (pgvector HNSW).
    op.execute(
        "CREATE INDEX ix_tracks_embedding_hnsw ON tracks "
        "USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)"
    )
    op.execute(
        "CREATE INDEX ix_tracks_norm_artist_trgm ON tracks USING gin (norm_artist gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tracks_norm_artist_trgm")
    op.execute("DROP INDEX IF EXISTS ix_tracks_embedding_hnsw")
    op.drop_table("recommendation_items")
    op.drop_index("ix_rec_sets_owner_created", table_name="recommendation_sets")
    op.drop_table("recommendation_sets")
    op.drop_index("ix_playlist_tracks_track", table_name="playlist_tracks")
    op.drop_table("playlist_tracks")
    op.drop_table("vetoes")
    op.drop_index("ix_track_tags_tag", table_name="track_tags")
    op.drop_table("track_tags")
    op.drop_table("track_embeddings")
    op.drop_table("spotify_tokens")
    op.drop_index("ix_playlists_owner", table_name="playlists")
    op.drop_table("playlists")
    op.drop_table("owner_embeddings")
    op.drop_index(op.f("ix_oauth_states_expires_at"), table_name="oauth_states")
    op.drop_table("oauth_states")
    op.drop_index("ix_tracks_spotify_status", table_name="tracks")
    op.drop_index(
        "ix_tracks_norm_title_trgm",
        table_name="tracks",
        postgresql_using="gin",
        postgresql_ops={"norm_title": "gin_trgm_ops"},
    )
    op.drop_index("ix_tracks_norm_artist", table_name="tracks")
    op.drop_table("tracks")
    op.drop_table("tags")
    op.drop_table("owners")
    op.drop_table("model_versions")
    op.drop_index(op.f("ix_artist_aliases_artist_norm"), table_name="artist_aliases")
    op.drop_table("artist_aliases")
