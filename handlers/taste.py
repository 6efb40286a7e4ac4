"""/taste: the owner's picks and adds drawn on a map of the catalog (core/taste_picture.py)."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from core import taste_picture
from core.models import Owner
from core.texts import t

router = Router(name="taste")
log = logging.getLogger("tys.taste")


@router.message(Command("taste"))
async def cmd_taste(
    message: Message, session: AsyncSession, owner: Owner, lang: str, bot: Bot
) -> None:
    tmap = await taste_picture.load_taste_map(session, owner.id)
    if tmap is None:
        await message.answer(t("taste_none", lang))
        return
    # The session is not needed while drawing: end the transaction so no connection idles.
    await session.commit()
    await bot.send_chat_action(message.chat.id, ChatAction.UPLOAD_PHOTO)
    try:
        png = await taste_picture.render(tmap, lang)
    except Exception:
        log.exception("taste picture for owner %s failed", owner.id)
        await message.answer(t("taste_failed", lang))
        return
    await message.answer_photo(
        BufferedInputFile(png, "taste.png"),
        caption=t("taste_caption", lang, picks=len(tmap.picks), adds=len(tmap.adds)),
    )
