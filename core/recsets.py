"""Recommendation sets: what a recommendation message showed, what the owner selected,
vetoed and added. The message is rendered from these rows, so every button press is
idempotent against the database, not against the message the owner happens to see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.recommend import Rec


@dataclass(frozen=True)
class Item:
    rank: int
    track_id: int
    title: str
    artist: str
    why: list[str]
    selected: bool
    added: bool
    vetoed: bool

    @property
    def pending_add(self) -> bool:
        """Counts toward "Add N" when selected: not added, not vetoed."""
        return not self.added and not self.vetoed


@dataclass(frozen=True)
class RecSet:
    id: int
    owner_id: int
    playlist_id: int | None
    page: int
    items: list[Item]
    # Selected and not yet added, on every page of the set (what "Add N" will add).
    pending: int = 0
    # A daypart push: its header line and tags (kept on the set, so every re-render and
    # "More" stay the daypart's, not the owner's general taste).
    header: str | None = None
    mood_tags: tuple[str, ...] = ()
    # Every track shown in the set so far, on any page: "More" never repeats them.
    shown: tuple[int, ...] = ()


async def create(
    session: AsyncSession,
    owner_id: int,
    playlist_id: int | None,
    version: int | None,
    *,
    header: str | None = None,
    mood_tags: Sequence[str] = (),
) -> int:
    import json

    context = {"header": header, "tags": list(mood_tags)} if header or mood_tags else {}
    return int(
        (
            await session.execute(
                text(
                    "INSERT INTO recommendation_sets (owner_id, playlist_id, model_version, page, context) "
                    "VALUES (:o, :p, :v, 0, CAST(:c AS jsonb)) RETURNING id"
                ),
                {"o": owner_id, "p": playlist_id, "v": version, "c": json.dumps(context)},
            )
        ).scalar_one()
    )


async def add_page(session: AsyncSession, set_id: int, recs: Sequence[Rec]) -> int:
    """Append a page; returns its number. `why` tags are kept in the set's context. One
    statement: the page counter and the items together."""
    rows = await session.execute(
        text(
            "WITH s AS (UPDATE recommendation_sets SET page = page + 1, "
            "context = context || jsonb_build_object('why', "
            "COALESCE(context->'why', '{}'::jsonb) || CAST(:why AS jsonb)) "
            "WHERE id = :s RETURNING page) "
            "INSERT INTO recommendation_items (set_id, track_id, page, rank, score, selected) "
            "SELECT :s, unnest(CAST(:ids AS int[])), s.page, "
            "generate_subscripts(CAST(:ids AS int[]), 1), unnest(CAST(:scores AS float8[])), false "
            "FROM s RETURNING page"
        ),
        {
            "s": set_id,
            "why": _why_json(recs),
            "ids": [r.track.id for r in recs],
            "scores": [r.score for r in recs],
        },
    )
    return int(rows.first()[0])


def page_view(
    prev: RecSet | None,
    set_id: int,
    owner_id: int,
    playlist_id: int | None,
    page: int,
    recs: Sequence[Rec],
) -> RecSet:
    """A page just written by `add_page`, as `load` would read it back: nothing on it is
    selected yet; selections of earlier pages (`prev.pending`) and the set's daypart carry
    over. Saves re-reading the set."""
    items = [
        Item(rank, r.track.id, r.track.title, r.track.artist, list(r.why), False, False, False)
        for rank, r in enumerate(recs, start=1)
    ]
    new_ids = tuple(r.track.id for r in recs)
    if prev is None:
        return RecSet(set_id, owner_id, playlist_id, page, items, shown=new_ids)
    return replace(prev, page=page, items=items, shown=prev.shown + new_ids)


def _why_json(recs: Sequence[Rec]) -> str:
    import json

    return json.dumps({str(r.track.id): r.why for r in recs})


# The set's head, the current page's items and the pending count in one statement (a press
# re-renders from this; every statement is a round trip). Each item row carries only its own
# `why`, not the whole context.
_LOAD_SQL = text(
    "SELECT h.id, h.owner_id, h.playlist_id, h.page, h.context->>'header' AS header, "
    "h.context->'tags' AS tags, "
    "ARRAY(SELECT a.track_id FROM recommendation_items a WHERE a.set_id = h.id "
    "ORDER BY a.page, a.rank) AS shown, "
    "(SELECT count(*) FROM recommendation_items p WHERE p.set_id = h.id AND p.selected "
    "AND p.added_at IS NULL AND p.vetoed_at IS NULL) AS pending, "
    "ri.rank, ri.track_id, t.title, t.artist, ri.selected, ri.added_at, ri.vetoed_at, "
    "h.context->'why'->(ri.track_id::text) AS why "
    "FROM recommendation_sets h "
    "LEFT JOIN recommendation_items ri ON ri.set_id = h.id AND ri.page = h.page "
    "LEFT JOIN tracks t ON t.id = ri.track_id "
    "WHERE h.id = :s AND h.owner_id = :o ORDER BY ri.rank"
)


async def load(session: AsyncSession, set_id: int, owner_id: int) -> RecSet | None:
    """The current page of a set, or None when it is not this owner's."""
    rows = (await session.execute(_LOAD_SQL, {"s": set_id, "o": owner_id})).all()
    if not rows:
        return None
    head = rows[0]
    items = [
        Item(
            r.rank,
            r.track_id,
            r.title,
            r.artist,
            list(r.why or []),
            r.selected,
            r.added_at is not None,
            r.vetoed_at is not None,
        )
        for r in rows
        if r.rank is not None  # a set with no page yet has one row and no items
    ]
    return RecSet(
        head.id,
        head.owner_id,
        head.playlist_id,
        head.page,
        items,
        int(head.pending),
        head.header,
        tuple(head.tags or ()),
        tuple(head.shown or ()),
    )


