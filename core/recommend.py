"""Recommendation service (no torch): onboarding candidates, owner taste, ranked pages.

Serving = nearest tracks to the owner embedding through pgvector's HNSW index (inner product
on L2-normalised vectors), re-ranked by similarity to the chosen playlist's centroid, minus
the playlist's tracks, vetoed tracks and artists, and what this set already showed; at most
REC_MAX_PER_ARTIST tracks of one artist per page.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import embeddings
from core.limits import (
    CANDIDATE_CACHE_TTL_S,
    ONBOARDING_CANDIDATES,
    REC_CANDIDATES,
    REC_MAX_PER_ARTIST,
    REC_PAGE_SIZE,
    REC_PLAYLIST_BLEND,
)


@dataclass(frozen=True)
class TrackCard:
    id: int
    title: str
    artist: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rec:
    track: TrackCard
    score: float
    why: list[str]  # tag keys explaining the pick, most relevant first


# --- onboarding -------------------------------------------------------------------------


def _cache_key(tags: Sequence[str]) -> str:
    return "tys:cand:" + ",".join(sorted(set(tags)))


async def onboarding_candidates(
    session: AsyncSession, redis: Redis, tags: Sequence[str]
) -> list[TrackCard]:
    """20 tracks for the chosen tags: most interactions first, then popularity prior.

    Cached in Redis per sorted tag set (the same sets are asked for again and again).
    Tracks matching more of the chosen tags come first; artists are spread so the pairs
    compare two different artists."""
    key = _cache_key(tags)
    cached = await redis.get(key)
    if cached:
        return [TrackCard(**row) for row in json.loads(cached)]
    rows = (
        await session.execute(
            text(
                """
                SELECT t.id, t.title, t.artist, t.norm_artist,
                       array_agg(g.key ORDER BY g.key) AS tags,
                       count(*) FILTER (WHERE g.key = ANY(:tags)) AS hits
                FROM tracks t
                JOIN track_tags tt ON tt.track_id = t.id
                JOIN tags g ON g.id = tt.tag_id
                WHERE t.embedding IS NOT NULL
                  AND t.id IN (SELECT tt2.track_id FROM track_tags tt2
                               JOIN tags g2 ON g2.id = tt2.tag_id WHERE g2.key = ANY(:tags))
                GROUP BY t.id
                ORDER BY hits DESC, t.interaction_count DESC, t.popularity DESC, t.id
                LIMIT :lim
                """
            ),
            {"tags": list(tags), "lim": ONBOARDING_CANDIDATES * 8},
        )
    ).all()
    picked: list[TrackCard] = []
    per_artist: dict[str, int] = defaultdict(int)
    for row in rows:
        if per_artist[row.norm_artist] >= 1:
            continue
        per_artist[row.norm_artist] += 1
        picked.append(TrackCard(row.id, row.title, row.artist, list(row.tags)))
        if len(picked) == ONBOARDING_CANDIDATES:
            break
    if len(picked) < ONBOARDING_CANDIDATES:  # few tracks for these tags: fill by popularity
        have = {c.id for c in picked}
        extra = (
            await session.execute(
                text(
                    "SELECT id, title, artist FROM tracks WHERE embedding IS NOT NULL "
                    "AND NOT (id = ANY(:have)) ORDER BY interaction_count DESC, popularity DESC, "
                    "id LIMIT :n"
                ),
                {"have": list(have), "n": ONBOARDING_CANDIDATES - len(picked)},
            )
        ).all()
        picked += [TrackCard(r.id, r.title, r.artist, []) for r in extra]
    await redis.set(key, json.dumps([asdict(c) for c in picked]), ex=CANDIDATE_CACHE_TTL_S)
    return picked


def pairs_from(candidates: Sequence[TrackCard]) -> list[tuple[TrackCard, TrackCard]]:
    """Ten pairs: strongest candidates meet weaker ones so every pick says something."""
    half = len(candidates) // 2
    return [(candidates[i], candidates[half + i]) for i in range(half)]


async def record_picks(
    session: AsyncSession, owner_id: int, track_ids: Sequence[int], tags: Sequence[str]
) -> np.ndarray | None:
    """Store the onboarding picks and set the owner embedding to their mean."""
    await session.execute(
        text("DELETE FROM taste_signals WHERE owner_id = :o AND kind = 'pick'"), {"o": owner_id}
    )
    await session.execute(
        text(
            "INSERT INTO taste_signals (owner_id, track_id, kind) "
            "SELECT :o, unnest(CAST(:ids AS int[])), 'pick'"
        ),
        {"o": owner_id, "ids": list(track_ids)},
    )
    await session.execute(
        text("UPDATE owners SET taste_tags = :tags, onboarded_at = now() WHERE id = :o"),
        {"o": owner_id, "tags": list(tags)},
    )
    await session.execute(
        text("UPDATE tracks SET interaction_count = interaction_count + 1 WHERE id = ANY(:ids)"),
        {"ids": list(track_ids)},
    )
    return await embeddings.rebuild_owner(session, owner_id)


async def record_adds(session: AsyncSession, owner_id: int, track_ids: Sequence[int]) -> None:
    """Adds are the strongest signal: logged as taste and the owner embedding follows them."""
    if not track_ids:
        return
    await session.execute(
        text(
            "INSERT INTO taste_signals (owner_id, track_id, kind) "
            "SELECT :o, unnest(CAST(:ids AS int[])), 'add'"
        ),
        {"o": owner_id, "ids": list(track_ids)},
    )
    await session.execute(
        text("UPDATE tracks SET interaction_count = interaction_count + 1 WHERE id = ANY(:ids)"),
        {"ids": list(track_ids)},
    )
    await embeddings.rebuild_owner(session, owner_id)


# --- serving ----------------------------------------------------------------------------


async def playlist_centroid(session: AsyncSession, playlist_id: int) -> np.ndarray | None:
    row = (
        await session.execute(
            text(
                "SELECT avg(t.embedding) FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id "
                "WHERE pt.playlist_id = :p AND t.embedding IS NOT NULL"
            ),
            {"p": playlist_id},
        )
    ).first()
    return None if row is None or row[0] is None else embeddings.as_array(row[0])


# The owner's exclusions, applied inside the HNSW index scan (hnsw.ef_search and the
# iterative scan that keeps it going until LIMIT rows pass are set per connection, core/db.py).
_FILTERS = """
      t.embedding IS NOT NULL
  AND {q} IS NOT NULL
  AND NOT (t.id = ANY(:exclude))
  AND (:explicit_ok OR NOT t.explicit)
  AND NOT EXISTS (SELECT 1 FROM playlist_tracks pt
                  WHERE pt.playlist_id = :pl AND pt.track_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM vetoes v WHERE v.owner_id = :o
                  AND (v.track_id = t.id OR v.artist_norm = t.norm_artist))
