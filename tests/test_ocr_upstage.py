"""The Upstage provider against a local fake speaking the real request and answer shapes."""

from __future__ import annotations

import pytest

from core.normalize import match_key
from core.ocr.base import FileTooLarge, ProviderUnavailable
from core.ocr.pipeline import get_provider, read_screenshot
from core.ocr.upstage import UpstageProvider, parse_response
from tests.fakes.upstage import FakeUpstage
from tests.screens import Song, render

SONGS = [
    Song("밤편지", "아이유", album="Palette"),
    Song("Blinding Lights", "The Weeknd", album="After Hours", explicit=True),
    Song("사계 (Four Seasons)", "태연", album="Purpose"),
    Song("Ditto", "NewJeans", album="OMG"),
]


async def test_upstage_words_become_rows() -> None:
    screen = render("youtube_music", SONGS, theme="dark", seed=3)
    async with FakeUpstage(api_key="up_good") as fake:
        fake.answer = lambda data: [(b.text, b.x0, b.y0, b.x1, b.y1) for b in screen.words]
        provider = UpstageProvider("up_good", fake.base_url)
        try:
            result = await read_screenshot(screen.png(), provider=provider)
        finally:
            provider.close()
    assert result.provider == "upstage"
    got = [(match_key(r.title), match_key(r.artist or "")) for r in result.rows]
    assert got == [(match_key(r.shown_title), match_key(r.shown_artist)) for r in screen.rows]
    assert len(got) == 4
    call = fake.calls[0]
    assert call.authorized and call.model == "ocr"
    assert call.filename == "screenshot.png" and call.content_type == "image/png"


async def test_a_bad_key_is_a_clear_refusal() -> None:
    screen = render("spotify", SONGS[:2], seed=3)
    async with FakeUpstage(api_key="up_good") as fake:
        provider = UpstageProvider("up_wrong", fake.base_url)
        with pytest.raises(ProviderUnavailable) as err:
            await read_screenshot(screen.png(), provider=provider)
        provider.close()
    assert err.value.key == "ocr_unavailable" and "401" in str(err.value)
    assert fake.calls and not fake.calls[0].authorized


async def test_unreachable_service_is_a_clear_refusal() -> None:
    provider = UpstageProvider("up_good", "http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(ProviderUnavailable) as err:
        await read_screenshot(render("flo", SONGS[:2]).png(), provider=provider)
    assert "unreachable" in str(err.value)


async def test_input_limits_apply_before_upload() -> None:
    async with FakeUpstage() as fake:
        provider = UpstageProvider(fake.api_key, fake.base_url)
        with pytest.raises(FileTooLarge):
            await read_screenshot(b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024), provider=provider)
        provider.close()
    assert fake.calls == []


def test_a_missing_key_is_refused_at_selection() -> None:
    with pytest.raises(ProviderUnavailable):
        get_provider("upstage", api_key=None)


def test_relative_vertices_are_scaled_to_pixels() -> None:
    doc = {
        "pages": [
            {
                "words": [
                    {
                        "text": "Ditto",
                        "confidence": 0.9,
                        "boundingBox": {
                            "vertices": [
                                {"x": 0.1, "y": 0.2},
                                {"x": 0.3, "y": 0.2},
                                {"x": 0.3, "y": 0.25},
                                {"x": 0.1, "y": 0.25},
                            ]
                        },
                    }
                ]
            }
        ]
    }
    (word,) = parse_response(doc, (1000, 2000))
    assert (word.text, word.x0, word.y0, word.x1, word.y1) == ("Ditto", 100, 400, 300, 500)
