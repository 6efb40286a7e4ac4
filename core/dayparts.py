"""Dayparts: a shop's opening hours split into up to four moods, each announced by a short
fresh set of songs when it starts (scheduler/dayparts.py sends them).

Times are minutes after local midnight in the owner's IANA time zone (owners.timezone).
A daypart runs from its start to the next daypart's start (or closing time), so two dayparts
never overlap as long as their starts differ; validation also asks each to last at least
DAYPART_MIN_MINUTES. Hours may cross midnight (a bar open 18:00-02:00): everything is measured
as an offset from opening time, modulo one day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import embeddings
from core.catalog.tags import vocabulary
from core.limits import (
    DAYPART_FRESH_DAYS,
    DAYPART_MIN_MINUTES,
    DAYPART_PUSH_MAX_LATE_MIN,
    DAYPART_PUSH_TRACKS,
    DAYPART_TAG_BLEND,
    DAYPART_TAG_BONUS,
    DAYPARTS_MAX,
    REC_CANDIDATES,
)
from core.models import Daypart as DaypartRow
from core.models import ShopHours
from core.recommend import CANDIDATE_SQL, Rec, TrackCard, candidate_params

DAY = 24 * 60

# Moods an owner picks for a daypart: key -> vocabulary tags (labels: texts "mood_<key>").
MOODS: dict[str, tuple[str, ...]] = {
    "morning_calm": ("calm", "acoustic", "morning"),
    "lunch_bright": ("bright", "upbeat", "pop"),
    "afternoon_chill": ("chill", "lofi", "bossa-nova"),
    "evening_cozy": ("cozy", "warm", "evening"),
    "dinner_elegant": ("elegant", "jazz", "romantic"),
    "groovy_night": ("groovy", "funk-disco", "city-pop"),
    "late_night": ("dreamy", "late-night", "chill-electronic"),
}

# Whole-day presets: (open, close, [(start, mood), ...]); labels: texts "preset_<key>".
PRESETS: dict[str, tuple[int, int, tuple[tuple[int, str], ...]]] = {
    "cafe": (
        8 * 60,
        22 * 60,
        (
            (8 * 60, "morning_calm"),
            (12 * 60, "lunch_bright"),
            (15 * 60, "afternoon_chill"),
            (18 * 60, "evening_cozy"),
        ),
    ),
    "restaurant": (
        11 * 60,
        22 * 60,
        (
            (11 * 60, "lunch_bright"),
            (15 * 60, "afternoon_chill"),
            (17 * 60, "dinner_elegant"),
            (20 * 60, "evening_cozy"),
        ),
    ),
    "boutique": (
        10 * 60,
        21 * 60,
        ((10 * 60, "morning_calm"), (13 * 60, "lunch_bright"), (17 * 60, "groovy_night")),
    ),
    "bar": (
        18 * 60,
        2 * 60,
        ((18 * 60, "evening_cozy"), (21 * 60, "groovy_night"), (0, "late_night")),
    ),
}


class DaypartError(Exception):
    """A schedule change that cannot be accepted; `key` + `params` render the reason
    (core.texts), so the owner reads why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Part:
    slot: int
    start: int  # minutes after local midnight
    mood: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    owner_id: int
    open: int
    close: int
    paused: bool = False
    parts: tuple[Part, ...] = ()
    timezone: str = "Asia/Seoul"
    language: str = "en"
    explicit_ok: bool = True

    def offset(self, minute: int) -> int:
        """Minutes from opening time to `minute` (crossing midnight counts forward)."""
        return (minute - self.open) % DAY

    @property
    def span(self) -> int:
        return (self.close - self.open) % DAY

    def ordered(self) -> list[Part]:
        return sorted(self.parts, key=lambda p: self.offset(p.start))

    def length(self, part: Part) -> int:
        """Minutes from the part's start to the next part's start or to closing time."""
        order = self.ordered()
        i = next(k for k, p in enumerate(order) if p.slot == part.slot)
        end = self.offset(order[i + 1].start) if i + 1 < len(order) else self.span
        return end - self.offset(part.start)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def validate(schedule: Schedule) -> None:
    """Raise DaypartError unless the hours and dayparts make a usable day."""
    if not (0 <= schedule.open < DAY and 0 <= schedule.close < DAY):
        raise DaypartError("dp_err_time")
    if schedule.open == schedule.close:
        raise DaypartError("dp_err_hours_same")
    if schedule.span < DAYPART_MIN_MINUTES:
        raise DaypartError("dp_err_hours_short", minutes=DAYPART_MIN_MINUTES)
    if len(schedule.parts) > DAYPARTS_MAX:
        raise DaypartError("dp_err_too_many", n=DAYPARTS_MAX)
    vocab = vocabulary()
    for part in schedule.parts:
        if not 0 <= part.start < DAY:
            raise DaypartError("dp_err_time")
        if not part.tags or any(t not in vocab for t in part.tags):
            raise DaypartError("dp_err_tags")
        if schedule.offset(part.start) >= schedule.span:
            raise DaypartError(
                "dp_err_outside",
                time=hhmm(part.start),
                open=hhmm(schedule.open),
                close=hhmm(schedule.close),
            )
    starts = [p.start for p in schedule.parts]
    for s in starts:
        if starts.count(s) > 1:
            raise DaypartError("dp_err_overlap", time=hhmm(s))
    for part in schedule.ordered():
        if schedule.length(part) < DAYPART_MIN_MINUTES:
            raise DaypartError(
                "dp_err_too_short", time=hhmm(part.start), minutes=DAYPART_MIN_MINUTES
            )