"""
_TAGS = """ARRAY(SELECT g.key FROM track_tags tt JOIN tags g ON g.id = tt.tag_id
             WHERE tt.track_id = {id} ORDER BY tt.weight DESC, g.id)"""

# Nearest tracks to a query vector of the caller's (daypart pushes blend in their mood tags),
# with their similarity and tags computed by PostgreSQL.
CANDIDATE_SQL = f"""
SELECT t.id, t.title, t.artist, t.norm_artist, -(t.embedding <#> :q) AS sim_q,
       {_TAGS.format(id="t.id")} AS tags
FROM tracks t
WHERE {_FILTERS.format(q=":q")}
ORDER BY t.embedding <#> :q
LIMIT :k
"""

# A page in one statement (one round trip): the query is the owner's embedding, else the
# playlist's centroid; the REC_CANDIDATES nearest are re-ranked by the blend with the
# centroid when there are both, capped per artist, and only the page's tracks get their
# tags. The vectors become InitPlans, which the HNSW scan takes as its ORDER BY parameter.
_Q, _C, _B = "(SELECT q FROM w)", "(SELECT c FROM w)", "CAST(:blend AS float8)"
RECOMMEND_SQL = f"""
WITH v AS (
  SELECT (SELECT embedding FROM owner_embeddings WHERE owner_id = :o) AS o,
         (SELECT avg(t.embedding) FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id
          WHERE pt.playlist_id = :pl AND t.embedding IS NOT NULL) AS c
), w AS (
  SELECT l2_normalize(COALESCE(o, c)) AS q,
         CASE WHEN o IS NOT NULL AND c IS NOT NULL THEN l2_normalize(c) END AS c
  FROM v
), cand AS (
  SELECT t.id, t.title, t.artist, t.norm_artist, t.embedding <#> {_Q} AS dist,
         -(t.embedding <#> {_Q}) * (CASE WHEN {_C} IS NULL THEN 1 ELSE 1 - {_B} END)
           + COALESCE(-(t.embedding <#> {_C}) * {_B}, 0) AS score
  FROM tracks t
  WHERE {_FILTERS.format(q=_Q)}
  ORDER BY t.embedding <#> {_Q}
  LIMIT :k
), capped AS (
  SELECT *, row_number() OVER (PARTITION BY norm_artist ORDER BY score DESC, dist) AS nth
  FROM cand
)
SELECT id, title, artist, score, {_TAGS.format(id="capped.id")} AS tags
FROM capped
WHERE nth <= :cap
ORDER BY score DESC, dist
LIMIT :page
"""


def candidate_params(
    owner_id: int,
    playlist_id: int | None,
    exclude: Sequence[int],
    explicit_ok: bool,
    k: int,
    q: np.ndarray | None = None,
) -> dict[str, object]:
    """Bind values shared by RECOMMEND_SQL and CANDIDATE_SQL (which also takes `q`)."""
    params: dict[str, object] = {
        "exclude": list(exclude),
        "explicit_ok": explicit_ok,
        "pl": playlist_id or -1,
        "o": owner_id,
        "k": k,
    }
    if q is not None:
        params["q"] = q
    return params


def recommend_params(
    owner_id: int,
    playlist_id: int | None,
    exclude: Sequence[int],
    explicit_ok: bool,
    *,
    blend: float = REC_PLAYLIST_BLEND,
    limit: int = REC_PAGE_SIZE,
) -> dict[str, object]:
    """Bind values of RECOMMEND_SQL (shared with `tys bench recommend --explain`)."""
    return {
        **candidate_params(owner_id, playlist_id, exclude, explicit_ok, REC_CANDIDATES),
        "blend": blend,
        "cap": REC_MAX_PER_ARTIST,
        "page": limit,
    }


async def recommend(
    session: AsyncSession,
    owner_id: int,
    *,
    playlist_id: int | None = None,
    exclude: Sequence[int] = (),
    limit: int = REC_PAGE_SIZE,
    blend: float = REC_PLAYLIST_BLEND,
    explicit_ok: bool = True,
    why_tags: Sequence[str] = (),
) -> list[Rec]:
    rows = await session.execute(
        text(RECOMMEND_SQL),
        recommend_params(owner_id, playlist_id, exclude, explicit_ok, blend=blend, limit=limit),
    )
    wanted = list(why_tags)
    out = []
    for r in rows:
        own = list(r.tags)
        why = [t for t in wanted if t in own] + [t for t in own if t not in wanted]
        out.append(Rec(TrackCard(r.id, r.title, r.artist, own), float(r.score), why[:3]))
    return out
