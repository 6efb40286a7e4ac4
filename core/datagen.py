"""Synthetic product data for measuring retraining and stats: `tys datagen`.

Owners get a taste cluster (a genre and a mood, sometimes a second genre) and draw their
picks, adds and vetoes from the catalog tracks carrying those tags, popular ones more often,
with some noise; a share of them imported a screenshot playlist or chose a Spotify one. Rows
go where the bot writes them (owners, taste_signals, vetoes, playlists in PostgreSQL; events
in the event log), with timestamps spread over the last `days`.

Generated owners have ids from OWNER_BASE up, so `--reset` removes exactly them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Far above real Telegram user ids (< 2**40 today), so generated owners never clash.
OWNER_BASE = 10**14
PICKS_PER_OWNER = 10
ONBOARDED_SHARE = 0.85
SCREENSHOT_SHARE = 0.2
SPOTIFY_SHARE = 0.15
VETO_SHARE = 0.1  # of an owner's non-pick interactions
NOISE = 0.1  # share of draws from outside the taste cluster
EVENT_BATCH = 2000


@dataclass
class DatagenReport:
    owners: int
    picks: int
    adds: int
    vetoes: int
    screenshot_playlists: int
    spotify_playlists: int
    events: int
    seconds: float

    @property
    def interactions(self) -> int:
        return self.picks + self.adds + self.vetoes


async def _raw(session: AsyncSession) -> Any:
    conn = await session.connection()
    return (await conn.get_raw_connection()).driver_connection


async def reset(session: AsyncSession, events: Any | None) -> int:
    n = (
        await session.execute(text("DELETE FROM owners WHERE id >= :b"), {"b": OWNER_BASE})
    ).rowcount
    if events is not None:
        await events.coll.delete_many({"owner": {"$gte": OWNER_BASE}})
    return int(n or 0)


async def generate(
    session: AsyncSession,
    events: Any | None,
    *,
    owners: int = 1000,
    interactions: int = 50000,
    days: int = 30,
    seed: int = 0,
) -> DatagenReport:
    """Write the data (the caller commits). `events` is an EventLog (or None: PG only)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    tracks = (
        await session.execute(text("SELECT id, popularity, artist FROM tracks ORDER BY id"))
    ).all()
    if not tracks:
        raise ValueError("the catalog is empty: run `tys catalog seed` first")
    track_ids = np.array([int(r[0]) for r in tracks], dtype=np.int64)
    pop = np.array([max(int(r[1] or 0), 1) for r in tracks], dtype=np.float64)
    index = {int(t): i for i, t in enumerate(track_ids)}
    tag_rows = (
        await session.execute(
            text(
                'SELECT t.key, t."group", tt.track_id FROM track_tags tt JOIN tags t ON t.id = tt.tag_id'
            )
        )
    ).all()
    by_tag: dict[str, list[int]] = defaultdict(list)
    groups: dict[str, str] = {}
    for key, group, tid in tag_rows:
        by_tag[key].append(index[int(tid)])
        groups[key] = group
    genres = [k for k, g in groups.items() if g == "genre" and len(by_tag[k]) >= 15]
    moods = [k for k, g in groups.items() if g == "mood" and len(by_tag[k]) >= 15]
    if not genres:
        raise ValueError("the catalog has no tagged genres")

    # Interactions per owner: heavy-tailed (a few very active shops), summing to the target.
    onboarded = rng.random(owners) < ONBOARDED_SHARE
    budget = interactions - int(onboarded.sum()) * PICKS_PER_OWNER
    share = rng.pareto(1.5, owners) + 0.2
    share[~onboarded] *= 0.1  # owners who never finished onboarding barely use the bot
    extra = np.floor(share / share.sum() * max(budget, 0)).astype(np.int64)
    extra[: max(budget, 0) - int(extra.sum())] += 1

    now = datetime.now(UTC)
    owner_rows, signal_rows, veto_rows, docs = [], [], [], []
    pl_rows: list[tuple[int, str, str, str]] = []  # owner, source, external id, name
    pl_tracks: dict[str, list[int]] = {}
    n_picks = n_adds = n_vetoes = n_shot = n_spot = 0
    vetoed: set[tuple[int, int]] = set()

    def draw(weights: np.ndarray, k: int) -> np.ndarray:
        k = min(k, int((weights > 0).sum()))
        return rng.choice(len(weights), size=k, replace=False, p=weights / weights.sum())

    for o in range(owners):
        owner_id = OWNER_BASE + o
        genre = str(rng.choice(genres))
        mood = str(rng.choice(moods)) if moods else genre
        taste = [genre, mood]
        w = np.full(len(track_ids), NOISE / len(track_ids))
        in_genre = np.zeros(len(track_ids))
        in_genre[by_tag[genre]] = 1.0
        if rng.random() < 0.3:
            second = str(rng.choice(genres))
            in_genre[by_tag[second]] = 1.0
            taste.append(second)
        in_mood = np.zeros(len(track_ids))
        in_mood[by_tag.get(mood, [])] = 1.0
        w = w + in_genre * (1.0 + in_mood) * np.sqrt(pop) / np.sqrt(pop).mean()
        created = now - timedelta(days=float(rng.uniform(0, days)))
        span = (now - created).total_seconds()
        last_seen = created + timedelta(seconds=float(rng.uniform(0.2, 1.0)) * span)
        lang = "ko" if rng.random() < 0.7 else "en"
        owner_rows.append(
            (owner_id, lang, f"Shop {o}", created, last_seen, onboarded[o], taste[:2])
        )

        def ts(frac: float, _c: datetime = created, _s: float = span) -> datetime:
            return _c + timedelta(seconds=frac * _s)

        n_extra = int(extra[o])
        chosen = draw(w, (PICKS_PER_OWNER if onboarded[o] else 0) + n_extra)
        if onboarded[o]:
            picks, rest = chosen[:PICKS_PER_OWNER], chosen[PICKS_PER_OWNER:]
            for j, i in enumerate(picks):
                t = ts(0.01 * (j + 1) / PICKS_PER_OWNER)
                signal_rows.append((owner_id, int(track_ids[i]), "pick", t))
                docs.append(
                    _doc("onboarding_pick", owner_id, t, track_id=int(track_ids[i]), tags=taste[:2])
                )
            n_picks += len(picks)
        else:
            rest = chosen
        # The rest arrive over the owner's lifetime as recommendation pages of 10.
        times = np.sort(rng.uniform(0.02, 1.0, size=len(rest)))
        for start in range(0, len(rest), 5):
            page = rest[start : start + 5]
            t = ts(float(times[start]))
            shown = list(page) + list(draw(w, 10 - len(page)))
            docs.append(
                _doc("rec_shown", owner_id, t, track_ids=[int(track_ids[i]) for i in shown])
            )
            added = []
            for i in page:
                if rng.random() < VETO_SHARE:
                    # A veto is a miss: the model drew it, the owner said "not for my shop".
                    miss = int(draw(np.where(in_genre > 0, 0.0, 1.0) + 1e-9, 1)[0])
                    if (owner_id, miss) not in vetoed:
                        vetoed.add((owner_id, miss))
                        veto_rows.append((owner_id, int(track_ids[miss]), t))
                        docs.append(_doc("veto", owner_id, t, track_id=int(track_ids[miss])))
                        n_vetoes += 1
                    continue
                added.append(int(track_ids[i]))
                signal_rows.append((owner_id, int(track_ids[i]), "add", t))
            if added:
                docs.append(_doc("rec_added", owner_id, t, track_ids=added, target="list"))
                n_adds += len(added)
        if onboarded[o] and rng.random() < SCREENSHOT_SHARE:
            ext = uuid.uuid4().hex[:12]
            pl_rows.append((owner_id, "screenshot", ext, f"Screenshot {o}"))
            pl_tracks[ext] = [int(track_ids[i]) for i in draw(w, int(rng.integers(15, 40)))]
            docs.append(_doc("ocr_import", owner_id, ts(0.015), rows=len(pl_tracks[ext])))
            n_shot += 1
        elif onboarded[o] and rng.random() < SPOTIFY_SHARE:
            ext = uuid.uuid4().hex[:22]
            pl_rows.append((owner_id, "spotify", ext, f"Spotify {o}"))
            pl_tracks[ext] = [int(track_ids[i]) for i in draw(w, int(rng.integers(20, 60)))]
            docs.append(_doc("playlist_selected", owner_id, ts(0.015), source="spotify"))
            n_spot += 1

    driver = await _raw(session)
    await driver.executemany(
        "INSERT INTO owners (id, language, first_name, created_at, last_seen_at, onboarded_at, "
        "taste_tags) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (r[0], r[1], r[2], r[3], r[4], r[3] + timedelta(minutes=5) if r[5] else None, r[6])
            for r in owner_rows
        ],
    )
    await driver.copy_records_to_table(
        "taste_signals",
        records=signal_rows,
        columns=["owner_id", "track_id", "kind", "created_at"],
    )
    await driver.copy_records_to_table(
        "vetoes", records=veto_rows, columns=["owner_id", "track_id", "created_at"]
    )
    for owner_id, source, ext, name in pl_rows:
        pid = await driver.fetchval(
            "INSERT INTO playlists (owner_id, source, external_id, name, tags) "
            "VALUES ($1, $2, $3, $4, '{}') RETURNING id",
            owner_id,
            source,
            ext,
            name,
        )
        await driver.copy_records_to_table(
            "playlist_tracks",
            records=[(pid, t, j) for j, t in enumerate(dict.fromkeys(pl_tracks[ext]))],
            columns=["playlist_id", "track_id", "position"],
        )
    counts: dict[int, int] = defaultdict(int)
    for _, tid, _, _ in signal_rows:
        counts[tid] += 1
    await driver.executemany(
        "UPDATE tracks SET interaction_count = interaction_count + $2 WHERE id = $1",
        list(counts.items()),
    )
    if events is not None:
        for start in range(0, len(docs), EVENT_BATCH):
            await events.coll.insert_many(docs[start : start + EVENT_BATCH], ordered=False)
    return DatagenReport(
        owners=owners,
        picks=n_picks,
        adds=n_adds,
        vetoes=n_vetoes,
        screenshot_playlists=n_shot,
        spotify_playlists=n_spot,
        events=len(docs) if events is not None else 0,
        seconds=round(time.perf_counter() - t0, 1),
    )


