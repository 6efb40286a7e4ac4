"""/taste: the picture is a real PNG about 1080 px wide; an owner with no taste gets a clear
message. The handler runs in an aiogram Dispatcher fed with updates from the fake Bot API."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Update
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import DbSessionMiddleware, OwnerMiddleware
from core import recommend, taste_picture
from core.limits import TASTE_IMAGE_PX
from core.texts import t
from handlers import taste
from tests.fakes.telegram import FakeTelegram
from tests.test_dayparts import build_catalog, tracks_with

TOKEN = "123456:TASTE-test"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


@pytest.fixture
async def db(
    fresh_maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    maker = fresh_maker
    await build_catalog(maker)
    yield maker


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    yield client
    await client.session.close()


def dispatcher(maker: async_sessionmaker[AsyncSession]) -> Dispatcher:
    dp = Dispatcher()
    dp.update.outer_middleware(DbSessionMiddleware(maker))
    dp.update.outer_middleware(OwnerMiddleware("en"))
    dp.include_router(taste.router)
    return dp


async def test_taste_png_and_no_taste_message(db, tg: FakeTelegram, bot: Bot) -> None:
    dp = dispatcher(db)
    # No taste yet: a clear message, no picture.
    update = await tg.send_text(801, "/taste")
    await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
    assert tg.calls_to("sendPhoto") == []
    assert tg.bot_messages(801)[-1]["text"].startswith("You have no taste profile yet")

    async with db() as s:
        await recommend.record_picks(s, 801, tracks_with(("cozy",))[:10], ["cozy"])
        await recommend.record_adds(s, 801, tracks_with(("jazz",))[:3])
        await s.commit()
    update = await tg.send_text(801, "/taste")
    await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
    [call] = tg.calls_to("sendPhoto")
    assert call.ok
    photo = call.params["photo"]
    width, height = png_size(photo.data)
    assert width == TASTE_IMAGE_PX and 800 <= height <= 1400
    assert len(photo.data) > 20_000  # a drawn map, not an empty canvas
    assert "10 picks and 3 added songs" in call.params["caption"].replace("<b>", "")


async def test_korean_picture_and_map_contents(db) -> None:
    async with db() as s:
        await s.execute(text("INSERT INTO owners (id, language) VALUES (802, 'ko')"))
        await recommend.record_picks(s, 802, tracks_with(("calm",))[:10], ["calm", "acoustic"])
        await s.commit()
        tmap = await taste_picture.load_taste_map(s, 802)
    assert tmap is not None
    assert len(tmap.picks) == 10 and len(tmap.adds) == 0 and tmap.owner is not None
    # The owner's own tags are among the labelled clusters.
    assert {"calm", "acoustic"} <= {key for key, _, _ in tmap.labels}
    data = await taste_picture.render(tmap, "ko")
    assert png_size(data)[0] == TASTE_IMAGE_PX
    assert taste_picture.cjk_font() is not None  # fonts-nanum / fonts-noto-cjk installed here
    assert t("taste_plot_title", "ko")
