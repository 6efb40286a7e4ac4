"""Local OCR: Tesseract (Korean + English LSTM models from Debian's tesseract-ocr packages)
through tesserocr, in two modes.

- "boxes" (default): the detector finds text lines, each line is cropped from the full-size
  page, made dark-on-light, scaled to the height Tesseract reads best and read as one line
  (PSM 7) by one of two engines working in parallel threads (tesserocr releases the GIL).
  This finds the small grey artist lines and dark-theme rows that page segmentation misses.
- "page": Tesseract's own page segmentation (PSM 11, sparse text) on the whole page, kept as
  a fallback and for the benchmark comparison.
"""

from __future__ import annotations

import os

# OpenMP inside Tesseract spins threads per call and is several times slower on 2 cores;
# parallelism comes from our own engine pool instead. Set before tesserocr loads libtesseract.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import queue
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from core.ocr import tuning
from core.ocr.base import ProviderUnavailable, WordBox
from core.ocr.detector import TextBox, get_detector
from core.ocr.marks import find_marks
from core.ocr.preprocess import dark_text_on_light, open_image, page_for_tesseract, to_grey

TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)


def tessdata_dir() -> str:
    """Where kor/eng traineddata live. The tesserocr wheel bundles its own libtesseract but no
    models, so the Debian models are found here (or through TESSDATA_PREFIX)."""
    candidates = [os.environ.get("TESSDATA_PREFIX", ""), *TESSDATA_DIRS]
    for folder in candidates:
        if folder and all(
            (Path(folder) / f"{lang}.traineddata").exists()
            for lang in tuning.TESSERACT_LANGS.split("+")
        ):
            return folder
    raise ProviderUnavailable(
        "Tesseract models kor/eng not found: run scripts/system-deps.sh "
        "(tesseract-ocr-kor, tesseract-ocr-eng)"
    )


class EnginePool:
    """`size` Tesseract engines, each used by one thread at a time."""

    def __init__(self, size: int, psm: int, langs: str = tuning.TESSERACT_LANGS) -> None:
        try:
            import tesserocr
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise ProviderUnavailable(f"tesserocr is not installed: {exc}") from None
        self._tesserocr = tesserocr
        path = tessdata_dir()
        self._free: queue.Queue = queue.Queue()
        for _ in range(size):
            api = tesserocr.PyTessBaseAPI(
                path=path, lang=langs, psm=psm, oem=tesserocr.OEM.LSTM_ONLY
            )
            self._free.put(api)
        self.size = size

    @contextmanager
    def engine(self) -> Iterator:
        api = self._free.get()
        try:
            yield api
        finally:
            self._free.put(api)

    def words(self, api, img: Image.Image) -> list[tuple[str, float, tuple[int, int, int, int]]]:
        """(text, confidence 0..1, (x0, y0, x1, y1)) of every word in `img`."""
        tess = self._tesserocr
        api.SetImage(img)
        api.SetSourceResolution(tuning.SOURCE_DPI)
        api.Recognize()
        out = []
        it = api.GetIterator()
        level = tess.RIL.WORD
        if it is None:
            return out
        for word in tess.iterate_level(it, level):
            try:
                text = word.GetUTF8Text(level)
            except RuntimeError:  # an empty word (tesserocr raises instead of returning "")
                continue
            if not text or not text.strip():
                continue
            box = word.BoundingBox(level)
            if box is None:
                continue
            out.append((text.strip(), word.Confidence(level) / 100.0, box))
        return out


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
Found = list[tuple[str, float, tuple[int, int, int, int]]]


def _over(box: tuple[int, int, int, int], words: Found) -> Found:
    """The words of another reading over `box`: overlapping it horizontally by more than half
    of the narrower of the two."""
    return [
        item
        for item in words
        if min(box[2], item[2][2]) - max(box[0], item[2][0])
        > 0.5 * min(box[2] - box[0], item[2][2] - item[2][0])
    ]


