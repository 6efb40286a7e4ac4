"""One aiogram Router per feature; `all_routers()` gives them in dispatch order."""

from __future__ import annotations

from aiogram import Router


def all_routers() -> list[Router]:
    from handlers import (
        admin,
        common,
        dayparts,
        fallback,
        onboarding,
        playlists,
        recommend,
        screenshot,
        settings,
        spotify,
        start,
        taste,
    )

    # fallback must stay last: it catches whatever the others did not.
    return [
        start.router,
        common.router,
        spotify.router,
        onboarding.router,
        playlists.router,
        settings.router,
        recommend.router,
        screenshot.router,
        dayparts.router,
        taste.router,
        admin.router,
        fallback.router,
    ]
