"""SQLAlchemy models: one place for the relational schema (migrations in core/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.limits import EMBEDDING_DIM


class Base(DeclarativeBase):
    pass


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Owner(Base):
    """A shop owner: one Telegram user."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Telegram user id
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    first_name: Mapped[str | None] = mapped_column(String(128))
    shop_name: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(
        String(64), default="Asia/Seoul", server_default="Asia/Seoul"
    )
    # none | linked | expired (refresh token died; the owner is asked to re-link)
    spotify_state: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    spotify_user_id: Mapped[str | None] = mapped_column(String(128))
    spotify_display_name: Mapped[str | None] = mapped_column(String(256))
    explicit_filter: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # Mood tags chosen in onboarding: the "why" of a recommendation starts with these.
    taste_tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), default=list, server_default=text("'{}'")
    )
    onboarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint("spotify_state IN ('none','linked','expired')", name="owner_spotify_state"),
    )


class SpotifyToken(Base):
    """OAuth tokens, encrypted at rest (core.crypto)."""

    __tablename__ = "spotify_tokens"

    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True
    )
    access_token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = _now()


class OAuthState(Base):
    """Single-use OAuth state (the signed token carries the nonce; this row makes it single-use)."""

    __tablename__ = "oauth_states"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("owners.id", ondelete="CASCADE"))
    code_verifier: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    group: Mapped[str] = mapped_column(String(16))
    label_en: Mapped[str] = mapped_column(String(64))
    label_ko: Mapped[str] = mapped_column(String(64))


class Track(Base):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    artist: Mapped[str] = mapped_column(String(300))
    album: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(SmallInteger)
    language: Mapped[str | None] = mapped_column(String(16))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    popularity: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Where the row came from: seed | import | lastfm | spotify-playlist | screenshot
    source: Mapped[str] = mapped_column(String(24), default="seed")
    spotify_id: Mapped[str | None] = mapped_column(String(64))
    spotify_uri: Mapped[str | None] = mapped_column(String(96))
    # unresolved | resolved | not_found (never guessed)
    spotify_status: Mapped[str] = mapped_column(String(16), default="unresolved")
    lastfm_url: Mapped[str | None] = mapped_column(String(512))
    norm_title: Mapped[str] = mapped_column(String(300))
    norm_artist: Mapped[str] = mapped_column(String(300))
    interaction_count: Mapped[int] = mapped_column(Integer, default=0)
    # Serving embedding (L2-normalised) of model version `embedding_version`.
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIM))
    embedding_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()

    tags: Mapped[list[TrackTag]] = relationship(back_populates="track", lazy="noload")

    __table_args__ = (
        UniqueConstraint("norm_title", "norm_artist", name="uq_track_norm"),
        CheckConstraint(
            "spotify_status IN ('unresolved','resolved','not_found')", name="track_spotify_status"
        ),
        Index(
            "ix_tracks_norm_title_trgm",
            "norm_title",
            postgresql_using="gin",
            postgresql_ops={"norm_title": "gin_trgm_ops"},
        ),
        Index("ix_tracks_norm_artist", "norm_artist"),
        Index("ix_tracks_spotify_status", "spotify_status"),
    )


class TrackTag(Base):
    __tablename__ = "track_tags"

    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)

    track: Mapped[Track] = relationship(back_populates="tags")

    __table_args__ = (Index("ix_track_tags_tag", "tag_id"),)


class ArtistAlias(Base):
    """Another spelling of an artist (아이유 / IU), both normalised."""

    __tablename__ = "artist_aliases"

    alias_norm: Mapped[str] = mapped_column(String(300), primary_key=True)
    artist_norm: Mapped[str] = mapped_column(String(300), index=True)


class Playlist(Base):
    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # NULL for the bundled starter playlists (they have no owner).
    owner_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("owners.id", ondelete="CASCADE")
    )
    source: Mapped[str] = mapped_column(String(16))  # spotify | screenshot | bot | starter
    external_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(
            "source IN ('spotify','screenshot','bot','starter')", name="playlist_source"
        ),
        UniqueConstraint("owner_id", "source", "external_id", name="uq_playlist_external"),
        Index("ix_playlists_owner", "owner_id"),
    )


class PlaylistTrack(Base):
    __tablename__ = "playlist_tracks"

    playlist_id: Mapped[int] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = _now()

    __table_args__ = (Index("ix_playlist_tracks_track", "track_id"),)


