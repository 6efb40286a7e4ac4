"""The library floor for `python -m tests.bench_bot --floor`: an aiogram bot with nothing else.

It answers a recommendation-page-shaped message (10 numbered lines, 10 toggle buttons and
"More") and, on every press, does what the real bot's page turn does towards Telegram:
answerCallbackQuery + editMessageText with the whole keyboard. No database, no Redis, no
middlewares, state kept in the message itself. Its CPU per update is what polling, update
parsing and two Bot API calls cost in aiogram on this machine, before any of our work.

Run as `python -m tests.floor_bot` with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE set.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

router = Router()


def page(n: int, ticked: frozenset[int]) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>Songs for your shop</b> · page {n}"]
    lines += [f"{i + 1}. Song {n * 10 + i} — Artist {i}\n   <i>cafe, jazz</i>" for i in range(10)]
    rows = [
        [
            InlineKeyboardButton(
                text=f"{'☑' if i in ticked else '⬜'} {i + 1}. Song {n * 10 + i}",
                callback_data=f"t:{n}:{i}",
            )
        ]
        for i in range(10)
    ]
    rows.append([InlineKeyboardButton(text="More ›", callback_data=f"m:{n}")])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(CommandStart())
async def start(message: Message) -> None:
    body, markup = page(0, frozenset())
    await message.answer(body, reply_markup=markup, parse_mode="HTML")


@router.callback_query(F.data)
async def press(query: CallbackQuery) -> None:
    assert query.data is not None and isinstance(query.message, Message)
    kind, n_raw, *rest = query.data.split(":")
    n = int(n_raw)
    markup = query.message.reply_markup
    assert markup is not None
    ticked = {i for i, row in enumerate(markup.inline_keyboard[:10]) if row[0].text.startswith("☑")}
    if kind == "m":
        n, ticked = n + 1, set()
    else:
        ticked ^= {int(rest[0])}
    body, new_markup = page(n, frozenset(ticked))
    # Both calls at once, as the real bot's page turn makes them.
    await asyncio.gather(
        _run(query.answer()),
        _run(query.message.edit_text(body, reply_markup=new_markup, parse_mode="HTML")),
    )


async def _run(method: Awaitable[Any]) -> Any:
    return await method  # aiogram's method objects are awaitable but not hashable tasks


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"], session=session)
    dp = Dispatcher()
    dp.include_router(router)
    print("floor bot ready in 0 s", flush=True)  # the line BotProcess.wait_ready looks for
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
