"""Last.fm client and `tys catalog crawl` against the local fake Last.fm (real HTTP) and the
real embedded PostgreSQL. Every test builds its own made-up library with a unique prefix."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog import crawl
from core.catalog.crawl import Crawler, CrawlState, popularity_from_listeners
from core.lastfm import (
    LastfmAuthError,
    LastfmClient,
    LastfmMalformedResponse,
    LastfmNotFound,
    LastfmRateLimited,
    LastfmUnavailable,
)
from tests.fakes.lastfm import FakeLastfm, FakeTrack, generated_library


@pytest.fixture
async def fake() -> AsyncIterator[FakeLastfm]:
    async with FakeLastfm() as server:
        yield server


def _client(fake: FakeLastfm, **kw) -> LastfmClient:
    # Fast retries for tests; the production defaults are exercised by the rate test.
    opts = {"backoff_s": 0.01, "attempts": 3, "rate_per_s": 50.0} | kw
    return LastfmClient(fake.api_key, fake.base_url, **opts)


async def _catalog(engine: AsyncEngine, prefix: str) -> dict[str, dict]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT t.title, t.artist, t.album, t.duration_ms, t.popularity, t.source, "
                "t.lastfm_url, COALESCE((SELECT array_agg(g.key ORDER BY g.key) "
                "FROM track_tags tt JOIN tags g ON g.id = tt.tag_id "
                "WHERE tt.track_id = t.id), '{}') AS tags "
                "FROM tracks t WHERE t.title LIKE :p"
            ),
            {"p": prefix + "%"},
        )
        return {r.title: dict(r._mapping) for r in rows}


# --- client ---------------------------------------------------------------------------------


async def test_client_parses_real_shapes_and_sends_real_params(fake: FakeLastfm) -> None:
    async with _client(fake) as client:
        page = await client.tag_top_tracks("jazz", page=2, limit=2)
        info = await client.track_info("Velvet Lamps", "Slow Coffee")
        tags = await client.track_top_tags("Velvet Lamps", "Slow Coffee")
        similar = await client.track_similar("Velvet Lamps", "Slow Coffee", limit=3)
    assert (page.page, page.per_page, page.total_pages, page.total) == (2, 2, 2, 3)
    assert [(t.artist, t.name, t.rank) for t in page.tracks] == [("Mina Harbor", "Salt Wind", 3)]
    assert page.tracks[0].duration_ms == 199_000  # seconds in getTopTracks
    assert (info.album, info.duration_ms, info.listeners) == ("Morning Steam", 214_000, 182_000)
    assert info.url and info.url.startswith("https://www.last.fm/music/")
    assert [(t.name, t.count) for t in tags][:2] == [("jazz", 100), ("lounge", 62)]
    assert 0 < len(similar) <= 3 and all(0 < s.match <= 1 for s in similar)
    first = fake.requests[0].params
    assert first == {
        "method": "tag.getTopTracks", "api_key": fake.api_key, "format": "json",
        "tag": "jazz", "page": "2", "limit": "2",
    }  # fmt: skip
    info_params = fake.requests[1].params
    assert info_params["autocorrect"] == "1" and info_params["track"] == "Slow Coffee"
    assert info_params["artist"] == "Velvet Lamps"


async def test_client_retries_and_typed_errors(fake: FakeLastfm) -> None:
    async with _client(fake) as client:
        # Rate limited twice, then the answer: retried, the caller never notices.
        fake.inject("error29", 2)
        assert (await client.track_info("Velvet Lamps", "Slow Coffee")).name == "Slow Coffee"
        assert [r.answer for r in fake.requests] == ["error29", "error29", "ok"]

        fake.inject("error11", 1)
        assert (await client.track_top_tags("Velvet Lamps", "Slow Coffee"))[0].name == "jazz"

        # Not found and invalid key: raised at once, one request each.
        n = len(fake.requests)
        with pytest.raises(LastfmNotFound, match="error 6: Track not found"):
            await client.track_info("Nobody", "Nothing")
        fake.inject("error10", 1)
        with pytest.raises(LastfmAuthError, match="error 10"):
            await client.track_info("Velvet Lamps", "Slow Coffee")
        fake.inject("malformed", 1)
        with pytest.raises(LastfmMalformedResponse, match="not a JSON object"):
            await client.track_info("Velvet Lamps", "Slow Coffee")
        assert len(fake.requests) == n + 3

        # Outages and endless rate limiting: bounded attempts, then a typed error.
        fake.inject("http500", None)
        with pytest.raises(LastfmUnavailable, match=r"HTTP 500 \(after 3 attempts\)"):
            await client.track_info("Velvet Lamps", "Slow Coffee")
        fake.clear_faults()
        fake.inject("error29", None)
        with pytest.raises(LastfmRateLimited, match="still limited after 3 attempts"):
            await client.track_info("Velvet Lamps", "Slow Coffee")
        assert len(fake.requests) == n + 9
        fake.clear_faults()

    async with LastfmClient("wrong-key", fake.base_url, backoff_s=0.01) as bad:
        with pytest.raises(LastfmAuthError, match="Invalid API key"):
            await bad.tag_top_tracks("jazz")


async def test_rate_at_most_5_per_second_as_the_server_sees_it(fake: FakeLastfm) -> None:
    # Production defaults: 5 requests/s. 14 concurrent calls must be spread out.
    async with LastfmClient(fake.api_key, fake.base_url) as client:
        started = time.monotonic()
        await asyncio.gather(
            *(client.track_top_tags("Velvet Lamps", "Slow Coffee") for _ in range(14))
        )
        elapsed = time.monotonic() - started
    assert len(fake.requests) == 14
    assert fake.max_in_window(1.0) <= 5
    assert elapsed >= 2.0  # 14 requests at 5/s cannot finish in under 2 s


def test_popularity_is_log_scaled() -> None:
    assert popularity_from_listeners(0) == 0
    assert popularity_from_listeners(5_000_000) == 100
    assert popularity_from_listeners(50_000_000) == 100
    values = [popularity_from_listeners(10**k) for k in range(1, 7)]
    assert values == sorted(values) and 40 < popularity_from_listeners(1_000) < 50


# --- crawl ----------------------------------------------------------------------------------


async def test_crawl_fills_catalog_with_rate_limit_and_reruns_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    p = "lfm" + uuid.uuid4().hex[:6]
    tracks, top = generated_library(p, ["jazz", "bossa nova"], 3)
    # One track whose tags map to nothing in our vocabulary: fetched, but kept out.
    odd = FakeTrack(f"{p} Odd", f"{p} Odd Song", None, 100, 50, 60, [("albums i own", 100)])
    tracks.append(odd)
    top["jazz"].append((odd.artist, odd.name))
    async with FakeLastfm((tracks, top)) as fake:
        fake.inject("error29", 1, method="track.getInfo")  # the first getInfo is throttled
        state = CrawlState(tmp_path / "state").load()
        # Default client: the real 5 requests/s limit, with a fast backoff for the retry.
        async with LastfmClient(fake.api_key, fake.base_url, backoff_s=0.05) as client:
            report = await Crawler(engine, client, state).run(["jazz", "bossa nova"], 10)
        assert report.stopped is None
        assert (report.candidates, report.new, report.no_tags) == (7, 6, 1)
        # 2 pages + 7 tracks x 2 calls + 1 retry of the throttled call
        assert report.requests == len(fake.requests) == 17
        assert fake.max_in_window(1.0) <= 5

        rows = await _catalog(engine, p)
        assert len(rows) == 6 and f"{p} Odd Song" not in rows
        song = rows[f"{p} Song 0-1"]
        assert song["source"] == "lastfm" and song["album"] == f"{p} Album 0"
        assert song["duration_ms"] == 151_000
        assert song["popularity"] == popularity_from_listeners(1_000)
        assert song["lastfm_url"].startswith("https://www.last.fm/music/")
        assert song["tags"] == ["chill", "jazz"]  # "awesome" (count 10) maps to nothing
        assert rows[f"{p} Song 1-0"]["tags"] == ["bossa-nova", "chill"]

        # A rerun after completion asks Last.fm nothing and changes nothing.
        n = len(fake.requests)
        async with _client(fake) as client:
            again = await Crawler(engine, client, CrawlState(tmp_path / "state").load()).run(
                ["jazz", "bossa nova"], 10
            )
        assert (again.requests, again.new, again.updated, again.already_done) == (0, 0, 0, 7)
        assert len(fake.requests) == n
        assert await _catalog(engine, p) == rows


async def test_not_found_and_malformed_tracks_are_reported_not_half_written(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    p = "lfm" + uuid.uuid4().hex[:6]
    tracks, top = generated_library(p, ["jazz"], 4)
    gone, broken = tracks[1], tracks[2]
    async with FakeLastfm((tracks, top)) as fake:
        fake.mark_not_found(gone.artist, gone.name)
        # getInfo succeeds, then getTopTags answers garbage: the track must not be written.
        fake.inject("malformed", 1, method="track.getTopTags", track=(broken.artist, broken.name))
        state_dir = tmp_path / "state"
        async with _client(fake) as client:
            report = await Crawler(engine, client, CrawlState(state_dir).load()).run(["jazz"], 4)
        assert report.stopped is None and report.new == 2
        assert report.not_found == [f"{gone.artist} - {gone.name}"]
        assert len(report.retry_later) == 1 and broken.name in report.retry_later[0]
        assert "track.getTopTags" in report.retry_later[0]
        lines = "\n".join(report.lines())
        assert f"not found on Last.fm (skipped): {gone.artist} - {gone.name}" in lines
        rows = await _catalog(engine, p)
        assert set(rows) == {tracks[0].name, tracks[3].name}
        assert len(fake.calls("track.getInfo", (gone.artist, gone.name))) == 1  # not retried

        # Next run: the malformed one is asked again and lands; the missing one is not asked.
        async with _client(fake) as client:
            again = await Crawler(engine, client, CrawlState(state_dir).load()).run(["jazz"], 4)
        assert again.new == 1 and again.not_found == [] and again.retry_later == []
        assert len(fake.calls("track.getInfo", (gone.artist, gone.name))) == 1
        assert set(await _catalog(engine, p)) == {tracks[0].name, tracks[2].name, tracks[3].name}


async def test_persistent_failure_stops_and_resume_finishes_without_refetching(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    p = "lfm" + uuid.uuid4().hex[:6]
    tracks, top = generated_library(p, ["jazz", "lounge"], 3)
    stuck = tracks[4]  # the second lounge track
    async with FakeLastfm((tracks, top)) as fake:
        fake.inject("http500", None, method="track.getInfo", track=(stuck.artist, stuck.name))
        state_dir = tmp_path / "state"
        async with _client(fake, attempts=2) as client:
            report = await Crawler(engine, client, CrawlState(state_dir).load(), workers=1).run(
                ["jazz", "lounge"], 3
            )
        assert report.stopped and "HTTP 500 (after 2 attempts)" in report.stopped
        assert "'lounge'" in report.stopped
        assert report.new == 4  # 3 jazz + the first lounge track
        assert (state_dir / "tags.json").exists()
        journal = (state_dir / "tracks.jsonl").read_text().splitlines()
        assert len(journal) == 4 and all(json.loads(x)["o"] == "new" for x in journal)
        assert stuck.name not in await _catalog(engine, p)

        fake.clear_faults()
        before = len(fake.requests)
        async with _client(fake) as client:
            resumed = await Crawler(engine, client, CrawlState(state_dir).load()).run(
                ["jazz", "lounge"], 3
            )
        assert resumed.stopped is None
        assert (resumed.already_done, resumed.new) == (4, 2)
        # Only the 2 unfinished tracks were fetched (2 calls each); no page was fetched again.
        assert len(fake.requests) - before == 4
        for t in tracks:
            expected = 3 if t is stuck else 1  # stuck: 2 failed attempts + the good one
            assert len(fake.calls("track.getInfo", (t.artist, t.name))) == expected
        assert len(fake.calls("tag.getTopTracks")) == 2
        assert len(await _catalog(engine, p)) == 6


async def test_cli_usage_and_invalid_key(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    p = "lfm" + uuid.uuid4().hex[:6]
    urls = SimpleNamespace(database_url=database_url)

    async def run(settings: SimpleNamespace, *argv: str) -> int:
        # main() runs its own event loop, so it gets a thread of its own.
        return await asyncio.to_thread(crawl.main, list(argv), urls, settings)

    async with FakeLastfm(generated_library(p, ["jazz"], 2)) as fake:
        good = SimpleNamespace(
            lastfm_api_key=fake.api_key, lastfm_api_base=fake.base_url, data_dir=tmp_path
        )
        no_key = SimpleNamespace(lastfm_api_key=None, lastfm_api_base=fake.base_url,
                                 data_dir=tmp_path)  # fmt: skip
        bad_key = SimpleNamespace(lastfm_api_key="nope", lastfm_api_base=fake.base_url,
                                  data_dir=tmp_path)  # fmt: skip
        assert await run(no_key, "--tags", "jazz", "--per-tag", "2") == 2
        assert await run(good, "--per-tag", "2") == 2  # --tags missing
        assert await run(good, "--tags", " , ", "--per-tag", "2") == 2
        assert fake.requests == []

        assert await run(bad_key, "--tags", "jazz", "--per-tag", "2") == 1
        assert [r.answer for r in fake.requests] == ["error10"]  # never retried

        assert await run(good, "--tags", "jazz", "--per-tag", "2", "--json") == 0
        assert len(await _catalog(engine, p)) == 2
        n = len(fake.requests)
        assert await run(good, "--tags", "jazz", "--per-tag", "2") == 0
        assert len(fake.requests) == n  # resumed a complete crawl: nothing to do
        assert await run(good, "--tags", "jazz", "--per-tag", "2", "--restart") == 0
        assert len(fake.requests) == n + 5  # forgot its progress: 1 page + 2 tracks x 2
