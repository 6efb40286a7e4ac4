"""Dots Tesseract reads badly, found in the pixels instead: the "•" / "·" between an artist
and an album, and the "…" at the end of a cut title.

Both are tiny round blobs of ink, so OCR turns them into whatever is near ("Lee»", "0]",
"K.-::") or glues them to the next word, and the row parser then cannot split the artist
line or see the cut. They are easy to tell apart geometrically, whatever the font or app:

- a separator dot floats at mid-height of the glyphs beside it, with space on both sides;
- an ellipsis is three equal dots in a row on the glyphs' baseline at the end of the line.

Found marks are erased from the crop before it is read (so the words next to them read
cleanly) and come back as their own words ("•", "…") in their place.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import cv2
import numpy as np

from core.ocr import tuning


@dataclass(frozen=True, slots=True)
class Mark:
    """A separator ("•") or an ellipsis ("…") in crop pixels (x1/y1 exclusive)."""

    text: str
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True, slots=True)
class _Blob:
    x0: int
    y0: int
    x1: int
    y1: int
    area: int

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def _blobs(mask: np.ndarray) -> list[_Blob]:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = [
        _Blob(int(x), int(y), int(x + w), int(y + h), int(a))
        for x, y, w, h, a in (stats[i] for i in range(1, n))
    ]
    out.sort(key=lambda b: b.x0)
    return out


def _is_dot(b: _Blob, text_h: float) -> bool:
    """Small, about as wide as tall, and solid (a comma or a stroke fragment is longer or
    hollow)."""
    size = max(b.w, b.h)
    if size > tuning.DOT_MAX_SIZE * text_h or b.area < tuning.DOT_MIN_AREA:
        return False
    if not 0.6 * b.h <= b.w <= 1.7 * b.h:
        return False
    return b.area >= tuning.DOT_MIN_FILL * b.w * b.h


def _isolated(b: _Blob, blobs: list[_Blob], gap: float) -> bool:
    """No other ink above or below it (an i's dot, a colon's other half, a jamo's tick),
    and none closer than `gap` at either side."""
    return not any(o is not b and o.x0 < b.x1 + gap and o.x1 > b.x0 - gap for o in blobs)


def _ellipsis(dots: list[_Blob], glyphs: list[_Blob]) -> list[_Blob]:
    """The last three dots when they are one ellipsis: equal, level, evenly and closely
    spaced, with no glyph after them. Fonts set it on the baseline or (CJK fonts) at
    mid-height, so the height is not checked."""
    if len(dots) < 3:
        return []
    a, b, c = dots[-3:]
    step1, step2 = b.x0 - a.x0, c.x0 - b.x0
    size = max(a.w, a.h, b.w, b.h, c.w, c.h)
    level = max(abs(a.cy - b.cy), abs(b.cy - c.cy)) <= max(1.5, 0.3 * size)
    even = abs(step1 - step2) <= max(1.5, 0.3 * max(step1, step2))
    close = 0 < step1 <= tuning.ELLIPSIS_MAX_STEP * size
    alike = max(a.area, b.area, c.area) <= 2.5 * min(a.area, b.area, c.area)
    last = not any(g.x0 >= c.x1 for g in glyphs)
    return [a, b, c] if level and even and close and alike and last else []


def find_marks(ink: np.ndarray, text_h: float) -> list[Mark]:
    """Separator dots and a final ellipsis in a line's ink mask (True = ink), left to right.
    `text_h` is the height of the line's text in the same pixels."""
    blobs = _blobs(ink)
    rows = ink.shape[0]
    # Glyphs of this line; ink cut by the crop's top or bottom is the next line's edge.
    glyphs = [
        b for b in blobs if b.h >= tuning.DOT_GLYPH_MIN_HEIGHT * text_h and b.y0 > 0 and b.y1 < rows
    ]
    if len(glyphs) < 2:
        return []
    # Most glyphs stand on the baseline (descenders are few), so the median bottom is it.
    baseline = statistics.median(g.y1 for g in glyphs)
    top = statistics.median(g.y0 for g in glyphs)
    body = max(1.0, baseline - top)
    reach = tuning.DOT_NEIGHBOUR_REACH * text_h
    # Any piece of a letter (a Hangul syllable is often several) counts as a neighbour.
    pieces = [
        b
        for b in blobs
        if max(b.w, b.h) >= tuning.DOT_PIECE_MIN_SIZE * text_h and not _is_dot(b, text_h)
    ]
    dots = [
        b
        for b in blobs
        if _is_dot(b, text_h)
        and top - 0.1 * body <= b.cy <= baseline + 0.1 * body
        and any(0 <= b.x0 - g.x1 <= reach for g in pieces)
    ]
    marks: list[Mark] = []
    ell = _ellipsis(dots, pieces)
    if ell:
        a, _, c = ell
        marks.append(Mark("…", a.x0, min(d.y0 for d in ell), c.x1, max(d.y1 for d in ell)))
    gap = tuning.DOT_SIDE_GAP * text_h
    for b in dots:
        if b in ell:
            continue
        rise = (baseline - b.cy) / body
        between = any(0 <= g.x0 - b.x1 <= reach for g in pieces)
        # A full stop follows its word closely; a dot with a word space on both sides is a
        # separator even where a small JPEG has blurred it down towards the baseline.
        spaced = rise >= 0 and _isolated(b, blobs, tuning.DOT_SPACED_GAP * text_h)
        mid = tuning.DOT_MID_RISE_MIN <= rise <= tuning.DOT_MID_RISE_MAX
        if between and (spaced or mid) and _isolated(b, blobs, gap):
            marks.append(Mark("•", b.x0, b.y0, b.x1, b.y1))
    marks.sort(key=lambda m: m.x0)
    return marks
