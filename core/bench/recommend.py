"""`tys bench recommend --tracks 100000 [--calls 500] [--runs 3] [--explain]`.

Latency of one `core.recommend.recommend()` call (warm) on a synthetic catalog: clustered,
L2-normalised 64-d embeddings in `tracks.embedding` under the production HNSW index (its
definition is read from the migrated schema, so the benchmark follows the migration), owners
with onboarding-like embeddings, a 30-track playlist each, track and artist vetoes. Everything
lives in a database created for the run and dropped afterwards. Calls mix what the bot does:
first pages and later pages (previously shown ids excluded), with and without the playlist,
with and without the explicit filter. Prints p50/p95 per run and the medians over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import recommend as rec
from core.bench import (
    Stopwatch,
    _plain_url,
    clustered_embeddings,
    load_note,
    median,
    pct,
    temporary_database,
)
from core.db import make_engine
from core.limits import EMBEDDING_DIM

HNSW_INDEX = "ix_tracks_embedding_hnsw"
N_TAGS = 24
PLAYLIST_LEN = 30
TRACKS_PER_ARTIST = 10


@dataclass(frozen=True)
class SyntheticOwner:
    id: int
    playlist_id: int
    explicit_ok: bool
    tags: list[str]


async def build_index(conn: asyncpg.Connection, indexdef: str, *, mem: str = "1GB") -> float:
    """(Re)build the HNSW index from its definition; returns seconds. Parallel workers and a
    maintenance_work_mem that holds the whole graph keep the build in memory (pgvector warns
    and slows down a lot once the graph spills)."""
    await conn.execute(f"SET maintenance_work_mem = '{mem}'")
    await conn.execute("SET max_parallel_maintenance_workers = 2")
    watch = Stopwatch()
    await conn.execute(indexdef)
    return watch.s()


async def load_catalog(
    url: str,
    n_tracks: int,
    *,
    n_owners: int = 50,
    first_track_id: int = 1,
    owner_base: int = 9_000_000,
    seed: int = 0,
    version: int | None = None,
    centres: np.ndarray | None = None,
) -> tuple[list[SyntheticOwner], dict[str, float]]:
    """Add n synthetic tracks (with tags and serving embeddings) and n_owners owners with an
    owner embedding, a playlist and vetoes to the database at `url`. The HNSW index is dropped
    for the bulk load and rebuilt from its own definition afterwards. Returns the owners and
    timings (s)."""
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(_plain_url(url))
    try:
        await register_vector(conn)
        indexdef = await conn.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE indexname = $1", HNSW_INDEX
        )
        if indexdef is None:
            raise RuntimeError(f"{HNSW_INDEX} missing: is the database migrated?")
        watch = Stopwatch()
        clusters = max(8, n_tracks // 500)
        emb, labels = clustered_embeddings(
            n_tracks, EMBEDDING_DIM, clusters=clusters, seed=seed, centres=centres
        )
        clusters = int(labels.max()) + 1
        rng = np.random.default_rng(seed + 1)
        ids = np.arange(first_track_id, first_track_id + n_tracks)
        # ~TRACKS_PER_ARTIST tracks per artist, artists stay inside their cluster (a genre).
        artist_no = labels * 100_000 + rng.integers(0, max(1, n_tracks // clusters // 10), n_tracks)
        explicit = rng.random(n_tracks) < 0.05
        popularity = rng.integers(0, 100, n_tracks)
        timings["generate_s"] = watch.s()

        watch = Stopwatch()
        await conn.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")
        await conn.copy_records_to_table(
            "tracks",
            records=(
                (
                    int(ids[i]),
                    f"Synthetic Song {int(ids[i])}",
                    f"Synth Artist {int(artist_no[i])}",
                    f"synthetic song {int(ids[i])}",
                    f"synth artist {int(artist_no[i])}",
                    bool(explicit[i]),
                    int(popularity[i]),
                    "import",
                    "unresolved",
                    0,
                    emb[i],
                    version,
                )
                for i in range(n_tracks)
            ),
            columns=[
                "id", "title", "artist", "norm_title", "norm_artist", "explicit", "popularity",
                "source", "spotify_status", "interaction_count", "embedding", "embedding_version",
            ],
        )  # fmt: skip
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('tracks', 'id'), (SELECT max(id) FROM tracks))"
        )
        # Tags: the cluster's own tag (a genre/mood) and one random one, like catalog tags.
        for k in range(N_TAGS):
            await conn.execute(
                'INSERT INTO tags (key, "group", label_en, label_ko) VALUES ($1, $2, $1, $1) '
                "ON CONFLICT (key) DO NOTHING",
                f"syn{k:02d}",
                "mood",
            )
        tag_ids = [
            r[0] for r in await conn.fetch("SELECT id FROM tags WHERE key LIKE 'syn%' ORDER BY key")
        ]
        second = rng.integers(0, N_TAGS, n_tracks)
        records = []
        for i in range(n_tracks):
            a, b = tag_ids[labels[i] % N_TAGS], tag_ids[second[i]]
            records.append((int(ids[i]), a, 1.0))
            if b != a:
                records.append((int(ids[i]), b, 0.5))
        await conn.copy_records_to_table(
            "track_tags", records=records, columns=["track_id", "tag_id", "weight"]
        )
        timings["load_s"] = watch.s()
        timings["index_s"] = await build_index(conn, indexdef)
        await conn.execute("ANALYZE tracks")
        await conn.execute("ANALYZE track_tags")

        owners = await _make_owners(conn, emb, labels, ids, artist_no, n_owners, owner_base, rng)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return owners, timings


async def _make_owners(
    conn: asyncpg.Connection,
    emb: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray,
    artist_no: np.ndarray,
    n_owners: int,
    owner_base: int,
    rng: np.random.Generator,
) -> list[SyntheticOwner]:
    """Owners as onboarding leaves them: embedding = mean of 10 picks from one taste cluster;
    a 30-track playlist from that cluster (so the playlist filter really removes near
    neighbours), five vetoed tracks and one vetoed artist from it too."""
    by_cluster: dict[int, np.ndarray] = {}
    big = np.bincount(labels).argsort()[::-1][: max(4, n_owners)]
    owners = []
    for j in range(n_owners):
        owner_id = owner_base + j
        cluster = int(big[j % len(big)])
        members = by_cluster.setdefault(cluster, np.flatnonzero(labels == cluster))
        picks = rng.choice(members, size=min(10, len(members)), replace=False)
        vec = emb[picks].mean(axis=0)
        vec = (vec / np.linalg.norm(vec)).astype(np.float32)
        tags = [f"syn{cluster % N_TAGS:02d}"]
        await conn.execute(
            "INSERT INTO owners (id, language, timezone, spotify_state, explicit_filter, "
            "taste_tags, onboarded_at) VALUES ($1, 'en', 'Asia/Seoul', 'none', $2, $3, now())",
            owner_id,
            j % 4 == 3,
            tags,
        )
        await conn.execute(
            "INSERT INTO owner_embeddings (owner_id, embedding, source) "
            "VALUES ($1, $2, 'onboarding')",
            owner_id,
            vec,
        )
        playlist_id = await conn.fetchval(
            "INSERT INTO playlists (owner_id, source, external_id, name, tags) "
            "VALUES ($1, 'bot', $2, $3, '{}') RETURNING id",
            owner_id,
            f"bench-{owner_id}",
            f"Shop {owner_id}",
        )
        chosen = rng.choice(members, size=min(PLAYLIST_LEN, len(members)), replace=False)
        await conn.executemany(
            "INSERT INTO playlist_tracks (playlist_id, track_id, position) VALUES ($1, $2, $3)",
            [(playlist_id, int(ids[i]), pos) for pos, i in enumerate(chosen)],
        )
        vetoed = rng.choice(members, size=min(5, len(members)), replace=False)
        await conn.executemany(
            "INSERT INTO vetoes (owner_id, track_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(owner_id, int(ids[i])) for i in vetoed],
        )
        await conn.execute(
            "INSERT INTO vetoes (owner_id, artist_norm) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            owner_id,
            f"synth artist {int(artist_no[members[0]])}",
        )
        owners.append(SyntheticOwner(owner_id, int(playlist_id), j % 4 != 3, tags))
    return owners


@dataclass(frozen=True)
class Call:
    owner: SyntheticOwner
    playlist: bool
    exclude: list[int]


def _label(statement: Any) -> str:
    sql = " ".join(str(statement).split())
    for key, label in (
        # recommend() is one statement; it also pays for the pool checkout and BEGIN.
        ("ORDER BY t.embedding <#>", "vectors + HNSW candidates + tags (+checkout)"),
    ):
        if key in sql:
            return label
    return sql[:40]


async def _call(
    sm: async_sessionmaker[AsyncSession], c: Call, stages: dict[str, float] | None = None
) -> tuple[float, int]:
    async with sm() as session:
        if stages is not None:
            # Time every statement recommend() sends (round trip + row decoding), by kind;
            # what is left of the call is Python (numpy re-rank, per-artist cap, cards).
            execute = session.execute

            async def timed(statement: Any, *a: Any, **kw: Any) -> Any:
                watch = Stopwatch()
                try:
                    return await execute(statement, *a, **kw)
                finally:
                    label = _label(statement)
                    stages[label] = stages.get(label, 0.0) + watch.ms()

            session.execute = timed  # type: ignore[method-assign]
        watch = Stopwatch()
        recs = await rec.recommend(
            session,
            c.owner.id,
            playlist_id=c.owner.playlist_id if c.playlist else None,
            exclude=c.exclude,
            explicit_ok=c.owner.explicit_ok,
            why_tags=c.owner.tags,
        )
        took = watch.ms()
        if stages is not None:
            stages["total"] = stages.get("total", 0.0) + took
        await session.rollback()
    return took, len(recs)


async def make_calls(
    sm: async_sessionmaker[AsyncSession], owners: list[SyntheticOwner], n: int, seed: int
) -> list[Call]:
    """Calls like the bot's: page 1 (nothing excluded) or a later page that excludes what the
    earlier pages showed; the playlist is used in two calls out of three."""
    rnd = random.Random(seed)
    calls: list[Call] = []
    shown: dict[tuple[int, bool], list[int]] = {}
    for _ in range(n):
        owner = rnd.choice(owners)
        with_pl = rnd.random() < 2 / 3
        key = (owner.id, with_pl)
        page = rnd.randrange(4)
        if page == 0 or key not in shown:
            shown[key] = []
        exclude = list(shown[key])
        calls.append(Call(owner, with_pl, exclude))
        async with sm() as session:
            got = await rec.recommend(
                session,
                owner.id,
                playlist_id=owner.playlist_id if with_pl else None,
                exclude=exclude,
                explicit_ok=owner.explicit_ok,
            )
            await session.rollback()
        shown[key] = (exclude + [r.track.id for r in got])[-60:]
    return calls


async def explain(sm: async_sessionmaker[AsyncSession], call: Call) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate query exactly as recommend() sends it."""
    async with sm() as session:
        sql = rec.RECOMMEND_SQL
        params = rec.recommend_params(
            call.owner.id,
            call.owner.playlist_id if call.playlist else None,
            call.exclude,
            call.owner.explicit_ok,
        )
        rows = await session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params)
        out = "\n".join(r[0] for r in rows)
        await session.rollback()
    return out


