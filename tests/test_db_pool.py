"""The connection pool without pre-ping: a connection the server dropped costs one failed
statement, after which the engine reconnects by itself (what a bot update sees after a
database restart)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.db import make_engine


async def test_dropped_connection_fails_once_then_reconnects(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            victim = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        killer = make_engine(database_url, pool_size=1)
        async with killer.connect() as conn:
            assert (
                await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim})
            ).scalar_one()
            for _ in range(100):  # the backend exits asynchronously
                gone = await conn.execute(
                    text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :p"), {"p": victim}
                )
                if gone.scalar_one():
                    break
                await asyncio.sleep(0.05)
        await killer.dispose()

        with pytest.raises(DBAPIError) as err:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert err.value.connection_invalidated

        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert pid != victim  # a new connection, made without any help
    finally:
        await engine.dispose()


async def test_every_connection_has_the_vector_search_settings(database_url: str) -> None:
    from core.limits import HNSW_EF_SEARCH

    engine = make_engine(database_url, pool_size=2)
    try:
        async with engine.connect() as a, engine.connect() as b:
            for conn in (a, b):
                ef = (await conn.execute(text("SHOW hnsw.ef_search"))).scalar_one()
                scan = (await conn.execute(text("SHOW hnsw.iterative_scan"))).scalar_one()
                assert (ef, scan) == (str(HNSW_EF_SEARCH), "relaxed_order")
    finally:
        await engine.dispose()
