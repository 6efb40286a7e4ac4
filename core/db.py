"""Database engine, sessions and migrations (SQLAlchemy 2 async + asyncpg, Alembic)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pgvector.asyncpg import register_vector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.limits import HNSW_EF_SEARCH

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    """Any postgres URL -> the asyncpg dialect URL SQLAlchemy needs."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url}")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it cost three round trips (BEGIN, ping, ROLLBACK) on every checkout,
        # i.e. on every bot update. After a server restart the first statement on a dead
        # connection fails instead (one update gets the friendly error) and SQLAlchemy
        # drops the whole stale pool at once.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            # Keep a slow or dead server from hanging a chat reply forever.
            "timeout": 10,
            "command_timeout": 60,
            # Vector search settings for every connection, sent at connect: a SET per
            # recommendation would be one more round trip. The iterative scan keeps the
            # HNSW scan going until LIMIT rows pass the owner's exclusions.
            "server_settings": {
                "hnsw.ef_search": str(HNSW_EF_SEARCH),
                "hnsw.iterative_scan": "relaxed_order",
            },
        },
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _vector_codec(dbapi_connection, _record) -> None:
        # pgvector values travel as numpy arrays (binary), in and out of raw SQL too.
        try:
            dbapi_connection.run_async(register_vector)
        except ValueError:
            pass  # the extension is created by the first migration; before it, nothing to do

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = async_url(url)
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Run migrations in a worker thread (Alembic's env drives its own event loop)."""
    await asyncio.to_thread(upgrade_sync, url, revision)