def _patched(rec: RecSet, rank: int, **changes: bool) -> RecSet:
    """The set with one item changed as the database now has it: the page is re-rendered
    from this, so a press costs one UPDATE instead of re-reading the set."""
    old = next(i for i in rec.items if i.rank == rank)
    new = replace(old, **changes)
    counts = int(new.selected and new.pending_add) - int(old.selected and old.pending_add)
    items = [new if i.rank == rank else i for i in rec.items]
    return replace(rec, items=items, pending=rec.pending + counts)


async def toggle(session: AsyncSession, rec: RecSet, rank: int) -> RecSet:
    """Flip one item's selection on the current page; returns the set as it now is
    (unchanged when there is no such item, or it was vetoed or added)."""
    row = (
        await session.execute(
            text(
                "UPDATE recommendation_items SET selected = NOT selected WHERE set_id = :s "
                "AND page = :p AND rank = :r AND vetoed_at IS NULL AND added_at IS NULL "
                "RETURNING selected"
            ),
            {"s": rec.id, "p": rec.page, "r": rank},
        )
    ).first()
    return rec if row is None else _patched(rec, rank, selected=bool(row[0]))


async def veto(session: AsyncSession, rec: RecSet, rank: int) -> tuple[int | None, RecSet]:
    """'Not for my shop': (the vetoed track id, the set as it now is); the id is None when
    the item was already vetoed or is unknown."""
    row = (
        await session.execute(
            text(
                "UPDATE recommendation_items SET vetoed_at = now(), selected = false "
                "WHERE set_id = :s AND page = :p AND rank = :r AND vetoed_at IS NULL RETURNING track_id"
            ),
            {"s": rec.id, "p": rec.page, "r": rank},
        )
    ).first()
    if row is None:
        return None, rec
    await session.execute(
        text(
            "INSERT INTO vetoes (owner_id, track_id) VALUES (:o, :t) "
            "ON CONFLICT ON CONSTRAINT uq_veto_track DO NOTHING"
        ),
        {"o": rec.owner_id, "t": int(row[0])},
    )
    return int(row[0]), _patched(rec, rank, selected=False, vetoed=True)


async def claim_selected_for_add(session: AsyncSession, rec: RecSet) -> list[int]:
    """Mark the selected, not yet added items of the set as added and return their track ids.

    Row locks make a double tap (two updates racing) claim each track once: the second
    transaction waits, then finds nothing left to claim."""
    rows = await session.execute(
        text(
            "UPDATE recommendation_items SET added_at = now() WHERE set_id = :s AND selected "
            "AND added_at IS NULL AND vetoed_at IS NULL RETURNING track_id, page, rank"
        ),
        {"s": rec.id},
    )
    return [int(r[0]) for r in sorted(rows, key=lambda r: (r[1], r[2]))]


async def unclaim(session: AsyncSession, set_id: int, track_ids: Sequence[int]) -> None:
    """Undo a claim when the add itself failed (e.g. Spotify was down): nothing is lost."""
    await session.execute(
        text(
            "UPDATE recommendation_items SET added_at = NULL WHERE set_id = :s "
            "AND track_id = ANY(:ids)"
        ),
        {"s": set_id, "ids": list(track_ids)},
    )


async def skipped_on_page(session: AsyncSession, rec: RecSet) -> list[int]:
    return [i.track_id for i in rec.items if not i.selected and not i.added and not i.vetoed]


async def set_message(session: AsyncSession, set_id: int, chat_id: int, message_id: int) -> None:
    await session.execute(
        text("UPDATE recommendation_sets SET chat_id = :c, message_id = :m WHERE id = :s"),
        {"c": chat_id, "m": message_id, "s": set_id},
    )
