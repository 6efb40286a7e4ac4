"""The product's one track matcher: (title, artist | None, truncated) -> a catalog track or None.

Used by playlist import de-duplication, Spotify resolution and screenshot (OCR) matching, so a
song is recognised the same way everywhere.

API
---
``CatalogMatcher`` — an in-memory index over every catalog track, built once per process::

    matcher = CatalogMatcher()
    await matcher.load(session)                 # ~1-2 s for 100k tracks
    m = matcher.match("밤펀지", "IU")           # -> Match | None, a few ms
    m = matcher.match("Blueming (feat…", None, truncated=True)
    ranked = matcher.candidates("Love", None, limit=5)   # for "did you mean…" UIs
    await matcher.refresh(session)              # picks up tracks added since load (cheap)
    matcher.add(track_id, title, artist)        # or register one new track directly

``score_pair(title, artist, candidate_title, candidate_artist, truncated=False, aliases=None)``
applies the same rules to one pair (a float 0..1, or None when they are not the same song).

``await get_matcher(session)`` returns the process-wide matcher (loaded on first use, refreshed
with new tracks on later calls). ``await lookup(session, title, artist, truncated=False)`` is a
one-off lookup through PostgreSQL (pg_trgm on ``tracks.norm_title`` + the artist's tracks),
scored exactly like the matcher; it needs no index in memory but does not survive a one-jamo
slip in a short Korean title whose artist is unknown (trigrams of syllables change too much).

``Match`` carries ``track_id, title, artist, score`` (0..1, weighted title + artist similarity)
plus ``title_score``, ``artist_score`` (None when no artist was given) and ``how``
("exact" | "fuzzy" | "prefix").

Rules (thresholds in core.limits, MATCH_*):
- Titles and artists are compared as ``core.normalize.match_key`` strings: NFKC, case-folded,
  brackets / "feat." / "- Remastered 2011" / "(Live)" removed, no punctuation or spaces, Hangul
  decomposed into jamo so one OCR slip costs one letter, not a syllable. Every title is also
  known by its bracket variants ("봄날 (Spring Day)" is "봄날", "spring day" and both).
- Artists are resolved through ``artist_aliases`` (아이유 == IU) and compared whole, without a
  leading "The", and by the individual names of a credit ("Stan Getz & João Gilberto").
- A title that ended with "…" (or ``truncated=True``) is compared with the catalog title cut to
  the same visible length.
- A known artist that is clearly different refuses the match, however good the title; with no
  artist the title must be nearly identical; two different tracks scoring within a hair of
  each other give None (a wrong match is worse than no match).

Candidate retrieval is an inverted index of character trigrams of the keys (numpy arrays), so a
lookup scores at most MATCH_CANDIDATES tracks instead of the whole catalog.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.normalize import (
    artist_key,
    artist_parts,
    is_truncated,
    key_from_norm,
    match_key,
    normalize_artist,
    normalize_title,
    strip_ellipsis,
    title_variants,
)

# Marks the start of a key so the first trigram of a title is distinct from the same letters
# inside another title (helps prefixes of truncated titles).
_START = "\x02"
_END = "\x03"
# A lone bracket variant ("Luv(sic.)" -> "sic") this short says too little to be a title key.
_MIN_INNER_KEY = 4
# Titles that may have other forms: brackets, version suffixes after a dash, "feat.".
_HAS_VARIANTS = re.compile(r"[(\[{（【「『<〈\-–—]|feat", re.IGNORECASE)
# Weight of a match on one name of a multi-artist credit (see _artist_similarity).
_PART_FACTOR = 0.85
# Below this many tracks added since the index was built, new tracks are scanned linearly.
_REBUILD_AFTER = 2000


@dataclass(frozen=True, slots=True)
class Match:
    track_id: int
    title: str
    artist: str
    score: float
    title_score: float
    artist_score: float | None
    how: str  # exact | fuzzy | prefix


def _padded(key: str) -> str:
    # Start marker, and at least three characters so every key has a trigram.
    padded = _START + key
    return padded + _END * (3 - len(padded)) if len(padded) < 3 else padded


def _gram_hashes(keys: Iterable[str]) -> np.ndarray:
    """Trigram ids of the keys: three code points (< 2**21 each) packed into one int64."""
    grams = {
        (ord(p[i]) << 42) | (ord(p[i + 1]) << 21) | ord(p[i + 2])
        for p in map(_padded, keys)
        for i in range(len(p) - 2)
    }
    return np.fromiter(grams, dtype=np.int64, count=len(grams))


def _top(counts: np.ndarray, k: int) -> list[int]:
    """Indexes of the k largest counts (> 0). A full argpartition over 100k mostly-tied
    counts is slow; instead find the count threshold from a histogram of the counts."""
    hist = np.bincount(counts)
    hist[0] = 0
    above = np.cumsum(hist[::-1])[::-1]  # above[c] = how many tracks share >= c grams
    enough = np.flatnonzero(above >= k)
    threshold = max(int(enough[-1]) if len(enough) else 1, 1)
    strong = np.flatnonzero(counts > threshold)
    tied = np.flatnonzero(counts == threshold)[: max(0, k - len(strong))]
    return strong.tolist() + tied.tolist()


def catalog_title_keys(title: str, norm_title: str | None = None) -> tuple[str, ...]:
    """Every key a catalog title is known by: normalised, bracket variants, the raw full text
    (the raw form lets a truncated "Blueming (feat…" line up with the visible characters)."""
    keys = [
        key_from_norm(norm_title) if norm_title is not None else match_key(normalize_title(title))
    ]
    if _HAS_VARIANTS.search(title):
        for variant in title_variants(title)[1:]:
            key = match_key(variant)
            if len(key) >= _MIN_INNER_KEY and key not in keys:
                keys.append(key)
        raw = match_key(title)
        if raw and raw not in keys:
            keys.append(raw)
    return tuple(k for k in keys if k)


@dataclass(frozen=True, slots=True)
class _Query:
    keys: tuple[str, ...]
    truncated: bool
    artist_canon: str | None
    artist_keys: tuple[str, ...]

    @property
    def has_artist(self) -> bool:
        return bool(self.artist_keys)


def _query_title_keys(title: str, truncated: bool) -> tuple[str, ...]:
    if not truncated:
        keys = [match_key(v) for v in title_variants(title)]
        keys = [k for i, k in enumerate(keys) if k and (i == 0 or len(k) >= _MIN_INNER_KEY)]
        return tuple(dict.fromkeys(keys))
    visible = strip_ellipsis(title)
    # The visible text may end inside a bracket or a version suffix; try it both cleaned and raw.
    keys = [match_key(normalize_title(visible)), match_key(visible)]
    return tuple(dict.fromkeys(k for k in keys if k))


def _title_similarity(q: _Query, keys: Iterable[str]) -> tuple[float, str]:
    best, how = 0.0, "fuzzy"
    for tk in keys:
        for qk in q.keys:
            if q.truncated and len(tk) > len(qk):
                if len(qk) < limits.MATCH_TRUNCATED_MIN_KEY:
                    continue
                s = Levenshtein.normalized_similarity(qk, tk[: len(qk)])
                kind = "prefix"
            else:
                s = Levenshtein.normalized_similarity(qk, tk)
                kind = "exact" if s == 1.0 else "fuzzy"
            if s > best:
                best, how = s, kind
    return best, how


def _artist_similarity(q: _Query, canon: str, akey: str, parts: tuple[str, ...]) -> float:
    if q.artist_canon is not None and q.artist_canon == canon:
        return 1.0
    whole = part = 0.0
    for qk in q.artist_keys:
        whole = max(whole, Levenshtein.normalized_similarity(qk, akey))
        for tk in parts:
            # A one-letter name part ("x") must not match a whole credit.
            if min(len(qk), len(tk)) >= 2:
                part = max(part, Levenshtein.normalized_similarity(qk, tk))
    # Naming one artist of a credit is good evidence, but less than naming the credit itself,
    # so "Antônio Carlos Jobim" prefers his own recording over "Frank Sinatra & Antônio…".
    return max(whole, part * _PART_FACTOR)


def _combine(title_s: float, artist_s: float | None) -> float | None:
    """Weighted score, or None when the pair must not be taken as the same song."""
    if title_s < limits.MATCH_MIN_TITLE:
        return None
    if artist_s is None:
        return title_s if title_s >= limits.MATCH_MIN_TITLE_ONLY else None
    if artist_s < limits.MATCH_MIN_ARTIST:
        return None
    score = limits.MATCH_TITLE_WEIGHT * title_s + limits.MATCH_ARTIST_WEIGHT * artist_s
    return score if score >= limits.MATCH_MIN_SCORE else None


def _decide(ranked: list[Match]) -> Match | None:
    if not ranked:
        return None
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < limits.MATCH_AMBIGUITY_MARGIN:
        return None
    return ranked[0]


class _ArtistResolver:
    """Artist names -> canonical normalised artist (via artist_aliases) and comparison keys."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self._cache: dict[str, tuple[str, str, tuple[str, ...]]] = {}

    def canonical(self, norm_artist: str) -> str:
        return self.aliases.get(norm_artist, norm_artist)

    def describe(
        self, artist: str, norm_artist: str | None = None
    ) -> tuple[str, str, tuple[str, ...]]:
        norm = norm_artist if norm_artist is not None else normalize_artist(artist)
        hit = self._cache.get(artist)
        if hit is None:
            hit = (self.canonical(norm), artist_key(artist), tuple(artist_parts(artist)))
            if len(self._cache) < 500_000:
                self._cache[artist] = hit
        return hit

    def query(self, title_keys: tuple[str, ...], truncated: bool, artist: str | None) -> _Query:
        if not artist or not artist.strip():
            return _Query(title_keys, truncated, None, ())
        canon, akey, parts = self.describe(artist)
        keys = tuple(dict.fromkeys(k for k in (akey, *parts) if k))
        # The canonical name of an alias ("IU" -> "아이유") is one more spelling to compare with.
        canon_key = match_key(canon)
        if canon_key and canon_key not in keys:
            keys = (*keys, canon_key)
        return _Query(title_keys, truncated, canon, keys)


