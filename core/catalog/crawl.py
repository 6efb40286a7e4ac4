"""`tys catalog crawl --tags jazz,lounge --per-tag 100`: grow the catalog from Last.fm.

For each Last.fm tag: tag.getTopTracks, page by page, until `per_tag` candidates (or the
tag runs out). For each candidate not crawled before: track.getInfo (album, duration, url,
listeners) and track.getTopTags, mapped to our vocabulary (core.catalog.tags); a track with
at least one mapped tag is upserted by normalised (title, artist) with source='lastfm',
its row and its tags in one transaction (nothing half written per track).

Resumable: the state lives under DATA_DIR/crawl/lastfm/:
- tags.json: per tag, the page size, pages fetched, candidate list, whether it ran out
  (rewritten atomically after each page);
- tracks.jsonl: one line per finished track with its outcome (appended and flushed after
  the track's transaction committed; a torn last line after a crash is ignored).
A rerun skips every finished track, and once a crawl is complete it sends no request at all.
If the process dies between a commit and the journal line, the track is fetched again and
the upsert is a no-op in effect.

Outcomes: new / updated (catalog row written), no_tags (nothing in our vocabulary),
not_found (Last.fm error 6), invalid (e.g. a title longer than the schema allows): all final.
A malformed answer for one track is reported and left for the next run. Rate limiting
(error 29) and outages are retried inside the client; an error that survives the retries
stops the crawl with the state saved (exit 1), and a rerun continues where it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.importer import GoodRow, ensure_vocabulary, map_vocabulary, validate
from core.lastfm import (
    LastfmClient,
    LastfmError,
    LastfmMalformedResponse,
    LastfmNotFound,
)

STATE_VERSION = 1
# tag.getTopTracks page size (Last.fm's default is 50).
PAGE_SIZE = 50
# Tracks fetched at once: with ~0.3 s latency per call, 3 keep us near the 5 requests/s cap.
WORKERS = 3
# track.getTopTags counts are 0..100 relative to the strongest tag; below this a tag is noise.
MIN_TAG_COUNT = 10
# Listeners at which popularity reaches 100 (the most played tracks have a few million).
LISTENERS_FOR_100 = 5_000_000
PROGRESS_EVERY_S = 10.0
EXIT_STOPPED = 1
EXIT_USAGE = 2
FINAL_OUTCOMES = ("new", "updated", "no_tags", "not_found", "invalid")


def popularity_from_listeners(listeners: int) -> int:
    """Listener counts span 6 orders of magnitude: log-scale them to 0..100."""
    if listeners <= 0:
        return 0
    share = math.log10(1 + listeners) / math.log10(1 + LISTENERS_FOR_100)
    return max(0, min(100, round(100 * share)))


def track_key(artist: str, name: str) -> str:
    # The identity Last.fm knows the track by; "\x1f" cannot occur in names.
    return f"{artist.casefold().strip()}\x1f{name.casefold().strip()}"


# --- state ----------------------------------------------------------------------------------


@dataclass
class TagState:
    page_size: int
    pages: int = 0
    candidates: list[list[str]] = field(default_factory=list)  # [artist, name], rank order
    exhausted: bool = False


class CrawlState:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.tags_path = directory / "tags.json"
        self.journal_path = directory / "tracks.jsonl"
        self.tags: dict[str, TagState] = {}
        self.done: dict[str, str] = {}
        self._journal: Any = None

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> CrawlState:
        return cls(Path(data_dir) / "crawl" / "lastfm")

    def load(self) -> CrawlState:
        if self.tags_path.exists():
            doc = json.loads(self.tags_path.read_text(encoding="utf-8"))
            if doc.get("version") != STATE_VERSION:
                raise ValueError(f"{self.tags_path}: unknown state version; use --restart")
            self.tags = {k: TagState(**v) for k, v in doc.get("tags", {}).items()}
        if self.journal_path.exists():
            with self.journal_path.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        entry = json.loads(line)
                        self.done[entry["k"]] = entry["o"]
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a line torn by a crash: that track is simply redone
        return self

    def clear(self) -> None:
        self.close()
        for path in (self.tags_path, self.journal_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.tags.clear()
        self.done.clear()

    def tag(self, name: str, page_size: int) -> TagState:
        if name not in self.tags:
            self.tags[name] = TagState(page_size=page_size)
        return self.tags[name]

    def save_tags(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        doc = {"version": STATE_VERSION, "tags": {k: asdict(v) for k, v in self.tags.items()}}
        tmp = self.tags_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.tags_path)  # atomic: a crash leaves the old or the new file

    def record(self, key: str, outcome: str) -> None:
        if self._journal is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._journal = self.journal_path.open("a", encoding="utf-8")
        self._journal.write(json.dumps({"k": key, "o": outcome}, ensure_ascii=False) + "\n")
        self._journal.flush()
        self.done[key] = outcome

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


# --- report ---------------------------------------------------------------------------------


@dataclass
class CrawlReport:
    tags: list[str]
    per_tag: int
    candidates: int = 0
    already_done: int = 0
    new: int = 0
    updated: int = 0
    no_tags: int = 0
    not_found: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    retry_later: list[str] = field(default_factory=list)
    requests: int = 0
    stopped: str | None = None
    state_dir: str = ""
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        head = "crawl stopped" if self.stopped else "crawl complete"
        out = [
            f"{head}: tags {', '.join(self.tags)} (up to {self.per_tag} each): "
            f"{self.candidates} candidates, {self.already_done} done before, {self.new} new, "
            f"{self.updated} updated, {self.no_tags} without a vocabulary tag, "
            f"{len(self.not_found)} not found, {len(self.retry_later)} to retry; "
            f"{self.requests} requests in {self.elapsed_s:.1f} s"
        ]
        out += [f"not found on Last.fm (skipped): {t}" for t in self.not_found]
        out += [f"invalid (skipped): {t}" for t in self.invalid]
        out += [f"bad answer, will retry on the next run: {t}" for t in self.retry_later]
        if self.stopped:
            out.append(f"stopped: {self.stopped}")
            out.append(f"progress is saved in {self.state_dir}; run the same command to resume")
        return out


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.bar: Any = None
        self.last = time.monotonic()

    def start(self, tag: str, total: int) -> None:
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=f"crawl {tag}", unit="track")

    def step(self, tag: str, done: int, total: int, report: CrawlReport) -> None:
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled and time.monotonic() - self.last >= PROGRESS_EVERY_S:
            self.last = time.monotonic()
            print(
                f"crawl: tag {tag} {done}/{total} tracks; {report.new} new, "
                f"{report.updated} updated, {report.requests} requests",
                file=sys.stderr,
                flush=True,
            )

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# --- writing ----------------------------------------------------------------------------------

_UPSERT = text(
    """
    INSERT INTO tracks (title, artist, album, duration_ms, popularity, explicit, source,
                        spotify_status, interaction_count, norm_title, norm_artist, lastfm_url)
    VALUES (:title, :artist, :album, :duration_ms, :popularity, false, 'lastfm', 'unresolved',
            0, :nt, :na, :url)
    ON CONFLICT ON CONSTRAINT uq_track_norm DO UPDATE SET
        album = COALESCE(tracks.album, EXCLUDED.album),
        duration_ms = COALESCE(tracks.duration_ms, EXCLUDED.duration_ms),
        lastfm_url = COALESCE(EXCLUDED.lastfm_url, tracks.lastfm_url),
        -- a curated (seed/import) popularity is kept; Last.fm's own rows follow Last.fm
        popularity = CASE WHEN tracks.source = 'lastfm' THEN EXCLUDED.popularity
                          ELSE tracks.popularity END
    RETURNING id, (xmax = 0) AS inserted
    """
)
_TAGS = text(
    "INSERT INTO track_tags (track_id, tag_id, weight) "
    "SELECT :track_id, g, w FROM unnest(CAST(:g AS smallint[]), CAST(:w AS float8[])) AS p(g, w) "
    "ON CONFLICT (track_id, tag_id) DO NOTHING"
)


class Crawler:
    def __init__(
        self,
        engine: AsyncEngine,
        client: LastfmClient,
        state: CrawlState,
        *,
        workers: int = WORKERS,
        progress: bool = False,
    ) -> None:
        self.engine = engine
        self.client = client
        self.state = state
        self.workers = max(1, workers)
        self.progress = _Progress(progress)
        self.tag_ids: dict[str, int] = {}

    async def run(self, tags: Iterable[str], per_tag: int) -> CrawlReport:
        tags = [t for t in (s.strip() for s in tags) if t]
        report = CrawlReport(tags=tags, per_tag=per_tag, state_dir=str(self.state.dir))
        started = time.perf_counter()
        sent_before = self.client.requests_sent
        async with self.engine.begin() as conn:
            self.tag_ids = await ensure_vocabulary(conn)
        try:
            for tag in tags:
                await self._tag(tag, per_tag, report)
                if report.stopped:
                    break
        except LastfmError as exc:
            report.stopped = self._explain(exc)
        finally:
            if self.state.tags:
                self.state.save_tags()
            self.state.close()
            self.progress.end()
            report.requests = self.client.requests_sent - sent_before
            report.elapsed_s = round(time.perf_counter() - started, 2)
        return report

    @staticmethod
    def _explain(exc: LastfmError) -> str:
        return f"Last.fm keeps failing: {exc}"

    async def _tag(self, tag: str, per_tag: int, report: CrawlReport) -> None:
        ts = self.state.tag(tag, min(PAGE_SIZE, per_tag))
        known = {track_key(a, n) for a, n in ts.candidates}
        while len(ts.candidates) < per_tag and not ts.exhausted:
            page = await self.client.tag_top_tracks(tag, page=ts.pages + 1, limit=ts.page_size)
            for t in page.tracks:
                key = track_key(t.artist, t.name)
                if key not in known:
                    known.add(key)
                    ts.candidates.append([t.artist, t.name])
            ts.pages += 1
            if not page.tracks or ts.pages >= page.total_pages:
                ts.exhausted = True
            self.state.save_tags()
        wanted = ts.candidates[:per_tag]
        report.candidates += len(wanted)
        todo = [c for c in wanted if track_key(*c) not in self.state.done]
        report.already_done += len(wanted) - len(todo)
        if not todo:
            return
        self.progress.start(tag, len(todo))
        queue: asyncio.Queue[list[str]] = asyncio.Queue()
        for c in todo:
            queue.put_nowait(c)
        failure: list[LastfmError] = []
        finished = 0

        async def worker() -> None:
            nonlocal finished
            # Workers stop taking tracks once one failed for good; the tracks in flight
            # finish (or fail) on their own, so no track is left half written.
            while not failure:
                try:
                    artist, name = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    await self._track(artist, name, report)
                except LastfmError as exc:
                    failure.append(exc)
                    return
                finished += 1
                self.progress.step(tag, finished, len(todo), report)

        await asyncio.gather(*(worker() for _ in range(min(self.workers, len(todo)))))
        self.progress.end()
        if failure:
            report.stopped = f"{self._explain(failure[0])} (tag {tag!r})"

    async def _track(self, artist: str, name: str, report: CrawlReport) -> None:
        key = track_key(artist, name)
        label = f"{artist} - {name}"
        try:
            info = await self.client.track_info(artist, name)
            top = await self.client.track_top_tags(artist, name)
        except LastfmNotFound:
            report.not_found.append(label)
            self.state.record(key, "not_found")
            return
        except LastfmMalformedResponse as exc:
            # Possibly a glitch: not recorded, so the next run asks again.
            report.retry_later.append(f"{label} ({exc})")
            return
        weights: dict[str, float] = {}
        for tag in top:
            if tag.count < MIN_TAG_COUNT:
                continue
            for k in map_vocabulary([tag.name])[0]:
                weights[k] = max(weights.get(k, 0.0), tag.count / 100)
        weights = {k: w for k, w in weights.items() if k in self.tag_ids}
        if not weights:
            report.no_tags += 1
            self.state.record(key, "no_tags")
            return
        checked, _ = validate(
            0,
            {"title": info.name, "artist": info.artist, "album": info.album,
             "duration_ms": info.duration_ms},
        )  # fmt: skip
        if not isinstance(checked, GoodRow):
            report.invalid.append(f"{label} ({checked.message})")
            self.state.record(key, "invalid")
            return
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    _UPSERT,
                    {
                        "title": checked.title,
                        "artist": checked.artist,
                        "album": checked.album,
                        "duration_ms": checked.duration_ms,
                        "popularity": popularity_from_listeners(info.listeners),
                        "nt": checked.norm_title,
                        "na": checked.norm_artist,
                        "url": (info.url or "")[:512] or None,
                    },
                )
            ).one()
            await conn.execute(
                _TAGS,
                {
                    "track_id": row.id,
                    "g": [self.tag_ids[k] for k in weights],
                    "w": list(weights.values()),
                },
            )
        outcome = "new" if row.inserted else "updated"
        if row.inserted:
            report.new += 1
        else:
            report.updated += 1
        self.state.record(key, outcome)


# --- CLI --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tys catalog crawl",
        description="Add tracks from Last.fm tag charts to the catalog (resumable).",
    )
    p.add_argument("--tags", required=True, help="comma-separated Last.fm tags, e.g. jazz,lounge")
    p.add_argument("--per-tag", type=int, required=True, help="top tracks to take per tag")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume", action="store_true", help="continue a previous crawl (the default)"
    )
    mode.add_argument("--restart", action="store_true", help="forget saved progress first")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--workers", type=int, default=WORKERS, help=argparse.SUPPRESS)
    # Retry tuning, for tests and emergencies.
    p.add_argument("--attempts", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--backoff", type=float, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Iterable[str], urls: Any, settings: Any) -> int:
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    tags = [t.strip() for t in args.tags.split(",") if t.strip()]
    if not tags or args.per_tag < 1:
        print("tys catalog crawl: give at least one tag and --per-tag >= 1", file=sys.stderr)
        return EXIT_USAGE
    if not settings.lastfm_api_key:
        print(
            "tys catalog crawl: LASTFM_API_KEY is not set (get one at "
            "https://www.last.fm/api/account/create)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    state = CrawlState.for_data_dir(settings.data_dir)
    try:
        if args.restart:
            state.clear()
        state.load()
    except (OSError, ValueError) as exc:
        print(f"tys catalog crawl: cannot read the saved progress: {exc}", file=sys.stderr)
        return EXIT_USAGE
    tuning: dict[str, Any] = {}
    if args.attempts is not None:
        tuning["attempts"] = args.attempts
    if args.backoff is not None:
        tuning["backoff_s"] = args.backoff

    async def run() -> CrawlReport:
        from core.db import make_engine

        engine = make_engine(urls.database_url, pool_size=max(1, args.workers))
        client = LastfmClient.from_settings(settings, **tuning)
        try:
            crawler = Crawler(engine, client, state, workers=args.workers, progress=not args.json)
            return await crawler.run(tags, args.per_tag)
        finally:
            await client.aclose()
            await engine.dispose()

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        print("\n".join(report.lines()))
    return EXIT_STOPPED if report.stopped else 0
