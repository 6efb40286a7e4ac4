"""Usage statistics for admins (/stats): owners from PostgreSQL, activity from the event log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DAYS = 14
ACTIVE_DAYS = 7
_KINDS = ("onboarding_pick", "rec_shown", "rec_added", "veto", "ocr_import")


@dataclass
class Day:
    day: date
    new_owners: int = 0
    active: int = 0
    picks: int = 0
    shown: int = 0  # tracks shown
    added: int = 0  # tracks added
    vetoed: int = 0
    imports: int = 0


@dataclass
class Stats:
    owners: int
    new_7d: int
    active_7d: int
    onboarded: int
    spotify_linked: int
    screenshot_imports: int  # all time
    shown: int  # last DAYS days, tracks
    added: int
    vetoed: int
    days: list[Day] = field(default_factory=list)
    events_ok: bool = True

    @property
    def onboarding_rate(self) -> float:
        return self.onboarded / self.owners if self.owners else 0.0

    @property
    def add_rate(self) -> float:
        return self.added / self.shown if self.shown else 0.0


async def compute(
    session: AsyncSession, events: Any, tz: str = "Asia/Seoul", now: datetime | None = None
) -> Stats:
    """`events` is the EventLog (its collection is read directly, with a projection)."""
    zone = ZoneInfo(tz)
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), zone)
    row = (
        await session.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE created_at >= :w), "
                "count(*) FILTER (WHERE last_seen_at >= :w), "
                "count(*) FILTER (WHERE onboarded_at IS NOT NULL), "
                "count(*) FILTER (WHERE spotify_state = 'linked') FROM owners"
            ),
            {"w": now - timedelta(days=ACTIVE_DAYS)},
        )
    ).one()
    days = {first + timedelta(days=i): Day(first + timedelta(days=i)) for i in range(DAYS)}
    created = await session.execute(
        text(
            "SELECT (created_at AT TIME ZONE :tz)::date, count(*) FROM owners "
            "WHERE created_at >= :s GROUP BY 1"
        ),
        {"tz": tz, "s": since},
    )
    for d, n in created:
        if d in days:
            days[d].new_owners = int(n)
    stats = Stats(
        owners=int(row[0]),
        new_7d=int(row[1]),
        active_7d=int(row[2]),
        onboarded=int(row[3]),
        spotify_linked=int(row[4]),
        screenshot_imports=0,
        shown=0,
        added=0,
        vetoed=0,
    )
    try:
        async with asyncio.timeout(60):
            stats.screenshot_imports = await events.coll.count_documents({"kind": "ocr_import"})
            active: dict[date, set[int]] = {d: set() for d in days}
            cursor = events.coll.find(
                {"ts": {"$gte": since}, "kind": {"$in": list(_KINDS)}},
                {"kind": 1, "ts": 1, "owner": 1, "track_ids": 1},
            )
            async for doc in cursor:
                ts = doc["ts"]
                if ts.tzinfo is None:
                    ts = ts.replace(tzinfo=UTC)
                d = ts.astimezone(zone).date()
                if d not in days:
                    continue
                day = days[d]
                if doc.get("owner") is not None:
                    active[d].add(doc["owner"])
                kind = doc["kind"]
                n = len(doc.get("track_ids") or [])
                if kind == "onboarding_pick":
                    day.picks += 1
                elif kind == "rec_shown":
                    day.shown += n
                elif kind == "rec_added":
                    day.added += n
                elif kind == "veto":
                    day.vetoed += 1
                elif kind == "ocr_import":
                    day.imports += 1
            for d, owners in active.items():
                days[d].active = len(owners)
    except Exception:  # the event log may be down: PostgreSQL figures still answer
        stats.events_ok = False
    stats.days = [days[d] for d in sorted(days)]
    stats.shown = sum(d.shown for d in stats.days)
    stats.added = sum(d.added for d in stats.days)
    stats.vetoed = sum(d.vetoed for d in stats.days)
    return stats


def day_table(stats: Stats, header: str) -> str:
    """Fixed-width rows (for a <pre> block): date, new, active, picks, shown, added, vetoed,
    imports. `header` is the localised column header line."""
    lines = [header]
    for d in reversed(stats.days):
        lines.append(
            f"{d.day:%m-%d} {d.new_owners:>4} {d.active:>5} {d.picks:>5} {d.shown:>6} "
            f"{d.added:>5} {d.vetoed:>4} {d.imports:>3}"
        )
    return "\n".join(lines)
