"""From word boxes to song rows: lines, segments, noise, the song column, title/artist pairs.

Provider-agnostic: it sees only `WordBox`es, so Tesseract and Upstage output are parsed the
same way. The steps, each a function so the tests can pin them down:

1. `group_lines`: words on the same visual line (vertical overlap with the line's widest
   word, so a tall rank number beside two text lines cannot glue them together).
2. `split_segments`: a line breaks at gaps wider than `SEGMENT_GAP` line heights, which
   separates right-aligned durations, icons and rank numbers from the text.
3. `clean_segment`: badges at either end ("E", "19", "MV") removed; chrome, menu words,
   durations and ranks dropped (`stopwords`).
4. `pair_lines`: a line with a smaller line right under it is a title with its artist.
5. `dominant_column`: rows share one left edge (after the cover thumbnail); headers, mini
   players and buttons sit elsewhere and are dropped.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.normalize import is_truncated, strip_ellipsis
from core.ocr import tuning
from core.ocr.base import WordBox
from core.ocr.stopwords import (
    ARTIST_DETAIL_SEPARATORS,
    is_badge,
    is_menu,
    is_noise,
    is_shaped_noise,
    is_word_badge,
)

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_JAMO = re.compile(r"[\u1100-\u11ff\u3131-\u318e]")
# Ellipsis forms OCR produces for "…" at the end of a cut title.
_ELLIPSIS_TAIL = re.compile(r"\s*(…|\.{2,}|·{2,}|,{2,}|\.,|,\.)\s*$")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of words on one line, without large gaps."""

    words: tuple[WordBox, ...]

    @property
    def x0(self) -> int:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> int:
        return max(w.x1 for w in self.words)

    @property
    def y0(self) -> int:
        return int(statistics.median(w.y0 for w in self.words))

    @property
    def y1(self) -> int:
        return int(statistics.median(w.y1 for w in self.words))

    @property
    def height(self) -> int:
        return max(1, self.y1 - self.y0)

    @property
    def confidence(self) -> float:
        return min(w.confidence for w in self.words)

    @property
    def text(self) -> str:
        return join_words(self.words)


@dataclass(frozen=True, slots=True)
class ParsedRow:
    title: str
    artist: str | None
    truncated: bool
    confidence: float
    # Where the row's title sits (page pixels), so a chat can show rows in screen order.
    y: int = 0


def _same_word(prev: WordBox, w: WordBox) -> bool:
    """Two Hangul pieces Tesseract split inside one word (they touch when displayed)."""
    h = max(1, min(prev.height, w.height))
    tight = w.x0 - prev.x1 < tuning.HANGUL_JOIN_GAP * h
    return tight and bool(_HANGUL.search(prev.text[-1:])) and bool(_HANGUL.search(w.text[:1]))


def join_words(words: Sequence[WordBox]) -> str:
    """Words joined by spaces, except Hangul pieces Tesseract split inside one word (it
    reads "밤편지" as "밤 편 지" when syllables are evenly spaced): those touch."""
    out = ""
    prev: WordBox | None = None
    for w in words:
        if prev is None:
            out = w.text
        else:
            out += ("" if _same_word(prev, w) else " ") + w.text
        prev = w
    return out.strip()


def group_lines(words: Sequence[WordBox]) -> list[list[WordBox]]:
    """Words grouped into visual lines, top to bottom, each left to right."""
    lines: list[list[WordBox]] = []
    anchors: list[WordBox] = []  # the widest word of each line sets its vertical band
    for w in sorted(words, key=lambda b: (b.cy, b.x0)):
        best, best_overlap = -1, 0.0
        # Only recent lines can overlap; words arrive in vertical order.
        for i in range(max(0, len(lines) - 6), len(lines)):
            a = anchors[i]
            overlap = min(a.y1, w.y1) - max(a.y0, w.y0)
            ratio = overlap / max(1, min(a.height, w.height))
            if ratio >= tuning.LINE_OVERLAP and ratio > best_overlap:
                best, best_overlap = i, ratio
        if best < 0:
            lines.append([w])
            anchors.append(w)
        else:
            lines[best].append(w)
            if (w.x1 - w.x0) > (anchors[best].x1 - anchors[best].x0):
                anchors[best] = w
    for line in lines:
        line.sort(key=lambda b: b.x0)
    lines.sort(key=lambda ln: statistics.median(b.cy for b in ln))
    return lines