class OwnerEmbedding(Base):
    __tablename__ = "owner_embeddings"

    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True
    )
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIM))
    source: Mapped[str] = mapped_column(String(16))  # onboarding | history | model
    model_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = _now()


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # training | candidate | serving | rejected | retired
    status: Mapped[str] = mapped_column(String(16), default="training")
    created_at: Mapped[datetime] = _now()
    trained_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dim: Mapped[int] = mapped_column(SmallInteger, default=EMBEDDING_DIM)
    n_users: Mapped[int] = mapped_column(Integer, default=0)
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    n_interactions: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    note: Mapped[str | None] = mapped_column(Text)


class TrackEmbedding(Base):
    """Item embeddings of every kept model version (rollback restores from here)."""

    __tablename__ = "track_embeddings"

    model_version: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIM))


class Veto(Base):
    """'Not for my shop': a track (or a whole artist) never recommended to this owner again."""

    __tablename__ = "vetoes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("owners.id", ondelete="CASCADE"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    artist_norm: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        UniqueConstraint("owner_id", "track_id", name="uq_veto_track"),
        UniqueConstraint("owner_id", "artist_norm", name="uq_veto_artist"),
        CheckConstraint("track_id IS NOT NULL OR artist_norm IS NOT NULL", name="veto_target"),
    )


class TasteSignal(Base):
    """What an owner told us about their taste: onboarding picks and adds (operational copy of
    the event log, read when the owner embedding is rebuilt)."""

    __tablename__ = "taste_signals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("owners.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # pick | add
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint("kind IN ('pick','add')", name="taste_signal_kind"),
        Index("ix_taste_signals_owner", "owner_id", "created_at"),
    )


class RecommendationSet(Base):
    __tablename__ = "recommendation_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("owners.id", ondelete="CASCADE"))
    playlist_id: Mapped[int | None] = mapped_column(ForeignKey("playlists.id", ondelete="SET NULL"))
    model_version: Mapped[int | None] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(SmallInteger, default=0)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = _now()

    __table_args__ = (Index("ix_rec_sets_owner_created", "owner_id", "created_at"),)


class RecommendationItem(Base):
    __tablename__ = "recommendation_items"

    set_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_sets.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(SmallInteger)
    rank: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    vetoed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ShopHours(Base):
    """Opening hours for daypart pushes (minutes after local midnight, in owners.timezone).
    close < open means the shop closes after midnight (a bar open 18:00-02:00)."""

    __tablename__ = "shop_hours"

    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True
    )
    open_minute: Mapped[int] = mapped_column(SmallInteger)
    close_minute: Mapped[int] = mapped_column(SmallInteger)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(
            "open_minute BETWEEN 0 AND 1439 AND close_minute BETWEEN 0 AND 1439 "
            "AND open_minute <> close_minute",
            name="shop_hours_range",
        ),
    )


class Daypart(Base):
    """A part of the shop's day with its mood: a push of fresh songs at `start_minute`.
    `slot` (0..3) is stable while the daypart exists, so a push record keeps meaning the same
    daypart after the owner edits another one."""

    __tablename__ = "dayparts"

    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    mood: Mapped[str] = mapped_column(String(24))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)

    __table_args__ = (
        CheckConstraint("slot BETWEEN 0 AND 3", name="daypart_slot"),
        CheckConstraint("start_minute BETWEEN 0 AND 1439", name="daypart_start"),
    )


class DaypartPush(Base):
    """One push per (owner, daypart slot, local date): the unique key is what makes a second
    run, a second replica or a restart unable to send the same daypart twice in a day."""

    __tablename__ = "daypart_pushes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("owners.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(SmallInteger)
    local_date: Mapped[date] = mapped_column(Date)
    # claimed | sent | empty | blocked | failed
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    set_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation_sets.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("owner_id", "slot", "local_date", name="uq_daypart_push"),
        CheckConstraint(
            "status IN ('claimed','sent','empty','blocked','failed')", name="daypart_push_status"
        ),
    )


class StatsDay(Base):
    """One closed day of the event log's figures for /stats (core.stats): read instead of the
    day's events, which are immutable once the day is over."""

    __tablename__ = "stats_days"

    tz: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    active: Mapped[int] = mapped_column(Integer)
    picks: Mapped[int] = mapped_column(Integer)
    shown: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    vetoed: Mapped[int] = mapped_column(Integer)
    imports: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = _now()
