"""Owner repository: loading, creating and updating shop owners."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Owner
from core.texts import LANGUAGES


async def get_or_create(
    session: AsyncSession, user_id: int, *, language: str, first_name: str | None = None
) -> Owner:
    """One round trip: insert if new, touch last_seen_at, return the row."""
    stmt = (
        insert(Owner)
        .values(id=user_id, language=language, first_name=first_name)
        .on_conflict_do_update(
            index_elements=[Owner.id],
            set_={"last_seen_at": func.now(), "blocked_at": None},
        )
        .returning(Owner)
    )
    owner = (await session.execute(stmt)).scalar_one()
    return owner


async def get(session: AsyncSession, user_id: int) -> Owner | None:
    return await session.get(Owner, user_id)


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    await session.execute(update(Owner).where(Owner.id == user_id).values(language=language))


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Owner))).scalar_one())