def split_segments(line: Sequence[WordBox]) -> list[Segment]:
    if not line:
        return []
    h = statistics.median(w.height for w in line)
    segments: list[list[WordBox]] = [[line[0]]]
    right = line[0].x1  # the segment's right edge: a word may end inside the one before it
    for w in line[1:]:
        if w.x0 - right > tuning.SEGMENT_GAP * h:
            segments.append([w])
            right = w.x1
        else:
            segments[-1].append(w)
            right = max(right, w.x1)
    return [Segment(tuple(s)) for s in segments]


# The round "19" rating badge as OCR reads it: "19]", "(19", "19}", "l9)".
_RATING_BADGE = re.compile(r"^[\[\(\{|<]?[01lI|6]?[1lI|6][9g][\]\)\}|>]?\)?$")


def _junk(token: str) -> bool:
    """A token that cannot start or end a title: a badge, or symbols only (an icon read as
    '|' or '©')."""
    t = token.strip()
    if len(t) == 1 and _JAMO.match(t):  # a lone jamo is a cover edge or icon, never a word
        return True
    return is_badge(t) or bool(_RATING_BADGE.match(t)) or not any(ch.isalnum() for ch in t)


def _weak(word: WordBox) -> bool:
    """A lone unsure letter at a line's end: the edge of a badge or cover read as a letter."""
    t = word.text.strip()
    return len(t) == 1 and not _HANGUL.search(t) and word.confidence < tuning.WEAK_LETTER_CONFIDENCE


def _small_tag(word: WordBox, others: Sequence[WordBox]) -> bool:
    """A one- or two-letter word set clearly smaller than the text beside it: the letters
    of a badge ("E", "19") however OCR read them."""
    if not others or _HANGUL.search(word.text):
        return False
    if len(word.text.strip()) > 2 and not is_word_badge(word.text):
        return False
    h = statistics.median(o.height for o in others)
    # A badge is smaller at the top too; a short word without descenders ("Be" before
    # "My Baby") is only shorter at the bottom.
    top = statistics.median(o.y0 for o in others)
    return word.height < tuning.BADGE_TEXT_RATIO * h and word.y0 > top + tuning.BADGE_TOP_DROP * h


# "l" before a consonant starts no Latin-script word ("lron", "lver", "lt's"): in sans-serif
# fonts it is the capital I, which looks the same.
_L_AS_I = re.compile(r"^l(?=[bcdfghjkmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ'’]|$)")


def _pipe_as_i(words: list[WordBox]) -> list[WordBox]:
    """OCR reads the capital I of "I Melt with You" as "|" or "l": a bar no taller than the
    Latin word it stands beside at about word spacing is that I (a separator or a cover
    edge stands further off and reaches below the baseline)."""
    out = list(words)
    latin_line = any(_LATIN.search(w.text) for w in out) and not any(
        _HANGUL.search(w.text) for w in out
    )
    for k, w in enumerate(out):
        if latin_line and _L_AS_I.match(w.text) and (len(w.text) > 1 or len(out) > 1):
            out[k] = replace(w, text="I" + w.text[1:])
            continue
        if not w.text.startswith("|") or any(ch.isalnum() for ch in w.text):
            continue
        for j in (k - 1, k + 1):
            if 0 <= j < len(out) and _LATIN.search(out[j].text):
                gap = out[j].x0 - w.x1 if j > k else w.x0 - out[j].x1
                if (
                    gap < tuning.PIPE_AS_I_GAP * max(w.height, out[j].height)
                    and w.height <= tuning.PIPE_AS_I_HEIGHT * out[j].height
                ):
                    out[k] = replace(w, text="I" + w.text[1:])
                    break
    return out


def _drop_shadowed(words: list[WordBox]) -> list[WordBox]:
    """Unsure words mostly inside a sure word's span: a second reading of the same ink (a
    badge remnant read as a syllable over the title's first letters). Only unsure ones:
    Tesseract's box of a Hangul syllable often spans its whole word."""
    out = []
    for w in words:
        width = max(1, w.x1 - w.x0)
        shadowed = w.confidence < tuning.MIN_WORD_CONFIDENCE and any(
            o is not w
            and o.confidence >= tuning.MIN_WORD_CONFIDENCE
            and min(o.x1, w.x1) - max(o.x0, w.x0) >= tuning.SHADOWED_WORD_OVERLAP * width
            for o in words
        )
        if not shadowed:
            out.append(w)
    return out


def _araea_as_dot(words: list[WordBox]) -> list[WordBox]:
    """A lone "ㆍ" (an archaic vowel no modern title uses) is a middle dot as OCR reads it:
    a separator in an artist line, punctuation in a title."""
    return [replace(w, text="•") if w.text.strip() == "ㆍ" else w for w in words]


