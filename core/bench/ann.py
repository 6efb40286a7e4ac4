"""`tys bench ann --tracks 1000000 [--queries 200] [--ef 40,100,200] [--runs 3]`.

Quality and speed of the pgvector HNSW index alone: n clustered, L2-normalised 64-d vectors
in a table of a temporary database (dropped afterwards), indexed exactly like
`ix_tracks_embedding_hnsw` (operator class and WITH options are read from the migrated
schema, so the benchmark follows the migration). For each ef_search it prints recall@10 and
recall@50 against exact brute force (numpy, all n vectors) and p50/p95 of one index query,
with the build time of the index. Queries are shaped like serving queries: owner vectors
(mean of 10 tracks of one cluster) and single-track vectors. The scan mode is production's
(hnsw.iterative_scan = relaxed_order), so ef_search below k still returns k rows.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import Any

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector

from core.bench import (
    Stopwatch,
    _plain_url,
    clustered_embeddings,
    load_note,
    median,
    pct,
    temporary_database,
)
from core.bench.recommend import HNSW_INDEX
from core.limits import EMBEDDING_DIM

MAX_K = 50


def index_method(indexdef: str) -> str:
    """'USING hnsw (embedding vector_ip_ops) WITH (m=16, ...)' from the production indexdef."""
    m = re.search(r"USING hnsw .*$", indexdef)
    if m is None:
        raise RuntimeError(f"not an HNSW index definition: {indexdef}")
    return m.group(0)


def make_queries(emb: np.ndarray, labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Half owner-like queries (normalised mean of 10 tracks of one cluster), half
    track-like (one track's vector, as "more like this")."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, emb.shape[1]), dtype=np.float32)
    for i in range(n):
        if i % 2 == 0:
            cluster = labels[rng.integers(len(labels))]
            members = np.flatnonzero(labels == cluster)
            v = emb[rng.choice(members, size=min(10, len(members)), replace=False)].mean(axis=0)
        else:
            v = emb[rng.integers(len(emb))]
        out[i] = v / np.linalg.norm(v)
    return out


def exact_top(emb: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids (row numbers) by inner product, best first (ties broken arbitrarily)."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for lo in range(0, len(queries), 50):  # 50 x 1M float32 scores = 200 MB at a time
        scores = queries[lo : lo + 50] @ emb.T
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
        out[lo : lo + 50] = np.take_along_axis(part, order, axis=1)
    return out


async def load(conn: asyncpg.Connection, emb: np.ndarray) -> float:
    watch = Stopwatch()
    await conn.execute(
        f"CREATE TABLE ann_items (id integer PRIMARY KEY, embedding vector({EMBEDDING_DIM}))"
    )
    step = 100_000
    for lo in range(0, len(emb), step):
        await conn.copy_records_to_table(
            "ann_items",
            records=((i, emb[i]) for i in range(lo, min(len(emb), lo + step))),
            columns=["id", "embedding"],
        )
    await conn.execute("VACUUM ANALYZE ann_items")
    return watch.s()


async def measure(
    conn: asyncpg.Connection,
    queries: np.ndarray,
    truth: np.ndarray,
    ef: int,
    runs: int,
) -> dict[str, float]:
    await conn.execute(f"SET hnsw.ef_search = {int(ef)}")
    await conn.execute("SET hnsw.iterative_scan = relaxed_order")
    stmts = {
        k: await conn.prepare(f"SELECT id FROM ann_items ORDER BY embedding <#> $1 LIMIT {k}")
        for k in (10, MAX_K)
    }
    for q in queries[:20]:  # warm the plan and the pages
        await stmts[10].fetch(q)
    rec10, rec50 = [], []
    lat: dict[int, list[float]] = {10: [], MAX_K: []}
    for k, stmt in stmts.items():
        p50s, p95s = [], []
        for _ in range(runs):
            times = []
            for qi, q in enumerate(queries):
                watch = Stopwatch()
                rows = await stmt.fetch(q)
                times.append(watch.ms())
                got = {r[0] for r in rows}
                if _ == 0:
                    (rec10 if k == 10 else rec50).append(len(got & set(truth[qi, :k].tolist())) / k)
            p50s.append(pct(times, 50))
            p95s.append(pct(times, 95))
        lat[k] = [median(p50s), median(p95s)]
    return {
        "ef": ef,
        "recall@10": float(np.mean(rec10)),
        "recall@50": float(np.mean(rec50)),
        "p50_ms@10": lat[10][0],
        "p95_ms@10": lat[10][1],
        "p50_ms@50": lat[MAX_K][0],
        "p95_ms@50": lat[MAX_K][1],
    }


async def run(url: str, args: argparse.Namespace) -> list[dict[str, float]]:
    results = []
    async with temporary_database(url, "bench_ann") as db_url:
        conn = await asyncpg.connect(_plain_url(db_url))
        try:
            await register_vector(conn)
            indexdef = await conn.fetchval(
                "SELECT indexdef FROM pg_indexes WHERE indexname = $1", HNSW_INDEX
            )
            method = index_method(indexdef)
            if args.m or args.ef_construction:
                m = args.m or int(re.search(r"m='?(\d+)", method).group(1))  # type: ignore[union-attr]
                efc = args.ef_construction or int(
                    re.search(r"ef_construction='?(\d+)", method).group(1)  # type: ignore[union-attr]
                )
                method = re.sub(r"WITH \(.*\)", f"WITH (m={m}, ef_construction={efc})", method)
            print(f"{args.tracks} vectors, index: {method} ({load_note()})")
            watch = Stopwatch()
            emb, labels = clustered_embeddings(
                args.tracks, EMBEDDING_DIM, clusters=max(8, args.tracks // 500), seed=0
            )
            queries = make_queries(emb, labels, args.queries, seed=2)
            truth = exact_top(emb, queries, MAX_K)
            print(f"  data + exact answers {watch.s():.1f} s")
            print(f"  load {await load(conn, emb):.1f} s")
            del emb  # the exact answers are all we need from here on
            await conn.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
            await conn.execute(f"SET max_parallel_maintenance_workers = {args.workers}")
            watch = Stopwatch()
            await conn.execute(f"CREATE INDEX ann_hnsw ON ann_items {method}")
            build_s = watch.s()
            size = await conn.fetchval("SELECT pg_size_pretty(pg_relation_size('ann_hnsw'))")
            print(
                f"  HNSW build {build_s:.1f} s with {args.workers} parallel workers, "
                f"maintenance_work_mem {args.maintenance_work_mem}; index size {size} "
                f"({load_note()})"
            )
            for ef in args.ef:
                r = await measure(conn, queries, truth, ef, args.runs)
                r["build_s"] = build_s
                results.append(r)
                print(
                    f"  ef_search {ef:>4}: recall@10 {r['recall@10']:.3f}  "
                    f"recall@50 {r['recall@50']:.3f}  "
                    f"k=10 p50 {r['p50_ms@10']:.2f} ms p95 {r['p95_ms@10']:.2f} ms  "
                    f"k=50 p50 {r['p50_ms@50']:.2f} ms p95 {r['p95_ms@50']:.2f} ms  "
                    f"({load_note()})"
                )
        finally:
            await conn.close()
    print("target: recall >= 0.95 with p95 <= 10 ms")
    return results


def main(argv: list[str], urls: Any, settings: Any) -> int:
    parser = argparse.ArgumentParser(prog="tys bench ann", description=__doc__)
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--ef", type=lambda s: [int(x) for x in s.split(",")], default=[40, 100, 200]
    )
    parser.add_argument("--runs", type=int, default=3, help="latency runs per ef (median)")
    parser.add_argument("--m", type=int, default=0, help="override the index's m")
    parser.add_argument("--ef-construction", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="parallel build workers")
    parser.add_argument("--maintenance-work-mem", default="2GB")
    args = parser.parse_args(argv)
    asyncio.run(run(urls.database_url, args))
    return 0
