"""One aiogram Router per feature; `all_routers()` gives them in dispatch order."""

from __future__ import annotations

from aiogram import Router


def all_routers() -> list[Router]:
    from handlers import common, fallback, onboarding, recommend, screenshot, spotify, start

    # fallback must stay last: it catches whatever the others did not.
    return [
        start.router,
        common.router,
        spotify.router,
        onboarding.router,
        recommend.router,
        screenshot.router,
        fallback.router,
    ]