def _replace_unsure(first: Found, second: Found, hangul_only: bool = False) -> Found:
    """Each unsure word of the first reading replaced by the second reading's words over
    the same span, when those are surer. With `hangul_only` (the Korean model's second
    opinion) only a Hangul reading replaces: that model reads Latin letters as digits."""
    out: Found = []
    for text, conf, box in first:
        if conf >= tuning.RETRY_BELOW_CONFIDENCE:
            out.append((text, conf, box))
            continue
        over = _over(box, second)
        # Confidence is not comparable across models; an unsure non-Hangul word that the
        # Korean model reads as Hangul was Hangul misread as Latin letters.
        hangul = any(_HANGUL.search(t) for t, _, _ in over) and not _HANGUL.search(text)
        if _HANGUL.search(text):
            out.append((text, conf, box))  # a Hangul reading is only replaced by Hangul
            continue
        if hangul_only and not any(_HANGUL.search(t) for t, _, _ in over):
            out.append((text, conf, box))
        elif over and (hangul or min(c for _, c, _ in over) > conf):
            out += [item for item in over if item not in out]
        else:
            out.append((text, conf, box))
    return out


def _surety(found: Found) -> float:
    """How sure a line's reading is: its words' confidence weighted by their length."""
    chars = sum(len(t) for t, _, _ in found)
    return sum(c * len(t) for t, c, _ in found) / max(1, chars)


# A token kor+eng makes of Hangul it read with the English model: two to five capitals or
# digits ("HAA", "OS", "1004").
_LOOKALIKE = re.compile(r"^[A-Z0-9]{2,5}$")


def _hangul_chars(found: Found) -> int:
    return sum(len(_HANGUL.findall(t)) for t, _, _ in found)


def _better(alt: Found, first: Found, unsure: bool) -> bool:
    """Whether a second reading of a line beats the first."""
    if unsure and _surety(alt) > _surety(first):
        return True
    more_hangul = _hangul_chars(alt) > _hangul_chars(first)
    return more_hangul and _surety(alt) >= _surety(first) - tuning.HANGUL_READING_SLACK


def _replace_lookalikes(first: Found, alt: Found, ratio: float) -> Found:
    """Each lookalike token of the first reading replaced by the second reading's words over
    its span when those are Hangul read surely (`ratio` maps the second reading's pixels
    onto the first's)."""
    out: Found = []
    moved = [
        (t, c, (round(b[0] * ratio), round(b[1] * ratio), round(b[2] * ratio), round(b[3] * ratio)))
        for t, c, b in alt
    ]
    for text, conf, box in first:
        over = _over(box, moved)
        if (
            _LOOKALIKE.match(text)
            and over
            and all(_HANGUL.search(t) for t, _, _ in over)
            and min(c for _, c, _ in over) >= tuning.LOOKALIKE_HANGUL_CONFIDENCE
        ):
            out += [item for item in over if item not in out]
        else:
            out.append((text, conf, box))
    return out


# A run of digits kor+eng may have made of a Latin word with the Korean model ("ABBA" ->
# "4684", "Bach" -> "88071", "The" -> "116"), most often on lines that also hold Hangul.
_DIGIT_RUN = re.compile(r"^\d{3,}$")
_LATIN = re.compile(r"[A-Za-z]")


def _replace_digit_runs(first: Found, latin: Found) -> Found:
    """Each digit run of the first reading replaced by the English model's words over its
    span when those have letters. Real numbers ("2002", "1004") stay: the English model
    reads digits as digits. Its confidence on such lines is low even when right ("ABBA" at
    0.05), so the words keep the first reading's confidence that a word is there."""
    out: Found = []
    for text, conf, box in first:
        over = _over(box, latin)
        if _DIGIT_RUN.match(text) and any(_LATIN.search(t) for t, _, _ in over):
            out += [(t, max(c, conf), b) for t, c, b in over if (t, max(c, conf), b) not in out]
        else:
            out.append((text, conf, box))
    return out


# Symbols no title word holds inside or after letters: kor+eng's reading of a Hangul
# syllable it took for Latin on a Hangul line ("책" -> "AD}", "나뭇잎" -> "L}29!", "쁨" -> "#2").
_GARBLED = re.compile(r"[{}|#$%^*<>\\\[\]~!@]")