async def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    async with temporary_database(url, "bench_rec") as db_url:
        print(f"building {args.tracks} synthetic tracks in a temporary database ({load_note()})")
        owners, timings = await load_catalog(db_url, args.tracks, n_owners=args.owners)
        print(
            "  generate {generate_s:.1f} s, load {load_s:.1f} s, HNSW index {index_s:.1f} s".format(
                **timings
            )
        )
        engine = make_engine(db_url, pool_size=2)
        sm = async_sessionmaker(engine, expire_on_commit=False)
        try:
            calls = await make_calls(sm, owners, args.calls, seed=1)
            for c in calls[: args.calls // 5]:  # warm-up: index pages and plans cached
                await _call(sm, c)
            if args.explain:
                print(await explain(sm, next(c for c in calls if c.playlist and c.exclude)))
            stages: dict[str, float] = {}
            for c in calls:
                await _call(sm, c, stages)
            total = stages.pop("total")
            rest = total - sum(stages.values())
            print(
                "  where the time goes (mean ms per call): "
                + ", ".join(f"{k} {v / len(calls):.2f}" for k, v in stages.items())
                + f", Python {rest / len(calls):.2f} (total {total / len(calls):.2f})"
            )
            p50s, p95s, empties = [], [], 0
            for r in range(args.runs):
                times = []
                for c in calls:
                    took, n = await _call(sm, c)
                    times.append(took)
                    empties += n < 10
                p50s.append(pct(times, 50))
                p95s.append(pct(times, 95))
                print(
                    f"  run {r + 1}: p50 {p50s[-1]:.1f} ms  p95 {p95s[-1]:.1f} ms  "
                    f"max {max(times):.1f} ms  ({load_note()})"
                )
        finally:
            await engine.dispose()
    result = {
        "tracks": args.tracks,
        "calls": args.calls,
        "runs": args.runs,
        "p50_ms": median(p50s),
        "p95_ms": median(p95s),
        "short_pages": empties,
        **timings,
    }
    print(
        f"recommend(): p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms "
        f"(median of {args.runs} runs x {args.calls} calls; target p95 <= 50 ms; {load_note()})"
    )
    if empties:
        print(f"  warning: {empties} calls returned fewer than 10 recommendations")
    return result


def main(argv: list[str], urls: Any, settings: Any) -> int:
    parser = argparse.ArgumentParser(prog="tys bench recommend", description=__doc__)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE once")
    args = parser.parse_args(argv)
    asyncio.run(run(urls.database_url, args))
    return 0