# The catalog comes back as one row of arrays (decoded by asyncpg in C, no per-row objects),
# with the match key of norm_title computed by PostgreSQL exactly as core.normalize
# .key_from_norm does it: spaces removed, NFD, combining accents dropped.
_FETCH_TRACKS = text(
    """
    SELECT array_agg(id ORDER BY id), array_agg(title ORDER BY id),
           array_agg(artist ORDER BY id), array_agg(norm_title ORDER BY id),
           array_agg(norm_artist ORDER BY id),
           array_agg(regexp_replace(normalize(replace(norm_title, ' ', ''), NFD),
                     '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]',
                     '', 'g') ORDER BY id)
    FROM tracks WHERE id > :after
    """
)


async def _fetch_tracks(session: AsyncSession, after: int = 0) -> tuple[list[Any], ...]:
    row = (await session.execute(_FETCH_TRACKS, {"after": after})).one()
    return tuple(list(col or ()) for col in row)


async def _load_aliases(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(text("SELECT alias_norm, artist_norm FROM artist_aliases"))
    return {a: c for a, c in rows.all()}


class CatalogMatcher:
    """In-memory index of the catalog for fuzzy (title, artist) lookups. See module docstring."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._reset({})

    def _reset(self, aliases: dict[str, str]) -> None:
        self._resolver = _ArtistResolver(aliases)
        self._ids: list[int] = []
        self._titles: list[str] = []
        self._artists: list[str] = []
        self._tkeys: list[tuple[str, ...]] = []
        # Artists are described once (canonical norm, key, part keys); tracks point at them.
        self._adesc: list[tuple[str, str, tuple[str, ...]]] = []
        self._artist_index: dict[str, int] = {}
        self._aidx: list[int] = []
        self._exact: dict[str, list[int]] = {}
        self._by_artist: dict[str, list[int]] = {}
        # Trigram index (see _build_postings): sorted gram ids, their slice starts in
        # _g_tracks, and the track indexes.
        self._g_ids = self._g_start = self._g_tracks = np.zeros(0, dtype=np.int64)
        self._indexed = 0  # tracks covered by the trigram index; later ones are scanned linearly
        self._max_id = 0
        self._position: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def loaded(self) -> bool:
        return bool(self._ids)

    async def load(self, session: AsyncSession) -> CatalogMatcher:
        """(Re)build the index from every track and artist alias in the database."""
        async with self._lock:
            aliases = await _load_aliases(session)
            columns = await _fetch_tracks(session)
            self._reset(aliases)  # a full reload starts from nothing
            self._extend(*columns)
            self._build_postings()
        return self

    async def refresh(self, session: AsyncSession) -> int:
        """Add tracks created since the last load/refresh; returns how many were added."""
        if not self.loaded:
            await self.load(session)
            return len(self)
        async with self._lock:
            self._resolver.aliases.update(await _load_aliases(session))
            columns = await _fetch_tracks(session, self._max_id)
            before = len(self._ids)
            self._extend(*columns)
            added = len(self._ids) - before
            if len(self._ids) - self._indexed > _REBUILD_AFTER:
                self._build_postings()
            return added

    def add(self, track_id: int, title: str, artist: str) -> None:
        """Register one track just written to the catalog (import, Last.fm, screenshot)."""
        self._extend([track_id], [title], [artist], [None], [None])
        if len(self._ids) - self._indexed > _REBUILD_AFTER:
            self._build_postings()

    def _extend(
        self,
        ids: list[int],
        titles: list[str],
        artists: list[str],
        nts: list[str | None],
        nas: list[str | None],
        nkeys: list[str] | None = None,
    ) -> None:
        """Add tracks given as columns (norm_* None when unknown; nkeys = key_from_norm of
        norm_title when the database computed it). Indexing 100k tracks is mostly Python
        overhead, so per-track work is kept minimal."""
        if any(i in self._position for i in ids):
            keep = [j for j, i in enumerate(ids) if i not in self._position]
            ids, titles, artists = (
                [ids[j] for j in keep],
                [titles[j] for j in keep],
                [artists[j] for j in keep],
            )
            nts, nas = [nts[j] for j in keep], [nas[j] for j in keep]
            nkeys = [nkeys[j] for j in keep] if nkeys is not None else None
        if not ids:
            return
        base = len(self._ids)
        has_variants = _HAS_VARIANTS.search
        if nkeys is None:
            nkeys = [key_from_norm(nt) if nt else "" for nt in nts]
        tkeys = [
            (k,) if k and not has_variants(t) else catalog_title_keys(t, nt)
            for t, nt, k in zip(titles, nts, nkeys, strict=True)
        ]
        index = self._artist_index
        for artist, norm in dict(zip(artists, nas, strict=True)).items():
            if artist not in index:
                index[artist] = len(self._adesc)
                self._adesc.append(self._resolver.describe(artist, norm))
        aidx = [index[a] for a in artists]
        self._ids += ids
        self._titles += titles
        self._artists += artists
        self._tkeys += tkeys
        self._aidx += aidx
        self._position.update(zip(ids, range(base, base + len(ids)), strict=True))
        self._max_id = max(self._max_id, *ids)
        exact = self._exact
        for i, keys in enumerate(tkeys, base):
            for k in keys:
                bucket = exact.get(k)
                if bucket is None:
                    exact[k] = [i]
                else:
                    bucket.append(i)
        by_artist = self._by_artist
        for i, ai in enumerate(aidx, base):
            canon = self._adesc[ai][0]
            bucket = by_artist.get(canon)
            if bucket is None:
                by_artist[canon] = [i]
            else:
                bucket.append(i)

    def _build_postings(self) -> None:
        """Inverted trigram index as three numpy arrays, built without a Python loop per gram:
        every padded key is laid end to end as code points, the trigram id of each position
        is computed at once, and (gram, track) pairs are sorted and de-duplicated."""
        owners: list[int] = []
        padded: list[str] = []
        for i, keys in enumerate(self._tkeys):
            for k in keys:
                owners.append(i)
                padded.append(_padded(k))
        if not padded:
            self._g_ids = self._g_start = self._g_tracks = np.zeros(0, dtype=np.int64)
            self._indexed = len(self._ids)
            return
        codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32)
        codes = codes.astype(np.int64)
        # Every key starts with _START and nowhere else, so position p starts a trigram of one
        # key when neither p + 1 nor p + 2 is the start of the next key.
        key_no = np.cumsum(codes == ord(_START)) - 1
        p = np.arange(len(codes) - 2)
        p = p[(codes[p + 1] != ord(_START)) & (codes[p + 2] != ord(_START))]
        gram = (codes[p] << 42) | (codes[p + 1] << 21) | codes[p + 2]
        track = np.asarray(owners, dtype=np.int32)[key_no[p]]
        # Tracks come in ascending order, so a stable sort by gram keeps them sorted per gram.
        order = np.argsort(gram, kind="stable")
        gram, track = gram[order], track[order]
        keep = np.ones(len(gram), dtype=bool)
        keep[1:] = (gram[1:] != gram[:-1]) | (track[1:] != track[:-1])
        gram, track = gram[keep], track[keep]
        first = np.ones(len(gram), dtype=bool)
        first[1:] = gram[1:] != gram[:-1]
        self._g_ids = gram[first]
        self._g_start = np.append(np.flatnonzero(first), len(gram))
        self._g_tracks = track
        self._indexed = len(self._ids)

    def _gram_hits(self, keys: Iterable[str]) -> np.ndarray | None:
        """Track indexes, once per trigram of `keys` they share (so repeats = shared grams)."""
        wanted = _gram_hashes(keys)
        if not len(self._g_ids) or not len(wanted):
            return None
        pos = np.searchsorted(self._g_ids, wanted)
        inside = pos < len(self._g_ids)
        pos, wanted = pos[inside], wanted[inside]
        pos = pos[self._g_ids[pos] == wanted]
        if not len(pos):
            return None
        starts, ends = self._g_start[pos], self._g_start[pos + 1]
        return np.concatenate([self._g_tracks[a:b] for a, b in zip(starts, ends, strict=True)])

    def _candidates(self, q: _Query) -> set[int]:
        found: set[int] = set()
        for k in q.keys:
            if not q.truncated:
                found.update(self._exact.get(k, ()))
        if q.artist_canon is not None:
            found.update(self._by_artist.get(q.artist_canon, ())[:5000])
        hits = self._gram_hits(q.keys)
        if hits is not None:
            counts = np.bincount(hits, minlength=self._indexed)
            found.update(_top(counts, limits.MATCH_CANDIDATES))
        # Tracks added after the last index build are few; score them all.
        found.update(range(self._indexed, len(self._ids)))
        return found

    def _score(self, q: _Query, candidates: Iterable[int]) -> list[Match]:
        ranked: list[Match] = []
        for i in candidates:
            title_s, how = _title_similarity(q, self._tkeys[i])
            if title_s < limits.MATCH_MIN_TITLE:
                continue
            artist_s = _artist_similarity(q, *self._adesc[self._aidx[i]]) if q.has_artist else None
            score = _combine(title_s, artist_s)
            if score is None:
                continue
            ranked.append(
                Match(
                    self._ids[i],
                    self._titles[i],
                    self._artists[i],
                    round(score, 4),
                    round(title_s, 4),
                    None if artist_s is None else round(artist_s, 4),
                    how,
                )
            )
        ranked.sort(key=lambda m: (-m.score, m.track_id))
        return ranked

    def _query(self, title: str, artist: str | None, truncated: bool) -> _Query | None:
        truncated = truncated or is_truncated(title)
        keys = _query_title_keys(title, truncated)
        if not keys:
            return None
        return self._resolver.query(keys, truncated, artist)

    def candidates(
        self, title: str, artist: str | None = None, truncated: bool = False, limit: int = 5
    ) -> list[Match]:
        """Acceptable matches, best first (may be several when the answer is ambiguous)."""
        q = self._query(title, artist, truncated)
        if q is None or not self._ids:
            return []
        return self._score(q, self._candidates(q))[:limit]

    def match(self, title: str, artist: str | None = None, truncated: bool = False) -> Match | None:
        """The catalog track for (title, artist), or None when unknown, refused or ambiguous."""
        return _decide(self.candidates(title, artist, truncated, limit=2))


def score_pair(
    title: str,
    artist: str | None,
    candidate_title: str,
    candidate_artist: str,
    truncated: bool = False,
    aliases: dict[str, str] | None = None,
) -> float | None:
    """Score one (title, artist) against one candidate with the matcher's rules: the weighted
    similarity 0..1, or None when they must not be taken as the same song. For callers that
    bring their own candidates (e.g. Spotify search results for a catalog track)."""
    m = CatalogMatcher()
    m._reset(aliases or {})
    m._extend([0], [candidate_title], [candidate_artist], [None], [None])
    q = m._query(title, artist, truncated)
    if q is None:
        return None
    ranked = m._score(q, [0])
    return ranked[0].score if ranked else None


_shared: CatalogMatcher | None = None


async def get_matcher(session: AsyncSession) -> CatalogMatcher:
    """The process-wide matcher: loaded on first use, later calls only add new tracks."""
    global _shared
    if _shared is None:
        _shared = CatalogMatcher()
        await _shared.load(session)
    else:
        await _shared.refresh(session)
    return _shared


def _like_prefix(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def lookup(
    session: AsyncSession, title: str, artist: str | None = None, truncated: bool = False
) -> Match | None:
    """One-off lookup through PostgreSQL (no in-memory index); same scoring as the matcher."""
    truncated = truncated or is_truncated(title)
    visible = strip_ellipsis(title) if truncated else title
    norm = normalize_title(visible)
    if not norm:
        return None
    variants = [norm] if truncated else title_variants(title)
    aliases: dict[str, str] = {}
    artist_norms: list[str] = []
    if artist and artist.strip():
        a_norm = normalize_artist(artist)
        rows = await session.execute(
            text(
                "SELECT alias_norm, artist_norm FROM artist_aliases WHERE artist_norm IN "
                "(SELECT coalesce((SELECT artist_norm FROM artist_aliases WHERE alias_norm = :a),"
                " :a))"
            ),
            {"a": a_norm},
        )
        aliases = {a: c for a, c in rows.all()}
        artist_norms = sorted({a_norm, *aliases, *aliases.values()})
    rows = await session.execute(
        text(
            "SELECT id, title, artist, norm_title, norm_artist FROM tracks "
            "WHERE norm_title = ANY(:variants) OR norm_title % :q "
            "OR (:truncated AND norm_title LIKE :prefix) OR norm_artist = ANY(:artists) "
            "ORDER BY similarity(norm_title, :q) DESC LIMIT :limit"
        ),
        {
            "variants": variants,
            "q": norm,
            "truncated": truncated,
            "prefix": _like_prefix(norm),
            "artists": artist_norms,
            "limit": limits.MATCH_CANDIDATES * 4,
        },
    )
    matcher = CatalogMatcher()
    matcher._reset(aliases)
    found = rows.all()
    matcher._extend(*(list(col) for col in zip(*found, strict=True)) if found else ([],) * 5)
    # A handful of rows: scanned linearly (nothing indexed), which is what we want here.
    return matcher.match(title, artist, truncated)