def _doc(kind: str, owner: int, ts: datetime, **data: Any) -> dict[str, Any]:
    return {"_id": uuid.uuid4().hex, "kind": kind, "owner": owner, "ts": ts, "gen": True, **data}


def main(argv: list[str], urls: Any, settings: Any) -> int:
    p = argparse.ArgumentParser(prog="tys datagen", description="Generate synthetic product data")
    p.add_argument("--owners", type=int, default=1000)
    p.add_argument("--interactions", type=int, default=50000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reset", action="store_true", help="remove earlier generated owners first")
    p.add_argument("--no-events", action="store_true", help="PostgreSQL only")
    args = p.parse_args(argv)
    if args.owners < 1 or args.interactions < 0:
        print("tys datagen: --owners must be >= 1 and --interactions >= 0", file=sys.stderr)
        return 2

    async def go() -> DatagenReport:
        from core.catalog.seed import seed_if_empty
        from core.db import make_engine, make_sessionmaker
        from core.events import EventLog

        engine = make_engine(urls.database_url, pool_size=2)
        events = None
        if not args.no_events:
            events = EventLog.from_url(
                urls.mongodb_url, settings.data_dir / "outbox" / "datagen.sqlite"
            )
        try:
            await seed_if_empty(engine)
            async with make_sessionmaker(engine)() as session:
                if args.reset:
                    print(
                        f"removed {await reset(session, events)} generated owners", file=sys.stderr
                    )
                report = await generate(
                    session,
                    events,
                    owners=args.owners,
                    interactions=args.interactions,
                    days=args.days,
                    seed=args.seed,
                )
                await session.commit()
            return report
        finally:
            if events is not None:
                await events.close()
            await engine.dispose()

    try:
        r = asyncio.run(go())
    except ValueError as exc:
        print(f"tys datagen: {exc}", file=sys.stderr)
        return 1
    print(
        f"owners {r.owners}, interactions {r.interactions} (picks {r.picks}, adds {r.adds}, "
        f"vetoes {r.vetoes}), screenshot playlists {r.screenshot_playlists}, spotify playlists "
        f"{r.spotify_playlists}, events {r.events}, in {r.seconds} s"
    )
    return 0
