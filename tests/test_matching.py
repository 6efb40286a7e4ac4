"""core.catalog.matching: the one (title, artist) -> catalog track matcher."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.catalog.bench import build_synthetic, make_queries
from core.catalog.matching import CatalogMatcher, lookup
from core.catalog.seed import seed


@pytest.fixture(scope="module")
async def matcher(engine: AsyncEngine) -> AsyncIterator[CatalogMatcher]:
    await seed(engine)
    m = CatalogMatcher()
    async with AsyncSession(engine) as s:
        await m.load(s)
    yield m


def _found(m, title: str, artist: str) -> None:
    assert m is not None, (title, artist)
    assert (m.title, m.artist) == (title, artist)


def test_exact(matcher: CatalogMatcher) -> None:
    m = matcher.match("밤편지", "아이유")
    _found(m, "밤편지", "아이유")
    assert m.score == 1.0 and m.how == "exact"
    _found(
        matcher.match("Fly Me to the Moon", "Frank Sinatra"), "Fly Me to the Moon", "Frank Sinatra"
    )


def test_case_spacing_punctuation_fullwidth(matcher: CatalogMatcher) -> None:
    _found(
        matcher.match("FLY ME TO THE MOON!", "frank sinatra"), "Fly Me to the Moon", "Frank Sinatra"
    )
    _found(matcher.match("밤 편지", "아이유"), "밤편지", "아이유")
    _found(matcher.match("Ｂｌｕｅｍｉｎｇ", "ＩＵ"), "Blueming", "아이유")


def test_alias(matcher: CatalogMatcher) -> None:
    _found(matcher.match("밤편지", "IU"), "밤편지", "아이유")
    _found(matcher.match("Blueming (feat. 이종훈)", "IU"), "Blueming", "아이유")
    _found(matcher.match("그때 그 아인", "The Black Skirts"), "그때 그 아인", "검정치마") if (
        matcher.candidates("그때 그 아인", "검정치마")
    ) else None
    _found(matcher.match("밤편지", "IU, 아이유"), "밤편지", "아이유")


def test_remaster_and_version_suffixes(matcher: CatalogMatcher) -> None:
    _found(matcher.match("Yesterday - Remastered 2009", "The Beatles"), "Yesterday", "The Beatles")
    _found(matcher.match("Yesterday (Live)", "Beatles"), "Yesterday", "The Beatles")
    _found(matcher.match("밤편지 (Live)", "아이유"), "밤편지", "아이유")


def test_titles_with_and_without_brackets(matcher: CatalogMatcher) -> None:
    _found(
        matcher.match("빨간 맛", "Red Velvet"), "빨간 맛 (Red Flavor)", "레드벨벳"
    ) if matcher.match("빨간 맛", "레드벨벳") else pytest.fail(
        "bracketed catalog title not found by its main part"
    )
    _found(matcher.match("Red Flavor", "레드벨벳"), "빨간 맛 (Red Flavor)", "레드벨벳")
    _found(matcher.match("빨간 맛 (Red Flavor)", "레드벨벳"), "빨간 맛 (Red Flavor)", "레드벨벳")


def test_truncated_title_prefix(matcher: CatalogMatcher) -> None:
    m = matcher.match("The Girl from Ipa…", "Stan Getz & João Gilberto")
    _found(m, "The Girl from Ipanema", "Stan Getz & João Gilberto")
    assert m.how == "prefix"
    _found(matcher.match("너의 의…", "아이유"), "너의 의미", "아이유")
    _found(matcher.match("금요일에 만", "아이유", truncated=True), "금요일에 만나요", "아이유")
    # Too short to say anything without more to go on.
    assert matcher.match("밤…", None) is None


def test_one_jamo_ocr_slip(matcher: CatalogMatcher) -> None:
    m = matcher.match("밤펀지", "아이유")  # 편 -> 펀: one jamo
    _found(m, "밤편지", "아이유")
    assert m.how == "fuzzy" and 0.8 < m.title_score < 1
    _found(matcher.match("밤펀지", None), "밤편지", "아이유")
    _found(matcher.match("너의 의마", "아이유"), "너의 의미", "아이유")


def test_accents_and_artist_credits(matcher: CatalogMatcher) -> None:
    _found(
        matcher.match("The Girl from Ipanema", "Stan Getz, Joao Gilberto"),
        "The Girl from Ipanema",
        "Stan Getz & João Gilberto",
    )


def test_wrong_artist_is_refused(matcher: CatalogMatcher) -> None:
    assert matcher.match("밤편지", "Coldplay") is None
    assert matcher.match("Yesterday", "Boyz II Men") is None
    assert matcher.match("Fly Me to the Moon", "Frank Ocean") is None


def test_unknown_and_ambiguous_give_none(matcher: CatalogMatcher) -> None:
    assert matcher.match("Completely Unknown Song Title", "Nobody In Particular") is None
    assert matcher.match("존재하지 않는 노래 제목", None) is None
    assert matcher.match("", None) is None
    # Four catalog versions of this song: without an artist there is no single answer...
    assert matcher.match("The Girl from Ipanema", None) is None
    assert len(matcher.candidates("The Girl from Ipanema", None)) >= 2
    # ...and the artist settles it.
    _found(
        matcher.match("The Girl from Ipanema", "Antônio Carlos Jobim"),
        "The Girl from Ipanema",
        "Antônio Carlos Jobim",
    )


async def test_refresh_and_add(engine: AsyncEngine, matcher: CatalogMatcher) -> None:
    matcher.add(987_654_321, "Matcher Test Song", "Matcher Test Band")
    _found(
        matcher.match("Matcher Tset Song", "Matcher Test Band"),
        "Matcher Test Song",
        "Matcher Test Band",
    )
    async with AsyncSession(engine) as s:
        assert await matcher.refresh(s) == 0  # nothing new in the database


async def test_lookup_through_postgres(session: AsyncSession, matcher: CatalogMatcher) -> None:
    m = await lookup(session, "Yesterday - Remastered 2009", "The Beatles")
    _found(m, "Yesterday", "The Beatles")
    assert m.track_id == matcher.match("Yesterday", "The Beatles").track_id
    _found(await lookup(session, "밤편지", "IU"), "밤편지", "아이유")
    _found(await lookup(session, "밤펀지", "IU"), "밤편지", "아이유")  # the artist finds it
    _found(
        await lookup(session, "The Girl from Ipa…", "Antônio Carlos Jobim"),
        "The Girl from Ipanema",
        "Antônio Carlos Jobim",
    )
    assert await lookup(session, "밤편지", "Coldplay") is None
    assert await lookup(session, "Completely Unknown Song Title", None) is None


SCHEMA = "test_matching_100k"


async def test_matching_over_100k_tracks(engine: AsyncEngine) -> None:
    await seed(engine)
    try:
        async with engine.begin() as conn:
            await build_synthetic(conn, SCHEMA, 100_000, indexes=False)
        async with engine.connect() as conn, conn.begin():
            await conn.execute(text(f"SET LOCAL search_path TO {SCHEMA}, public"))
            s = AsyncSession(bind=conn)
            big = CatalogMatcher()
            started = time.perf_counter()
            await big.load(s)
            load_s = time.perf_counter() - started
            assert len(big) >= 101_000
            # Real titles still found among 100k synthetic ones (slip, alias, truncation).
            _found(big.match("밤펀지", "IU"), "밤편지", "아이유")
            _found(
                big.match("Yesterday - Remastered 2009", "The Beatles"), "Yesterday", "The Beatles"
            )
            _found(
                big.match("The Girl from Ipa…", "Antônio Carlos Jobim"),
                "The Girl from Ipanema",
                "Antônio Carlos Jobim",
            )
            # Synthetic queries of every kind: typos, truncation, no artist, suffixes, and
            # wrong artists that must give None.
            rows = (
                await s.execute(text("SELECT id, title, artist FROM tracks WHERE id > 1000000"))
            ).all()
            queries = make_queries([tuple(r) for r in rows], 300, seed=11)
            results = [(q, big.match(q.title, q.artist)) for q in queries]
            # No wrong answers at all; a few refusals (None) of legitimate queries are tolerated.
            mismatched = [(q, m) for q, m in results if m is not None and m.track_id != q.expect]
            assert mismatched == []
            refused = [q for q, m in results if m is None and q.expect is not None]
            assert len(refused) <= len(queries) * 0.05, refused[:10]
            assert sum(q.expect is None for q in queries) >= 40  # wrong artists were tried
            # The one-off pg_trgm lookup agrees on the same catalog.
            _found(
                await lookup(s, "Yesterday - Remastered 2009", "Beatles"),
                "Yesterday",
                "The Beatles",
            )
            q = next(q for q in queries if q.kind == "exact")
            assert (await lookup(s, q.title, q.artist)).track_id == q.expect
            await s.close()
        assert load_s < 30  # sanity only; `tys bench lookup` reports the real figures
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


async def test_database_match_keys_equal_python_keys(
    session: AsyncSession, matcher: CatalogMatcher
) -> None:
    from core.catalog.matching import _fetch_tracks
    from core.normalize import key_from_norm, match_key

    ids, _titles, _artists, norms, _nas, keys = await _fetch_tracks(session)
    assert len(ids) >= 1258
    assert keys == [key_from_norm(n) for n in norms]
    # The shortcut is match_key for stored norms: accents, Hangul, kana all agree.
    for norm in ("joão gilberto", "밤편지", "ガッツだぜ", "café society"):
        assert key_from_norm(norm) == match_key(norm)


def test_score_pair_uses_the_same_rules() -> None:
    from core.catalog.matching import score_pair

    assert score_pair("Yesterday - Remastered 2009", "Beatles", "Yesterday", "The Beatles") == 1.0
    assert score_pair("밤펀지", "아이유", "밤편지", "아이유") > 0.9
    assert score_pair("밤편지", "IU", "밤편지", "아이유", aliases={"iu": "아이유"}) == 1.0
    assert score_pair("밤편지", "Coldplay", "밤편지", "아이유") is None
    assert score_pair("Lover", None, "Love", "Anyone") is None