def zone(name: str | None) -> ZoneInfo:
    """The owner's zone; an unknown name falls back to Asia/Seoul (the product's home)."""
    try:
        return ZoneInfo(name or "Asia/Seoul")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Due:
    schedule: Schedule
    part: Part
    local_date: date
    late_minutes: int


def due_parts(schedule: Schedule, now: datetime) -> list[Due]:
    """Dayparts whose start has passed less than DAYPART_PUSH_MAX_LATE_MIN ago (and which are
    still running) at `now`, with the local calendar date of that start."""
    if schedule.paused or not schedule.parts:
        return []
    local = now.astimezone(zone(schedule.timezone))
    minute = local.hour * 60 + local.minute
    out = []
    for part in schedule.parts:
        since = (minute - part.start) % DAY
        if since < min(schedule.length(part), DAYPART_PUSH_MAX_LATE_MIN):
            # Wall-clock arithmetic (naive): the date on the shop's calendar when it started.
            started = local.replace(tzinfo=None) - timedelta(minutes=since)
            out.append(Due(schedule, part, started.date(), since))
    return out


# --- storage -----------------------------------------------------------------------------


def _part(row: DaypartRow) -> Part:
    return Part(row.slot, row.start_minute, row.mood, tuple(row.tags or ()))


async def load(session: AsyncSession, owner_id: int) -> Schedule | None:
    hours = await session.get(ShopHours, owner_id)
    if hours is None:
        return None
    rows = (
        await session.execute(select(DaypartRow).where(DaypartRow.owner_id == owner_id))
    ).scalars()
    return Schedule(
        owner_id,
        hours.open_minute,
        hours.close_minute,
        hours.paused_at is not None,
        tuple(_part(r) for r in rows),
    )


async def _store(session: AsyncSession, schedule: Schedule) -> None:
    """Write the whole schedule (validated first): hours upserted, dayparts replaced."""
    validate(schedule)
    await session.execute(
        insert(ShopHours)
        .values(owner_id=schedule.owner_id, open_minute=schedule.open, close_minute=schedule.close)
        .on_conflict_do_update(
            index_elements=[ShopHours.owner_id],
            set_={
                "open_minute": schedule.open,
                "close_minute": schedule.close,
                "updated_at": text("now()"),
            },
        )
    )
    await session.execute(delete(DaypartRow).where(DaypartRow.owner_id == schedule.owner_id))
    for p in schedule.parts:
        session.add(
            DaypartRow(
                owner_id=schedule.owner_id,
                slot=p.slot,
                start_minute=p.start,
                mood=p.mood,
                tags=list(p.tags),
            )
        )
    await session.flush()


async def apply_preset(session: AsyncSession, owner_id: int, preset: str) -> Schedule:
    if preset not in PRESETS:
        raise DaypartError("dp_err_unknown")
    open_, close, parts = PRESETS[preset]
    current = await load(session, owner_id)
    schedule = Schedule(
        owner_id,
        open_,
        close,
        current.paused if current else False,
        tuple(Part(i, start, mood, MOODS[mood]) for i, (start, mood) in enumerate(parts)),
    )
    await _store(session, schedule)
    return schedule


async def set_hours(session: AsyncSession, owner_id: int, open_: int, close: int) -> Schedule:
    current = await load(session, owner_id) or Schedule(owner_id, open_, close)
    schedule = replace(current, open=open_, close=close)
    await _store(session, schedule)
    return schedule


async def _require(session: AsyncSession, owner_id: int) -> Schedule:
    current = await load(session, owner_id)
    if current is None:
        raise DaypartError("dp_err_no_hours")
    return current


