"""Session fixtures: the real embedded servers (PostgreSQL + pgvector, Redis, MongoDB-wire),
started once under a temporary DATA_DIR and migrated, exactly as `tys run` would do."""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tysdata")
    os.environ.setdefault("XDG_RUNTIME_DIR", str(path / "run"))
    return path


@pytest.fixture(scope="session")
def services(data_dir: Path) -> Iterator:
    from bot.embedded import EmbeddedServices

    svc = EmbeddedServices(data_dir)
    urls = svc.acquire()
    try:
        yield urls
    finally:
        svc.release()


@pytest.fixture(scope="session")
def database_url(services) -> str:
    from core.db import upgrade_sync

    upgrade_sync(services.database_url)
    return services.database_url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    from core.db import make_engine

    eng = make_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        yield s


@pytest.fixture(scope="session")
async def redis(services) -> AsyncIterator[Redis]:
    client = Redis.from_url(services.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def fresh_db(services) -> AsyncIterator[str]:
    """A new, migrated, empty database on the same server, dropped afterwards: for tests that
    change global state (serving version, every owner's embedding)."""
    import asyncio
    import uuid

    import asyncpg

    from core.db import upgrade

    name = "t_" + uuid.uuid4().hex[:12]
    admin_url = services.database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name}")
    url = services.database_url.replace("/tys?", f"/{name}?")
    await upgrade(url)
    try:
        yield url
    finally:
        await asyncio.sleep(0)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


@pytest.fixture
async def fresh_maker(fresh_db: str) -> AsyncIterator:
    """Sessions on a `fresh_db` database (its engine disposed afterwards)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from core.db import make_engine

    engine = make_engine(fresh_db)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture(scope="module")
async def tg() -> AsyncIterator:
    """A fake Telegram Bot API per test module (the real `tys run` is pointed at it)."""
    from tests.fakes.telegram import FakeTelegram

    async with FakeTelegram(token="123456:TEST-token") as fake:
        yield fake
