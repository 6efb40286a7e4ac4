"""Benchmarks of the serving path (`tys bench recommend`, `tys bench ann`).

Every benchmark works in a database of its own, created on the same PostgreSQL server for the
run and dropped afterwards, so the real catalog is never touched. Helpers here: that temporary
database, clustered synthetic embeddings, percentiles.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import numpy as np
from sqlalchemy.engine import make_url

from core.db import upgrade


def _plain_url(url: str) -> str:
    """asyncpg wants postgresql:// (no SQLAlchemy dialect suffix)."""
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def temporary_database(url: str, prefix: str, *, migrate: bool = True) -> AsyncIterator[str]:
    """A new database (migrated to head) on the server of `url`; dropped on exit, even after
    an error or Ctrl-C, so a benchmark never leaves 100k-row catalogs behind."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_plain_url(url))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        bench_url = with_database(url, name)
        try:
            if migrate:
                await upgrade(bench_url)
            yield bench_url
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def clustered_embeddings(
    n: int,
    dim: int,
    *,
    clusters: int,
    spread: float = 0.1,
    seed: int = 0,
    centres: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """n L2-normalised vectors around `clusters` random unit centres (float32), and each
    vector's cluster (`centres` given: around those unit vectors instead, e.g. real tracks, so
    synthetic tracks become true neighbours of the real catalog). Real item embeddings are clustered (genres, moods); uniform random
    vectors would make the ANN problem both easier to rank and unlike production.
    spread 0.1 per dimension puts a member at cosine ~0.78 from its centre."""
    rng = np.random.default_rng(seed)
    if centres is None:
        centres = rng.standard_normal((clusters, dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    clusters = len(centres)
    # Uneven cluster sizes (Zipf-like) as in a real catalog: a few big genres, a long tail.
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.7
    labels = rng.choice(clusters, size=n, p=weights / weights.sum())
    out = np.empty((n, dim), dtype=np.float32)
    step = 200_000  # chunks keep the float64 temporaries small at 1M rows
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        block = centres[labels[lo:hi]] + spread * rng.standard_normal((hi - lo, dim)).astype(
            np.float32
        )
        out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, labels


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def load_note() -> str:
    """The 1/5/15-minute load average: other runs share the cores, so every figure says it."""
    try:
        a, b, c = os.getloadavg()
    except OSError:
        return "load n/a"
    return f"load {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} cores"


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1000.0

    def s(self) -> float:
        return time.perf_counter() - self.t0
