"""`tys bench lookup --tracks 100000 [--queries 500] [--runs 3]`: latency of one fuzzy lookup.

Builds a synthetic catalog (Korean and English titles and artists, made in PostgreSQL with one
INSERT ... SELECT) in a schema of its own, so the real catalog is untouched; the schema is
dropped afterwards. Queries are real titles with typos (one letter / one jamo), truncation
("…"), missing artists, bracket suffixes and wrong artists (which must give None). Prints the
index load time, p50/p95 of `CatalogMatcher.match` per run and their medians, accuracy, and
p50/p95 of the PostgreSQL one-off `lookup` (pg_trgm) on a subset.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Levenshtein
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.catalog.matching import CatalogMatcher, lookup
from core.db import make_engine
from core.normalize import artist_key

KO_WORDS = (
    "사랑 이별 하늘 바다 우리 그대 추억 눈물 기억 노래 햇살 바람 별빛 여름 겨울 봄날 가을 "
    "새벽 저녁 아침 꿈속 너의 나의 마음 시간 거리 도시 한강 서울 편지 약속 비밀 처음 마지막 "
    "오늘 내일 어제 달빛 그림자 소년 소녀 고백 파도 구름 빗소리 창문 골목 정원 기차 우산"
).split()
EN_WORDS = (
    "love night summer blue heart dream rain city light moon sun star river road home song "
    "dance fire ocean sky golden silver midnight morning window garden letter promise secret "
    "shadow paper velvet coffee sugar honey wild quiet little lonely sweet last first better "
    "forever yesterday tomorrow wonder magic echo island winter"
).split()
KO_ARTIST_A = (
    "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍 전 고 문 양 손 배 백".split()
)
KO_ARTIST_B = (
    "민준 서연 지호 하은 도윤 수아 예준 지우 시우 서윤 주원 하린 유진 지민 현우 소율 "
    "태양 은비 하늘 바다 별님 나래 다온 라온 새봄 한결 가람 누리 초롱 미르 보라 단비"
).split()
EN_ARTIST_A = (
    "the velvet golden midnight silver paper lonely electric northern blue wild quiet "
    "little neon honey crystal broken summer secret lucky"
).split()
EN_ARTIST_B = (
    "foxes tigers hearts rivers sparrows lanterns owls wolves echoes kites machines "
    "dreamers strangers lovers giants clouds engines ghosts parade choir"
).split()


def _arr(words: list[str] | tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join(f"'{w}'" for w in words) + "]"


def synthetic_insert_sql(schema: str, n: int, first_id: int = 1) -> str:
    """One INSERT ... SELECT of n synthetic tracks into schema.tracks.

    Titles are three words, unique per row (mixed radix over the word lists); even rows are
    Korean, odd rows English; artists are two hashed name parts (~860 Korean, 400 English).
    Words are lower-case letters/Hangul separated by single spaces,
    so `lower(title)` is exactly core.normalize.normalize_title(title).
    """
    kw, ew = len(KO_WORDS), len(EN_WORDS)
    return f"""
    INSERT INTO {schema}.tracks (id, title, artist, norm_title, norm_artist, language,
                                 popularity, source, spotify_status, explicit,
                                 interaction_count)
    SELECT id, title, artist, lower(title), lower(artist), lang, pop,
           'seed', 'unresolved', false, 0
    FROM (
      SELECT g + {first_id} - 1 AS id,
        CASE WHEN g % 2 = 0 THEN
          ({_arr(KO_WORDS)})[1 + (g / 2) % {kw}] || ' ' ||
          ({_arr(KO_WORDS)})[1 + (g / 2 / {kw}) % {kw}] || ' ' ||
          ({_arr(KO_WORDS)})[1 + (g / 2 / {kw * kw}) % {kw}]
        ELSE
          initcap(({_arr(EN_WORDS)})[1 + (g / 2) % {ew}]) || ' ' ||
          ({_arr(EN_WORDS)})[1 + (g / 2 / {ew}) % {ew}] || ' ' ||
          ({_arr(EN_WORDS)})[1 + (g / 2 / {ew * ew}) % {ew}]
        END AS title,
        CASE WHEN g % 2 = 0 THEN
          ({_arr(KO_ARTIST_A)})[1 + abs(hashint4(g)) % {len(KO_ARTIST_A)}] ||
          ({_arr(KO_ARTIST_B)})[1 + abs(hashint4(g + 7777777)) % {len(KO_ARTIST_B)}]
        ELSE
          initcap(({_arr(EN_ARTIST_A)})[1 + abs(hashint4(g)) % {len(EN_ARTIST_A)}]) || ' ' ||
          initcap(({_arr(EN_ARTIST_B)})[1 + abs(hashint4(g + 7777777)) % {len(EN_ARTIST_B)}])
        END AS artist,
        CASE WHEN g % 2 = 0 THEN 'ko' ELSE 'en' END AS lang,
        abs(hashint4(g * 3)) % 100 AS pop
      FROM generate_series(1, {n}) AS g
    ) s
    """


async def create_schema(conn: AsyncConnection, schema: str) -> None:
    """Empty copies of the catalog tables (same columns and defaults, no indexes yet: a bulk
    insert into an indexed table is several times slower than indexing afterwards)."""
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    await conn.execute(text(f"CREATE SCHEMA {schema}"))
    for table in ("tracks", "artist_aliases"):
        await conn.execute(
            text(
                f"CREATE TABLE {schema}.{table} (LIKE public.{table} "
                "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
        )


async def build_synthetic(conn: AsyncConnection, schema: str, n: int, indexes: bool = True) -> None:
    """Schema with n synthetic tracks plus the real catalog and aliases (if seeded).

    `indexes` adds the production indexes (unique norm pair, pg_trgm GIN on norm_title) the
    PostgreSQL `lookup` uses; the in-memory matcher needs none of them.
    """
    await create_schema(conn, schema)
    await conn.execute(text(synthetic_insert_sql(schema, n, first_id=1_000_001)))
    # The real catalog rides along so real titles compete with the synthetic ones.
    await conn.execute(text(f"INSERT INTO {schema}.tracks SELECT * FROM public.tracks"))
    await conn.execute(
        text(f"INSERT INTO {schema}.artist_aliases SELECT * FROM public.artist_aliases")
    )
    await conn.execute(text(f"ALTER TABLE {schema}.tracks ADD PRIMARY KEY (id)"))
    await conn.execute(text(f"ALTER TABLE {schema}.artist_aliases ADD PRIMARY KEY (alias_norm)"))
    if indexes:
        await conn.execute(
            text(f"CREATE UNIQUE INDEX ON {schema}.tracks (norm_title, norm_artist)")
        )
        await conn.execute(
            text(f"CREATE INDEX ON {schema}.tracks USING gin (norm_title gin_trgm_ops)")
        )
        await conn.execute(text(f"CREATE INDEX ON {schema}.tracks (norm_artist)"))
    await conn.execute(text(f"ANALYZE {schema}.tracks"))


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    kind: str
    title: str
    artist: str | None
    expect: int | None  # track id, or None when the right answer is "no match"


def _typo(rng: random.Random, title: str) -> str:
    """One slip: a Hangul syllable loses/changes one jamo, or a Latin letter is replaced."""
    positions = [i for i, c in enumerate(title) if c.isalpha()]
    if not positions:
        return title
    i = rng.choice(positions[1:] or positions)
    c = title[i]
    if "가" <= c <= "힣":
        jamo = list(unicodedata.normalize("NFD", c))
        vowels = [chr(v) for v in range(0x1161, 0x1176)]
        jamo[1] = rng.choice([v for v in vowels if v != jamo[1]])
        new = unicodedata.normalize("NFC", "".join(jamo))
    else:
        new = rng.choice([x for x in "abcdefghijklmnopqrstuvwxyz" if x != c.lower()])
    return title[:i] + new + title[i + 1 :]


def make_queries(rows: list[tuple[int, str, str]], n: int, seed: int = 7) -> list[Query]:
    rng = random.Random(seed)
    picks = rng.sample(rows, min(n, len(rows)))
    artists = [r[2] for r in rows]
    out: list[Query] = []
    for k, (tid, title, artist) in enumerate(picks):
        kind = ("exact", "typo", "truncated", "no-artist", "suffix", "wrong-artist")[k % 6]
        if kind == "exact":
            out.append(Query(kind, title, artist, tid))
        elif kind == "typo":
            out.append(Query(kind, _typo(rng, title), artist, tid))
        elif kind == "truncated":
            cut = max(4, int(len(title) * 0.7))
            q = title[:cut].rstrip() + "…" if cut < len(title) else title
            out.append(Query(kind, q, artist, tid))
        elif kind == "no-artist":
            out.append(Query(kind, _typo(rng, title), None, tid))
        elif kind == "suffix":
            out.append(Query(kind, f"{title} (Live) - Remastered 2011", artist, tid))
        else:
            # "Clearly different": a near-namesake (김민준 / 이민준) is a separate question.
            other = rng.choice(artists)
            while Levenshtein.normalized_similarity(artist_key(other), artist_key(artist)) > 0.5:
                other = rng.choice(artists)
            out.append(Query(kind, title, other, None))
    return out


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def run_bench(
    database_url: str, tracks: int, queries: int, runs: int, db_queries: int
) -> dict[str, Any]:
    schema = f"bench_lookup_{os.getpid()}"
    engine = make_engine(database_url, pool_size=2)
    report: dict[str, Any] = {"tracks": tracks, "queries": queries, "runs": runs}
    try:
        t0 = time.perf_counter()
        async with engine.begin() as conn:
            await build_synthetic(conn, schema, tracks)
        report["build_s"] = time.perf_counter() - t0
        async with engine.connect() as conn, conn.begin():
            # SET LOCAL: the search path ends with the transaction, the pooled connection
            # goes back clean.
            await conn.execute(text(f"SET LOCAL search_path TO {schema}, public"))
            session = AsyncSession(bind=conn)
            matcher = CatalogMatcher()
            t0 = time.perf_counter()
            await matcher.load(session)
            report["load_s"] = time.perf_counter() - t0
            report["catalog"] = len(matcher)
            rows = (
                await session.execute(text("SELECT id, title, artist FROM tracks ORDER BY id"))
            ).all()
            qs = make_queries([tuple(r) for r in rows], queries)  # type: ignore[misc]
            p50s, p95s = [], []
            correct = 0
            for run in range(runs):
                times = []
                for q in qs:
                    t0 = time.perf_counter()
                    m = matcher.match(q.title, q.artist)
                    times.append((time.perf_counter() - t0) * 1000)
                    if run == 0:
                        correct += (m.track_id if m else None) == q.expect
                p50s.append(_pct(times, 50))
                p95s.append(_pct(times, 95))
            report["p50_ms"] = p50s
            report["p95_ms"] = p95s
            report["accuracy"] = correct / len(qs)
            by_kind: dict[str, list[bool]] = {}
            for q in qs:
                m = matcher.match(q.title, q.artist)
                by_kind.setdefault(q.kind, []).append((m.track_id if m else None) == q.expect)
            report["accuracy_by_kind"] = {k: sum(v) / len(v) for k, v in by_kind.items()}
            db_times = []
            db_ok = 0
            for q in qs[:db_queries]:
                t0 = time.perf_counter()
                m = await lookup(session, q.title, q.artist)
                db_times.append((time.perf_counter() - t0) * 1000)
                db_ok += (m.track_id if m else None) == q.expect
            if db_times:
                report["db_p50_ms"] = _pct(db_times, 50)
                report["db_p95_ms"] = _pct(db_times, 95)
                report["db_accuracy"] = db_ok / len(db_times)
            await session.close()
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await engine.dispose()
    return report


def main(argv: list[str], urls: Any, settings: Any) -> int:
    parser = argparse.ArgumentParser(prog="tys bench lookup", description=__doc__)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db-queries", type=int, default=100, help="pg_trgm lookups to time")
    args = parser.parse_args(argv)
    r = asyncio.run(
        run_bench(urls.database_url, args.tracks, args.queries, args.runs, args.db_queries)
    )
    print(
        f"catalog {r['catalog']} tracks (synthetic {r['tracks']}); "
        f"built in {r['build_s']:.2f} s, index loaded in {r['load_s']:.2f} s"
    )
    for i, (p50, p95) in enumerate(zip(r["p50_ms"], r["p95_ms"], strict=True), 1):
        print(f"run {i}: {r['queries']} lookups  p50 {p50:.2f} ms  p95 {p95:.2f} ms")
    print(
        f"median over {r['runs']} runs: p50 {statistics.median(r['p50_ms']):.2f} ms  "
        f"p95 {statistics.median(r['p95_ms']):.2f} ms"
    )
    kinds = ", ".join(f"{k} {v:.0%}" for k, v in r["accuracy_by_kind"].items())
    print(f"accuracy {r['accuracy']:.1%} ({kinds})")
    if "db_p50_ms" in r:
        print(
            f"pg_trgm one-off lookup: p50 {r['db_p50_ms']:.1f} ms  p95 {r['db_p95_ms']:.1f} ms  "
            f"accuracy {r['db_accuracy']:.1%} over {args.db_queries} queries"
        )
    return 0