def _unsure(word: WordBox) -> bool:
    return word.confidence < tuning.MIN_WORD_CONFIDENCE and not _HANGUL.search(word.text)


def clean_segment(seg: Segment) -> Segment | None:
    """The segment without badges at its ends, or None when it is noise."""
    cleaned, noise = _clean(seg)
    return None if noise else cleaned


def _clean(seg: Segment) -> tuple[Segment | None, bool]:
    """The segment without badges at its ends (None when nothing is left), and whether it
    looks like noise."""
    words = _pipe_as_i(_araea_as_dot(list(seg.words)))
    # Unsure words are icons or cover edges read as letters; those sit at a line's ends. A
    # word between two sure words is text read unsurely ("I'm" in "You Know I'm No Good").
    while len(words) > 1 and _unsure(words[0]):
        words.pop(0)
    while len(words) > 1 and _unsure(words[-1]):
        words.pop()
    if len(words) == 1 and _unsure(words[0]):
        words = []
    while len(words) > 1 and (
        _junk(words[0].text) or _small_tag(words[0], words[1:]) or _weak(words[0])
    ):
        words.pop(0)
    while (
        len(words) > 1
        and (_junk(words[-1].text) or _small_tag(words[-1], words[:-1]) or _weak(words[-1]))
        and not _ELLIPSIS_TAIL.search(words[-1].text)
    ):
        words.pop()
    if not words:
        return None, True
    cleaned = Segment(tuple(words))
    return cleaned, is_noise(cleaned.text)


@dataclass(frozen=True, slots=True)
class _Line:
    seg: Segment  # the line's text: its leftmost meaningful segment
    raw_x0: int  # left edge including any badge that was stripped
    # Shaped like noise ("11:11", "200%"): a title only with an artist line under it.
    noise: bool = False

    @property
    def height(self) -> int:
        return self.seg.height


def text_lines(words: Sequence[WordBox]) -> list[_Line]:
    """Every meaningful segment of every line, top to bottom. A line may hold several (a
    rank-change marker, then the title); the song column is chosen later."""
    out: list[_Line] = []
    for line in group_lines(words):
        segments = split_segments(_drop_shadowed(line))
        if any(
            is_menu(join_words([w for w in seg.words if not _junk(w.text)])) for seg in segments
        ):
            continue  # a button row or tab bar: whatever else it holds is chrome too
        for seg in segments:
            cleaned, noise = _clean(seg)
            if cleaned is not None and (not noise or is_shaped_noise(cleaned.text)):
                out.append(_Line(cleaned, seg.x0, noise))
    return out


def pair_lines(lines: Sequence[_Line]) -> list[tuple[_Line, _Line | None]]:
    """(title, artist) pairs: a line with a line closely under it, left-aligned with it and
    not clearly taller. Lines without such a partner stand alone."""
    order = sorted(range(len(lines)), key=lambda i: (lines[i].seg.y0, lines[i].raw_x0))
    used: set[int] = set()
    pairs: list[tuple[_Line, _Line | None]] = []
    for pos, i in enumerate(order):
        if i in used:
            continue
        top = lines[i]
        h = top.height
        best, best_dx = -1, float("inf")
        for j in order[pos + 1 :]:
            cand = lines[j]
            gap = cand.seg.y0 - top.seg.y1
            if gap > tuning.PAIR_GAP * h:
                break
            if j in used or gap < -0.3 * h:
                continue
            dx = abs(cand.raw_x0 - top.raw_x0)
            # A noise-shaped line heads a row only with an artist exactly under it (a
            # duration or rank number beside a row is off its text's left edge).
            reach = tuning.COLUMN_LEFT_TOLERANCE * h if top.noise else 3 * h
            if (
                not cand.noise
                and dx <= reach
                and cand.height <= tuning.ARTIST_MAX_HEIGHT_RATIO * h
                and dx < best_dx
            ):
                best, best_dx = j, dx
        if best >= 0:
            used.update((i, best))
            pairs.append((top, lines[best]))
        elif not top.noise:
            used.add(i)
            pairs.append((top, None))
    return pairs


