"""One process runs a job at a time, across replicas: a PostgreSQL session advisory lock.

The lock lives on one pooled connection held for the whole run; if the process dies the
server drops the connection and with it the lock, so a crash never leaves a job locked.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


def lock_key(job: str) -> str:
    return f"tys:job:{job}"


@contextlib.asynccontextmanager
async def job_lock(engine: AsyncEngine, job: str) -> AsyncIterator[bool]:
    """Yields True when this process holds the job's lock, False when another one does."""
    async with engine.connect() as conn:
        got = bool(
            (
                await conn.execute(
                    text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": lock_key(job)}
                )
            ).scalar()
        )
        # Session-level lock: end the transaction so the connection is not "idle in
        # transaction" for the hours a retrain may take.
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                try:
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": lock_key(job)}
                    )
                    await conn.commit()
                except Exception:
                    # Never hand a connection that may still hold the lock back to the pool.
                    log.warning("could not release the %s lock; dropping its connection", job)
                    await conn.invalidate()


async def is_locked(engine: AsyncEngine, job: str) -> bool:
    """Whether some process is running the job now (for /jobs)."""
    async with engine.connect() as conn:
        row = await conn.execute(
            text(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objsubid = 1 AND objid::bigint = (hashtext(:k)::bigint & 4294967295)"
            ),
            {"k": lock_key(job)},
        )
        return row.first() is not None