async def add_part(session: AsyncSession, owner_id: int, start: int, mood: str) -> Schedule:
    current = await _require(session, owner_id)
    if mood not in MOODS:
        raise DaypartError("dp_err_tags")
    if len(current.parts) >= DAYPARTS_MAX:
        raise DaypartError("dp_err_too_many", n=DAYPARTS_MAX)
    # The lowest free slot: slots of the other dayparts stay as they are (their push records).
    slot = min({*range(DAYPARTS_MAX)} - {p.slot for p in current.parts})
    schedule = replace(current, parts=(*current.parts, Part(slot, start, mood, MOODS[mood])))
    await _store(session, schedule)
    return schedule


async def edit_part(
    session: AsyncSession,
    owner_id: int,
    slot: int,
    *,
    start: int | None = None,
    mood: str | None = None,
) -> Schedule:
    current = await _require(session, owner_id)
    old = next((p for p in current.parts if p.slot == slot), None)
    if old is None:
        raise DaypartError("dp_err_unknown")
    if mood is not None and mood not in MOODS:
        raise DaypartError("dp_err_tags")
    new = Part(
        slot,
        old.start if start is None else start,
        old.mood if mood is None else mood,
        old.tags if mood is None else MOODS[mood],
    )
    parts = tuple(new if p.slot == slot else p for p in current.parts)
    schedule = replace(current, parts=parts)
    await _store(session, schedule)
    return schedule


async def delete_part(session: AsyncSession, owner_id: int, slot: int) -> Schedule:
    current = await _require(session, owner_id)
    schedule = replace(current, parts=tuple(p for p in current.parts if p.slot != slot))
    await _store(session, schedule)
    return schedule


async def set_paused(session: AsyncSession, owner_id: int, paused: bool) -> Schedule:
    await _require(session, owner_id)
    await session.execute(
        text(
            "UPDATE shop_hours SET paused_at = CASE WHEN :p THEN now() END, updated_at = now() "
            "WHERE owner_id = :o"
        ),
        {"p": paused, "o": owner_id},
    )
    schedule = await load(session, owner_id)
    assert schedule is not None
    return schedule


async def active_schedules(session: AsyncSession) -> list[Schedule]:
    """Every schedule that may push: not paused, owner not blocked, at least one daypart."""
    rows = (
        await session.execute(
            text(
                "SELECT h.owner_id, h.open_minute, h.close_minute, o.timezone, o.language, "
                "o.explicit_filter, d.slot, d.start_minute, d.mood, d.tags "
                "FROM shop_hours h JOIN owners o ON o.id = h.owner_id "
                "JOIN dayparts d ON d.owner_id = h.owner_id "
                "WHERE h.paused_at IS NULL AND o.blocked_at IS NULL ORDER BY h.owner_id, d.slot"
            )
        )
    ).all()
    out: dict[int, Schedule] = {}
    for r in rows:
        part = Part(r.slot, r.start_minute, r.mood, tuple(r.tags or ()))
        prev = out.get(r.owner_id)
        if prev is None:
            out[r.owner_id] = Schedule(
                r.owner_id,
                r.open_minute,
                r.close_minute,
                False,
                (part,),
                r.timezone,
                r.language,
                not r.explicit_filter,
            )
        else:
            out[r.owner_id] = replace(prev, parts=(*prev.parts, part))
    return list(out.values())


# --- push records ------------------------------------------------------------------------


async def claim_push(
    session: AsyncSession, owner_id: int, slot: int, local_date: date
) -> int | None:
    """Take the (owner, daypart, day) push; None when it was taken before (by an earlier run,
    another replica, or before a restart). Claimed before sending: at most once, by design."""
    row = (
        await session.execute(
            text(
                "INSERT INTO daypart_pushes (owner_id, slot, local_date, status) "
                "VALUES (:o, :s, :d, 'claimed') ON CONFLICT ON CONSTRAINT uq_daypart_push "
                "DO NOTHING RETURNING id"
            ),
            {"o": owner_id, "s": slot, "d": local_date},
        )
    ).first()
    return None if row is None else int(row[0])


async def finish_push(
    session: AsyncSession, push_id: int, status: str, set_id: int | None = None
) -> None:
    await session.execute(
        text(
            "UPDATE daypart_pushes SET status = CAST(:st AS varchar), "
            "set_id = COALESCE(CAST(:set AS int), set_id), "
            "sent_at = CASE WHEN CAST(:st AS varchar) = 'sent' THEN now() ELSE sent_at END "
            "WHERE id = :id"
        ),
        {"st": status, "set": set_id, "id": push_id},
    )