def dominant_column(
    pairs: Sequence[tuple[_Line, _Line | None]],
) -> list[tuple[_Line, _Line | None]]:
    """The pairs whose title starts at the most common left edge. A stripped badge before
    a title may move its text right by up to two line heights, never left."""
    if not pairs:
        return []
    h = statistics.median(t.height for t, _ in pairs)
    left, right = tuning.COLUMN_LEFT_TOLERANCE * h, tuning.COLUMN_RIGHT_TOLERANCE * h

    def members(c: int, lo: float, hi: float) -> list[tuple[_Line, _Line | None]]:
        return [p for p in pairs if c - lo <= p[0].raw_x0 <= c + hi]

    # The column is the edge most rows start at exactly (complete title + artist rows count
    # double: a header or a mini player rarely has an artist line under it); rows pushed
    # right by a badge join it afterwards.
    def score(c: int) -> int:
        return sum(2 if a is not None else 1 for _, a in members(c, left, left))

    best = max(sorted({t.raw_x0 for t, _ in pairs}), key=score)
    return sorted(members(best, left, right), key=lambda p: p[0].seg.y0)


# A lone character before an artist is the explicit badge read as a letter ("E", "6", "B");
# an artist name does not start with a one-letter word (except the articles kept here).
_BADGE_PREFIX = re.compile(r"^(?![AaIi]$)[^\uac00-\ud7a3]$")
# A symbol standing alone between words of an artist line is the artist/album separator as
# OCR reads it ("•" comes back as "«", "-", ":", "ㆍ"...); "&" and "+" join artists.
_KEEP_SYMBOLS = frozenset("&+',.")


def _is_separator(token: str) -> bool:
    t = token.strip()
    return 0 < len(t) <= 2 and not any(ch.isalnum() for ch in t) and t not in _KEEP_SYMBOLS


def _initial(letter: WordBox, nxt: WordBox) -> bool:
    """A capital read surely, as tall as the word after it and a word space from it, is an
    initial of the name ("J Dilla"); a badge's letter is smaller or stands further off."""
    h = max(1, nxt.height)
    return (
        letter.text.isupper()
        and letter.confidence >= tuning.INITIAL_MIN_CONFIDENCE
        and abs(letter.height - nxt.height) <= tuning.INITIAL_HEIGHT_SLACK * h
        and abs(letter.y0 - nxt.y0) <= tuning.INITIAL_HEIGHT_SLACK * h
        and 0 <= nxt.x0 - letter.x1 <= tuning.ALBUM_GAP * h
    )


def split_artist(words: Sequence[WordBox]) -> str:
    """The artist of a row's second line: 'E Artist • Album' -> 'Artist'."""
    ws = list(words)
    if len(ws) > 1 and _BADGE_PREFIX.match(ws[0].text) and not _initial(ws[0], ws[1]):
        ws = ws[1:]
    for k in range(1, len(ws)):
        if _is_separator(ws[k].text):
            return join_words(ws[:k])
    text = join_words(ws)
    for sep in ARTIST_DETAIL_SEPARATORS:
        if sep in text:
            head = text.split(sep, 1)[0].strip()
            if head:
                return head
    # The separator was not read at all: it leaves a gap as wide as three spaces.
    # It must stand out from the other word gaps of the line, which Hangul spacing (and
    # Tesseract's syllable boxes) make uneven; so syllables Tesseract split apart are one
    # word here, as on screen ("장 기 하 와 얼 굴 들" is two words, not an artist and album).
    h = statistics.median(w.height for w in ws)
    starts = [0] + [k for k in range(1, len(ws)) if not _same_word(ws[k - 1], ws[k])]
    if len(starts) > 2:
        gaps = sorted(((ws[k].x0 - ws[k - 1].x1, k) for k in starts[1:]), reverse=True)
        (gap, k), rest = gaps[0], [g for g, _ in gaps[1:]]
        if gap > tuning.ALBUM_GAP * h and gap > 2 * max(1, statistics.median(rest)):
            return join_words(ws[:k])
    return text


def _title(text: str) -> tuple[str, bool]:
    text = text.strip()
    if _ELLIPSIS_TAIL.search(text) or is_truncated(text):
        return _ELLIPSIS_TAIL.sub("", strip_ellipsis(text)).strip(), True
    return text, False


def parse_rows(words: Sequence[WordBox]) -> list[ParsedRow]:
    """Song rows of a playlist screenshot, top to bottom."""
    lines = text_lines(words)
    rows: list[ParsedRow] = []
    for top, below in dominant_column(pair_lines(lines)):
        title, truncated = _title(top.seg.text)
        if not title:
            continue
        artist = None
        conf = top.seg.confidence
        if below is not None:
            artist_text = split_artist(below.seg.words)
            artist = _ELLIPSIS_TAIL.sub("", strip_ellipsis(artist_text)).strip() or None
            conf = min(conf, below.seg.confidence)
        rows.append(ParsedRow(title, artist, truncated, round(conf, 3), top.seg.y0))
    return rows
