"""Owner repository: loading, creating and updating shop owners."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.limits import OWNER_TOUCH_S, SHOP_NAME_MAX
from core.models import Owner
from core.texts import LANGUAGES

# One statement whatever the case: insert a new owner; for a known one touch last_seen_at
# (and clear blocked_at) only when it is stale, so a burst of button presses does not write
# the row on every update; the row is returned either way.
_GET_OR_CREATE = text(
    "WITH up AS ("
    " INSERT INTO owners (id, language, first_name) VALUES (:id, :lang, :first)"
    " ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), blocked_at = NULL"
    " WHERE owners.blocked_at IS NOT NULL"
    " OR owners.last_seen_at < now() - make_interval(secs => :touch)"
    " RETURNING owners.*)"
    " SELECT * FROM up"
    " UNION ALL SELECT * FROM owners WHERE id = :id AND NOT EXISTS (SELECT 1 FROM up)"
)


async def get_or_create(
    session: AsyncSession, user_id: int, *, language: str, first_name: str | None = None
) -> Owner:
    """One round trip: insert if new, touch last_seen_at when stale, return the row."""
    stmt = select(Owner).from_statement(_GET_OR_CREATE)
    params = {"id": user_id, "lang": language, "first": first_name, "touch": OWNER_TOUCH_S}
    owner = (await session.execute(stmt, params)).scalar_one_or_none()
    if owner is None:
        # A concurrent first update of the same new owner inserted the row after this
        # statement's snapshot was taken; the next statement sees it.
        owner = await session.get(Owner, user_id)
    assert owner is not None
    return owner


async def get(session: AsyncSession, user_id: int) -> Owner | None:
    return await session.get(Owner, user_id)


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    await session.execute(update(Owner).where(Owner.id == user_id).values(language=language))


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Owner))).scalar_one())


# --- settings (/settings) ------------------------------------------------------------------


class ShopNameError(ValueError):
    """`reason` is empty | too_long | control (a text key suffix for the owner)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Format characters that are part of ordinary text (emoji sequences, Korean line breaking);
# every other Cc/Cf character (newlines, bidi overrides, invisible marks) is refused.
_ALLOWED_FORMAT = {"\u200d"}


def clean_shop_name(raw: str) -> str:
    """The name as stored, or ShopNameError. Length counts characters, after trimming."""
    name = raw.strip()
    if not name:
        raise ShopNameError("empty")
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and (
            ch not in _ALLOWED_FORMAT
        ):
            raise ShopNameError("control")
    name = unicodedata.normalize("NFC", name)
    if len(name) > SHOP_NAME_MAX:
        raise ShopNameError("too_long")
    return name


async def set_shop_name(session: AsyncSession, owner_id: int, raw: str) -> str:
    name = clean_shop_name(raw)
    await session.execute(update(Owner).where(Owner.id == owner_id).values(shop_name=name))
    return name


async def toggle_explicit_filter(session: AsyncSession, owner_id: int) -> bool:
    """Flip owners.explicit_filter (honoured by recommendations); -> the new value."""
    row = await session.execute(
        update(Owner)
        .where(Owner.id == owner_id)
        .values(explicit_filter=~Owner.explicit_filter)
        .returning(Owner.explicit_filter)
    )
    return bool(row.scalar_one())