async def mark_blocked(session: AsyncSession, owner_id: int) -> None:
    """The owner blocked the bot (403): no more pushes until they write to the bot again
    (core.owners.get_or_create clears blocked_at on their next update)."""
    await session.execute(
        text("UPDATE owners SET blocked_at = now() WHERE id = :o AND blocked_at IS NULL"),
        {"o": owner_id},
    )


# --- the push's songs --------------------------------------------------------------------


async def tag_centroid(session: AsyncSession, tags: Sequence[str]) -> np.ndarray | None:
    """Mean embedding of the catalog tracks carrying any of `tags`."""
    if not tags:
        return None
    row = (
        await session.execute(
            text(
                "SELECT avg(t.embedding) FROM tracks t WHERE t.embedding IS NOT NULL AND t.id IN "
                "(SELECT tt.track_id FROM track_tags tt JOIN tags g ON g.id = tt.tag_id "
                "WHERE g.key = ANY(:tags))"
            ),
            {"tags": list(tags)},
        )
    ).first()
    return None if row is None or row[0] is None else embeddings.as_array(row[0])


async def recently_pushed_or_kept(session: AsyncSession, owner_id: int) -> list[int]:
    """Tracks a push should not repeat: pushed lately, or already picked/added by the owner."""
    rows = await session.execute(
        text(
            "SELECT ri.track_id FROM daypart_pushes p "
            "JOIN recommendation_items ri ON ri.set_id = p.set_id "
            "WHERE p.owner_id = :o AND p.created_at > now() - make_interval(days => :d) "
            "UNION SELECT track_id FROM taste_signals WHERE owner_id = :o"
        ),
        {"o": owner_id, "d": DAYPART_FRESH_DAYS},
    )
    return [int(r[0]) for r in rows]


@dataclass(frozen=True)
class PushQuery:
    vector: np.ndarray
    tags: tuple[str, ...] = field(default=())


async def push_query(session: AsyncSession, owner_id: int, tags: Sequence[str]) -> PushQuery | None:
    """The owner's taste pulled toward the daypart's mood: a blend of the owner embedding and
    the centroid of the tracks carrying the daypart's tags (either alone when the other is
    missing)."""
    owner_vec = await embeddings.owner_embedding(session, owner_id)
    centroid = await tag_centroid(session, tags)
    if owner_vec is None and centroid is None:
        return None
    parts = []
    if owner_vec is not None:
        parts.append((1.0 - DAYPART_TAG_BLEND, embeddings.l2_normalize(owner_vec)))
    if centroid is not None:
        parts.append((DAYPART_TAG_BLEND, embeddings.l2_normalize(centroid)))
    vec = sum(w * v for w, v in parts)
    return PushQuery(embeddings.l2_normalize(np.asarray(vec, dtype=np.float32)), tuple(tags))


async def push_recs(
    session: AsyncSession,
    owner_id: int,
    tags: Sequence[str],
    *,
    playlist_id: int | None = None,
    explicit_ok: bool = True,
    limit: int = DAYPART_PUSH_TRACKS,
    exclude: Sequence[int] = (),
) -> list[Rec]:
    """A short fresh set for a daypart: nearest tracks to the blended query (same index scan
    and exclusions as core.recommend), tracks with the daypart's tags lifted, one per artist,
    nothing pushed in the last DAYPART_FRESH_DAYS days or already kept."""
    query = await push_query(session, owner_id, tags)
    if query is None:
        return []
    exclude = [*await recently_pushed_or_kept(session, owner_id), *exclude]
    rows = (
        await session.execute(
            text(CANDIDATE_SQL),
            candidate_params(
                owner_id, playlist_id, exclude, explicit_ok, REC_CANDIDATES, query.vector
            ),
        )
    ).all()
    if not rows:
        return []
    wanted = list(tags)
    sim = np.fromiter((r.sim_q for r in rows), np.float64, len(rows))
    hit = np.array([any(t in wanted for t in r.tags) for r in rows])
    score = sim + DAYPART_TAG_BONUS * hit
    out: list[Rec] = []
    artists: set[str] = set()
    for i in np.argsort(-score, kind="stable"):
        r = rows[int(i)]
        if r.norm_artist in artists:
            continue  # five songs from five artists: a short set should feel varied
        artists.add(r.norm_artist)
        own = list(r.tags)
        why = [t for t in wanted if t in own] + [t for t in own if t not in wanted]
        out.append(Rec(TrackCard(r.id, r.title, r.artist, own), float(score[i]), why[:3]))
        if len(out) == limit:
            break
    return out