def _replace_garbled(first: Found, second: Found) -> Found:
    """Each garbled token of the first reading replaced by the Korean model's Hangul over its
    span (only Hangul: that model reads Latin letters as digits)."""
    out: Found = []
    for text, conf, box in first:
        over = _over(box, second)
        if (
            _GARBLED.search(text)
            and not _HANGUL.search(text)
            and over
            and all(_HANGUL.search(t) for t, _, _ in over)
        ):
            out += [item for item in over if item not in out]
        else:
            out.append((text, conf, box))
    return out


def _scaled(crop: np.ndarray, scale: float) -> Image.Image:
    pil = Image.fromarray(crop)
    if abs(scale - 1) <= 0.05:
        return pil
    return pil.resize(
        (max(1, round(pil.width * scale)), max(1, round(pil.height * scale))),
        Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.LANCZOS,
    )


def _ink(crop: np.ndarray) -> np.ndarray:
    """Boolean text mask of a dark-on-light crop (Otsu threshold)."""
    _, mask = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask > 0


def split_merged_lines(grey: np.ndarray, boxes: list[TextBox]) -> list[TextBox]:
    """Splits boxes that hold two text lines (a title and an artist set a few pixels apart
    can merge at the detector's scale) at the empty band between them. A single line has
    glyph bodies across its middle, so it never has such a band."""
    if not boxes:
        return boxes
    typical = float(np.median([b.y1 - b.y0 for b in boxes]))
    out: list[TextBox] = []
    for b in boxes:
        h = b.y1 - b.y0
        if h < tuning.MERGED_LINE_MIN_HEIGHT * typical or b.x1 - b.x0 < h:
            out.append(b)
            continue
        rows = _ink(dark_text_on_light(grey[b.y0 : b.y1, b.x0 : b.x1])).sum(axis=1)
        lo, hi = int(h * 0.3), int(h * 0.7)
        band = np.flatnonzero(rows[lo:hi] <= tuning.MERGED_LINE_EMPTY_ROW * max(1, rows.max()))
        if band.size == 0:
            out.append(b)
            continue
        cut = b.y0 + lo + int(np.median(band))
        out += [TextBox(b.x0, b.y0, b.x1, cut, b.score), TextBox(b.x0, cut, b.x1, b.y1, b.score)]
    return out


def _badge_boxes(
    mask: np.ndarray, line_height: int, min_fill: float, max_w: float
) -> Iterator[tuple[int, int, int, int]]:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    width = mask.shape[1]
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        # A shape cut by the crop's side is the edge of a cover or badge beside the text
        # (the crop is padded, so glyphs do not reach its sides).
        if x == 0 or x + w >= width:
            if h >= tuning.SIDE_SHAPE_MIN_HEIGHT * line_height:
                yield x, y, w, h
            continue
        if not 0.75 * h <= w <= max_w * h:
            continue
        fill = area / (w * h)
        if (h >= tuning.BADGE_MIN_HEIGHT * line_height and fill >= min_fill) or (
            h >= tuning.SMALL_BADGE_MIN_HEIGHT * line_height
            and fill >= max(min_fill, tuning.SMALL_BADGE_MIN_FILL)
        ):
            yield x, y, w, h


