"""Dots found in the pixels (core/ocr/marks.py): the artist/album separator and a final
ellipsis, drawn with real fonts at phone and Telegram sizes, and what must not count."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.ocr.marks import find_marks
from core.ocr.tesseract import _ink
from tests.screens import font


def line_ink(text: str, size: int, face: str = "noto") -> tuple[np.ndarray, int]:
    """Ink mask of one text line drawn dark on white, and its line height."""
    fnt = font(face, size)
    x0, y0, x1, y1 = fnt.getbbox(text)
    pad = size // 3
    img = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=fnt, fill=30)
    return _ink(np.asarray(img)), (y1 - y0) + 2 * pad // 2


@pytest.mark.parametrize("size", [36, 20])
@pytest.mark.parametrize(
    "text", ["Peggy Lee • 앨범 1집", "John Coltrane · Palette", "버스커 버스커 · Blue Hour"]
)
def test_a_separator_dot_is_found_between_artist_and_album(text: str, size: int) -> None:
    ink, h = line_ink(text, size)
    marks = find_marks(ink, h)
    assert [m.text for m in marks] == ["•"]


@pytest.mark.parametrize("size", [42, 24])
@pytest.mark.parametrize("face", ["noto", "nanum"])
def test_a_final_ellipsis_is_found_on_the_baseline_or_mid_height(face: str, size: int) -> None:
    ink, h = line_ink("Eine kleine Nachtmusik, K.…", size, face)
    marks = find_marks(ink, h)
    assert [m.text for m in marks] == ["…"]


@pytest.mark.parametrize(
    "text",
    ["Mr. Lawrence", "Jesu, Joy of Man's Desiring", "10:30 a.m.", "Quelqu'un m'a dit", "꽃송이가"],
)
def test_full_stops_colons_commas_and_i_dots_are_not_marks(text: str) -> None:
    ink, h = line_ink(text, 36)
    assert find_marks(ink, h) == []