def erase_badges(
    crop: np.ndarray, line_height: int, chroma: np.ndarray | None = None
) -> np.ndarray:
    """Paints over badges ("E" boxes, round "19" marks, MV tags) whose knocked-out letters
    Tesseract would read as noise glued to the title: solid shapes about as tall as the
    text (glyphs are strokes, so even bold ones fill far less of their box), and round
    coloured marks (app text is grey, rating marks are red)."""
    found = list(_badge_boxes(_ink(crop), line_height, tuning.BADGE_MIN_FILL, 3.5))
    if chroma is not None:
        coloured = (chroma > tuning.BADGE_MIN_CHROMA).astype(np.uint8)
        # Close the cuts the knocked-out digits make, so the mark is one shape.
        k = max(3, line_height // 5)
        coloured = cv2.morphologyEx(coloured, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        found += list(_badge_boxes(coloured, line_height, 0.45, 1.6))
    if not found:
        return crop
    out = crop.copy()
    for x, y, w, h in found:
        out[y : y + h, x : x + w] = 255
    return out


def vertical_room(boxes: list[TextBox]) -> list[tuple[int, int]]:
    """For each box, the rows its crop may use without entering another line that shares
    its columns: halfway into the gap between them, or halfway through their overlap (a
    title's box often reaches into the artist line right under it)."""
    out = []
    for b in boxes:
        top, bottom = 0, 1 << 30
        mid = (b.y0 + b.y1) // 2
        for o in boxes:
            if o is b or o.x1 <= b.x0 or o.x0 >= b.x1:
                continue
            if o.y0 < b.y0 and o.y1 <= mid:
                top = max(top, (o.y1 + b.y0) // 2)
            elif o.y1 > b.y1 and o.y0 >= mid:
                bottom = min(bottom, (o.y0 + b.y1) // 2)
        out.append((top, bottom))
    return out


class TesseractProvider:
    """Local OCR provider; thread-safe, models loaded once (construct it once per process)."""

    def __init__(self, mode: str = "boxes", threads: int = tuning.OCR_THREADS) -> None:
        if mode not in ("boxes", "page"):
            raise ValueError(f"unknown tesseract mode {mode!r}")
        self.mode = mode
        self.name = "tesseract" if mode == "boxes" else "tesseract-page"
        psm = 7 if mode == "boxes" else 11
        self._pool = EnginePool(threads if mode == "boxes" else 1, psm)
        # Second opinion for lines the bilingual engine is unsure of: kor+eng sometimes
        # picks English for a Hangul line ("방탄소년단" -> "Beta Er" at 0% confidence).
        self._retry = (
            EnginePool(self._pool.size, psm, tuning.RETRY_LANGS) if mode == "boxes" else None
        )
        # ... and with English alone for unsure Latin words (mixed lines make kor+eng read
        # "Passenger" with the Korean model).
        self._retry_latin = (
            EnginePool(self._pool.size, psm, tuning.RETRY_LATIN_LANGS) if mode == "boxes" else None
        )
        self._threads = ThreadPoolExecutor(max_workers=self._pool.size, thread_name_prefix="tess")
        self._detector = get_detector() if mode == "boxes" else None
        self._lock = threading.Lock()

    def read(self, data: bytes) -> list[WordBox]:
        img = open_image(data)
        if self.mode == "page":
            return self._read_page(img)
        return self.read_lines(img)

    def read_lines(self, img: Image.Image) -> list[WordBox]:
        assert self._detector is not None
        rgb = np.asarray(img)
        boxes = self._detector.detect(rgb)
        grey = to_grey(img)
        # Colourfulness per pixel: app text is neutral, rating badges are coloured.
        chroma = (rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)).astype(np.uint8)
        boxes = split_merged_lines(grey, boxes)
        limits = vertical_room(boxes)
        # Wide boxes first so both engines finish together.
        order = sorted(range(len(boxes)), key=lambda i: -(boxes[i].x1 - boxes[i].x0))
        results = self._threads.map(
            lambda i: self._read_box(grey, chroma, boxes[i], limits[i]), order
        )
        words = [w for group in results for w in group]
        words.sort(key=lambda w: (w.y0, w.x0))
        return words

    def _read_box(
        self, grey: np.ndarray, chroma: np.ndarray, box: TextBox, room: tuple[int, int]
    ) -> list[WordBox]:
        h, w = grey.shape
        bh = box.y1 - box.y0
        pad = max(2, round(bh * tuning.LINE_PAD_FRACTION))
        x0, x1 = max(0, box.x0 - pad), min(w, box.x1 + pad)
        # Padding stops halfway to the next line: a title and its artist line are often only
        # a few pixels apart, and a crop reaching into the other line makes Tesseract read
        # both as one.
        y0, y1 = max(0, box.y0 - pad, room[0]), min(h, box.y1 + pad, room[1])
        crop = grey[y0:y1, x0:x1]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            return []
        hue = chroma[y0:y1, x0:x1]
        border = np.concatenate([hue[0], hue[-1], hue[:, 0], hue[:, -1]])
        if float(np.median(border)) > tuning.BADGE_MIN_CHROMA:
            # Text on a coloured ground is a badge or an accent button, never a song.
            return []
        inner = chroma[box.y0 : box.y1, box.x0 : box.x1]
        if inner.size and (inner > tuning.BADGE_MIN_CHROMA).mean() > tuning.COLOURED_BOX_SHARE:
            # A box filled with colour is a rating mark or an icon found on its own (text,
            # even coloured text of a playing song, is strokes: well under half its box).
            return []
        crop = erase_badges(dark_text_on_light(crop), bh, hue)
        # Separator dots and a final ellipsis are found in the pixels and read as marks:
        # Tesseract glues them to the words beside them ("Lee»", "K.-::").
        marks = find_marks(_ink(crop), bh)
        if marks:
            crop = crop.copy()
            for m in marks:
                crop[max(0, m.y0 - 1) : m.y1 + 1, max(0, m.x0 - 1) : m.x1 + 1] = 255
        scale = tuning.LINE_HEIGHT_PX / max(1, bh)
        pil = _scaled(crop, scale)
        with self._pool.engine() as api:
            found = self._pool.words(api, pil)
            base = scale
            for factor in tuning.EMPTY_RETRY_SCALES:
                if found:
                    break
                # Tesseract occasionally finds no line at all in a clean crop at one exact
                # size (short Hangul lines most) and reads it at another; empty lines are
                # rare, so a few more sizes are cheap.
                scale = base * factor
                pil = _scaled(crop, scale)
                found = self._pool.words(api, pil)
            unsure = bool(found) and _surety(found) < tuning.RETRY_BELOW_CONFIDENCE
            if unsure or any(_LOOKALIKE.match(t) for t, _, _ in found):
                # An unsure line, or one with a short capitals token (how kor+eng misreads
                # Hangul: "버스커" as "HAA", "오후" as "OS", "새소년" as "MAM"), read at another
                # size often comes out right: an unsure line takes the surer reading, the
                # other only a reading with more Hangul about as sure.
                alt_scale = scale * tuning.UNSURE_RETRY_SCALE
                alt_pil = _scaled(crop, alt_scale)
                alt = self._pool.words(api, alt_pil)
                if alt and _better(alt, found, unsure):
                    found, scale, pil = alt, alt_scale, alt_pil
                elif alt:
                    found = _replace_lookalikes(found, alt, scale / alt_scale)
        garbled = _hangul_chars(found) > 0 and any(_GARBLED.search(t) for t, _, _ in found)
        if self._retry is not None and (
            garbled or any(c < tuning.RETRY_BELOW_CONFIDENCE for _, c, _ in found)
        ):
            with self._retry.engine() as api:
                second = self._retry.words(api, pil)
            found = _replace_garbled(_replace_unsure(found, second, hangul_only=True), second)
        if self._retry_latin is not None and any(
            (c < tuning.RETRY_BELOW_CONFIDENCE and not _HANGUL.search(t)) or _DIGIT_RUN.match(t)
            for t, c, _ in found
        ):
            with self._retry_latin.engine() as api:
                latin = self._retry_latin.words(api, pil)
            found = _replace_digit_runs(_replace_unsure(found, latin), latin)
        # Tesseract's box of a lone Hangul syllable often spans the whole padded crop; the
        # detected line is the truer height (it decides what pairs as a title's artist).
        words = [
            WordBox(
                text,
                conf,
                x0 + round(bx0 / scale),
                max(box.y0, min(box.y1 - 1, y0 + round(by0 / scale))),
                x0 + round(bx1 / scale),
                min(box.y1, max(box.y0 + 1, y0 + round(by1 / scale))),
            )
            for text, conf, (bx0, by0, bx1, by1) in found
        ]
        if words:
            # A mark stands as tall as the line's words, so it groups and splits with them.
            top = min(w.y0 for w in words)
            bottom = max(w.y1 for w in words)
            words += [
                WordBox(m.text, tuning.MARK_CONFIDENCE, x0 + m.x0, top, x0 + m.x1, bottom)
                for m in marks
            ]
        return words

    def _read_page(self, img: Image.Image) -> list[WordBox]:
        page, scale = page_for_tesseract(img)
        with self._pool.engine() as api:
            found = self._pool.words(api, Image.fromarray(page))
        return [
            WordBox(
                text,
                conf,
                round(bx0 / scale),
                round(by0 / scale),
                round(bx1 / scale),
                round(by1 / scale),
            )
            for text, conf, (bx0, by0, bx1, by1) in found
        ]
