"""Realistic playlist screenshots for the OCR tests and the benchmark set.

Each app style is a small layout description (row height, cover thumbnail, rank column,
right-aligned duration or icons, badges, second-line format, header, status and tab bars)
drawn with Pillow and the Debian CJK fonts (fonts-nanum, fonts-noto-cjk). The song rows come
from the caller, so the same renderer serves unit tests (a few chosen songs) and the
benchmark (real catalog songs plus invented ones). Every screenshot knows what it shows:
`Screen.rows` is the ground truth of the rows drawn, with the visible (possibly cut) text.

The styles are modelled on the real apps' layouts, not copied pixel by pixel; what matters is
that they differ from each other the way the apps do, so an engine tuned to one fails on
the next.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/truetype/nanum"), Path("/usr/share/fonts/opentype/noto"))
# (file, index in the collection); index 1 of the Noto CJK collections is the Korean face.
FONTS: dict[str, tuple[str, int]] = {
    "noto": ("NotoSansCJK-Regular.ttc", 1),
    "noto-bold": ("NotoSansCJK-Bold.ttc", 1),
    "nanum": ("NanumGothic.ttf", 0),
    "nanum-bold": ("NanumGothicBold.ttf", 0),
    "barun": ("NanumBarunGothic.ttf", 0),
    "barun-bold": ("NanumBarunGothicBold.ttf", 0),
    "square": ("NanumSquareR.ttf", 0),
    "square-bold": ("NanumSquareB.ttf", 0),
}
ELLIPSIS = "…"
TELEGRAM_LONG_SIDE = 1280


def _font_path(name: str) -> tuple[Path, int]:
    file, index = FONTS[name]
    for folder in FONT_DIRS:
        if (folder / file).exists():
            return folder / file, index
    raise FileNotFoundError(f"font {file} missing: run scripts/system-deps.sh")


_FONT_CACHE: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    key = (name, size)
    if key not in _FONT_CACHE:
        path, index = _font_path(name)
        _FONT_CACHE[key] = ImageFont.truetype(str(path), size, index=index)
        _FONT_NAMES[id(_FONT_CACHE[key])] = key
    return _FONT_CACHE[key]


_FONT_NAMES: dict[int, tuple[str, int]] = {}
_CMAPS: dict[str, frozenset[int]] = {}


def _cmap(name: str) -> frozenset[int]:
    if name not in _CMAPS:
        from fontTools.ttLib import TTFont

        path, index = _font_path(name)
        _CMAPS[name] = frozenset(TTFont(str(path), fontNumber=index).getBestCmap())
    return _CMAPS[name]


def covering(text: str, fnt: ImageFont.FreeTypeFont) -> ImageFont.FreeTypeFont:
    """The font a phone would draw `text` with: the app's own, or, when that lacks one of the
    characters (the Nanum faces have no é, ô, ä), Noto, which has them. Without this, such
    titles were drawn with empty boxes, which no real screenshot shows."""
    name, size = _FONT_NAMES.get(id(fnt), ("", 0))
    if not name or name.startswith("noto"):
        return fnt
    cmap = _cmap(name)
    if all(ord(c) in cmap for c in text if not c.isspace()):
        return fnt
    return font("noto-bold" if name.endswith("-bold") else "noto", size)


@dataclass(frozen=True)
class Song:
    title: str
    artist: str
    album: str = ""
    explicit: bool = False
    duration: str = "3:30"


@dataclass(frozen=True)
class Row:
    """One song row as drawn: the full song and the text actually visible."""

    title: str
    artist: str
    shown_title: str  # without the ellipsis
    shown_artist: str
    truncated: bool


@dataclass(frozen=True)
class TextBox:
    """A drawn word and its box in image pixels."""

    text: str
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass
class Screen:
    image: Image.Image
    rows: list[Row]
    style: str
    theme: str
    words: list[TextBox] = field(default_factory=list)

    def png(self) -> bytes:
        return to_png(self.image)

    def telegram_jpeg(self) -> bytes:
        return to_telegram_jpeg(self.image)


@dataclass(frozen=True)
class Palette:
    bg: str
    title: str
    sub: str
    accent: str
    line: str
    bar_bg: str


@dataclass(frozen=True)
class Style:
    """A layout in density-independent units (dp); `scale` turns them into pixels."""

    name: str
    width: int
    height: int
    scale: float
    dark: Palette
    light: Palette
    default_theme: str
    font: str
    font_bold: str
    margin: float = 16
    row_h: float = 64
    cover: float = 48  # 0: no thumbnail
    cover_radius: float = 4
    rank: bool = False
    rank_w: float = 32
    rank_change: bool = False  # "▲2" / "NEW" under the rank number (chart apps)
    checkbox: bool = False
    title_size: float = 16
    sub_size: float = 13.5
    line_gap: float = 4
    second: str = "artist"  # artist | artist_album
    album_sep: str = " • "
    explicit: str = "none"  # none | line2 (E box before artist) | title_after | title_before_19
    right: tuple[str, ...] = ("dots",)  # dots, play, duration, mv, heart, download
    separators: bool = False
    header: tuple[tuple[str, float, bool], ...] = ()
    buttons: tuple[str, ...] = ()
    tabs: tuple[str, ...] = ()
    android: bool = False
    mini_player: bool = False


def _pal(bg: str, title: str, sub: str, accent: str, line: str, bar: str) -> Palette:
    return Palette(bg, title, sub, accent, line, bar)


DARK_GREY = _pal("#121212", "#ffffff", "#b3b3b3", "#1ed760", "#2a2a2a", "#181818")
LIGHT_WHITE = _pal("#ffffff", "#111111", "#6a6a6a", "#1db954", "#e6e6e6", "#f7f7f7")

STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style(
            name="spotify",
            width=1080,
            height=2400,
            scale=2.625,
            dark=DARK_GREY,
            light=LIGHT_WHITE,
            default_theme="dark",
            font="noto",
            font_bold="noto-bold",
            row_h=64,
            cover=48,
            cover_radius=0,
            title_size=16,
            sub_size=14,
            explicit="line2",
            right=("dots",),
            header=(("Chill Vibes", 26, True), ("Made for you · 50 songs, 2 hr 48 min", 13, False)),
            buttons=("Shuffle", "Play"),
            tabs=("Home", "Search", "Your Library", "Premium"),
            android=True,
            mini_player=True,
        ),
        Style(
            name="melon",
            width=1080,
            height=2340,
            scale=2.625,
            dark=_pal("#161616", "#f2f2f2", "#9a9a9a", "#00cd3c", "#262626", "#1e1e1e"),
            light=_pal("#ffffff", "#1a1a1a", "#888888", "#00cd3c", "#ececec", "#fafafa"),
            default_theme="light",
            font="barun",
            font_bold="barun-bold",
            margin=12,
            row_h=68,
            cover=50,
            cover_radius=2,
            rank=True,
            rank_w=30,
            rank_change=True,
            checkbox=True,
            title_size=15.5,
            sub_size=13,
            explicit="title_before_19",
            right=("play", "dots"),
            header=(("멜론차트 TOP100", 20, True), ("2026.03.14 18:00 업데이트", 12, False)),
            buttons=("전체재생", "셔플", "담기"),
            tabs=("홈", "멜론차트", "검색", "보관함", "MY"),
            android=True,
        ),
        Style(
            name="genie",
            width=1080,
            height=2400,
            scale=2.625,
            dark=_pal("#101418", "#eeeeee", "#8d96a0", "#1ec0e6", "#20262c", "#171c21"),
            light=_pal("#ffffff", "#222222", "#7b8590", "#1ec0e6", "#eef0f2", "#f9f9f9"),
            default_theme="light",
            font="nanum",
            font_bold="nanum-bold",
            margin=14,
            row_h=72,
            cover=54,
            cover_radius=3,
            rank=True,
            rank_w=34,
            rank_change=True,
            title_size=16,
            sub_size=13,
            explicit="title_before_19",
            right=("mv", "dots"),
            separators=True,
            header=(("지니차트 TOP 200", 21, True),),
            buttons=("전체듣기", "선택듣기"),
            tabs=("투데이", "차트", "최신", "보관함", "검색"),
            android=True,
        ),
        Style(
            name="youtube_music",
            width=1080,
            height=2400,
            scale=2.625,
            dark=_pal("#030303", "#ffffff", "#aaaaaa", "#ff0000", "#1a1a1a", "#0f0f0f"),
            light=_pal("#ffffff", "#030303", "#606060", "#ff0000", "#eeeeee", "#f8f8f8"),
            default_theme="dark",
            font="noto",
            font_bold="noto-bold",
            row_h=66,
            cover=48,
            cover_radius=2,
            title_size=16,
            sub_size=13.5,
            second="artist_album",
            album_sep=" • ",
            explicit="line2",
            right=("duration", "dots"),
            header=(("Liked Music", 24, True), ("Auto playlist • 124 songs", 13, False)),
            buttons=("Shuffle", "Download"),
            tabs=("Home", "Samples", "Explore", "Library"),
            android=True,
            mini_player=True,
        ),
        Style(
            name="apple_music",
            width=1170,
            height=2532,
            scale=3.0,
            dark=_pal("#000000", "#ffffff", "#8e8e93", "#fa2d48", "#2c2c2e", "#1c1c1e"),
            light=_pal("#ffffff", "#000000", "#8a8a8e", "#fa2d48", "#dcdcdf", "#f9f9f9"),
            default_theme="light",
            font="noto",
            font_bold="noto",
            margin=20,
            row_h=60,
            cover=46,
            cover_radius=4,
            title_size=16,
            sub_size=13,
            line_gap=3,
            explicit="title_after",
            right=("dots",),
            separators=True,
            header=(("My Cafe Mix", 22, True), ("Updated Today", 13, False)),
            buttons=("Play", "Shuffle"),
            tabs=("Home", "New", "Radio", "Library", "Search"),
        ),
        Style(
            name="bugs",
            width=1080,
            height=2340,
            scale=2.625,
            dark=_pal("#1b1b1f", "#efefef", "#9c9ca3", "#ff3d00", "#2b2b31", "#222226"),
            light=_pal("#ffffff", "#212121", "#8c8c8c", "#ff3d00", "#efefef", "#fbfbfb"),
            default_theme="light",
            font="square",
            font_bold="square-bold",
            margin=10,
            row_h=62,
            cover=44,
            cover_radius=0,
            rank=True,
            rank_w=28,
            title_size=15,
            sub_size=12.5,
            explicit="title_before_19",
            right=("play", "dots"),
            header=(("벅스 실시간 차트", 19, True), ("오후 6시 기준", 12, False)),
            buttons=("전체 듣기", "셔플재생", "다운로드"),
            tabs=("홈", "차트", "최신", "검색", "내 음악"),
            android=True,
        ),
        Style(
            name="flo",
            width=1080,
            height=2400,
            scale=2.625,
            dark=_pal("#0c0c0f", "#ffffff", "#9595a0", "#3f3fff", "#1d1d22", "#15151a"),
            light=_pal("#ffffff", "#191919", "#8a8a93", "#3f3fff", "#f0f0f2", "#fafafa"),
            default_theme="dark",
            font="barun",
            font_bold="barun-bold",
            margin=18,
            row_h=70,
            cover=52,
            cover_radius=6,
            title_size=16,
            sub_size=13.5,
            line_gap=5,
            right=("heart", "dots"),
            header=(("오늘의 카페 플레이리스트", 20, True), ("FLO · 30곡", 12.5, False)),
            buttons=("전체 듣기", "셔플"),
            tabs=("둘러보기", "검색", "보관함", "MY"),
            android=True,
        ),
        Style(
            name="vibe",
            width=1170,
            height=2532,
            scale=3.0,
            dark=_pal("#0a0a0a", "#f5f5f5", "#8c8c8c", "#ff1f6d", "#1e1e1e", "#141414"),
            light=_pal("#ffffff", "#0a0a0a", "#8b8b8b", "#ff1f6d", "#eeeeee", "#fafafa"),
            default_theme="dark",
            font="noto",
            font_bold="noto-bold",
            margin=16,
            row_h=62,
            cover=46,
            cover_radius=3,
            rank=True,
            rank_w=26,
            title_size=15,
            sub_size=12.5,
            second="artist_album",
            album_sep=" · ",
            explicit="title_before_19",
            right=("duration",),
            header=(("VIBE 국내 급상승", 20, True), ("매일 업데이트 · 100곡", 12, False)),
            buttons=("재생", "셔플 재생"),
            tabs=("투데이", "차트", "보관함", "검색"),
        ),
    )
}
APP_STYLES: tuple[str, ...] = tuple(STYLES)


class _Painter:
    def __init__(self, style: Style, theme: str, rng: random.Random) -> None:
        self.s = style
        self.p = style.dark if theme == "dark" else style.light
        self.theme = theme
        self.rng = rng
        self.img = Image.new("RGB", (style.width, style.height), self.p.bg)
        self.d = ImageDraw.Draw(self.img)
        self.words: list[TextBox] = []

    def say(
        self,
        xy: tuple[float, float],
        text: str,
        fill: str,
        font: ImageFont.FreeTypeFont,
        anchor: str = "la",
    ) -> None:
        """Draws text and records each word's box (what a perfect OCR engine would return)."""
        font = covering(text, font)
        self.d.text(xy, text, fill=fill, font=font, anchor=anchor)
        left, top, _, bottom = self.d.textbbox(xy, text, font=font, anchor=anchor)
        start = 0
        for word in text.split(" "):
            if word:
                x0 = left + self.d.textlength(text[:start], font=font)
                x1 = x0 + self.d.textlength(word, font=font)
                self.words.append(TextBox(word, round(x0), top, round(x1), bottom))
            start += len(word) + 1

    def px(self, dp: float) -> int:
        return round(dp * self.s.scale)

    def f(self, size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return font(self.s.font_bold if bold else self.s.font, self.px(size))

    def text_w(self, text: str, fnt: ImageFont.FreeTypeFont) -> float:
        return self.d.textlength(text, font=covering(text, fnt))

    def fit(self, text: str, fnt: ImageFont.FreeTypeFont, width: float) -> tuple[str, bool]:
        """The text cut to `width` with an ellipsis, as the apps do."""
        if self.text_w(text, fnt) <= width:
            return text, False
        cut = text
        while cut and self.text_w(cut.rstrip() + ELLIPSIS, fnt) > width:
            cut = cut[:-1]
        return cut.rstrip(), True

    # --- chrome ----------------------------------------------------------------------

    def status_bar(self) -> int:
        s, d = self.s, self.d
        h = self.px(28 if s.android else 44)
        fnt = self.f(13 if s.android else 15, bold=not s.android)
        clock = self.rng.choice(["9:41", "12:30", "18:07", "오후 3:24" if s.android else "21:15"])
        self.say((self.px(18), h // 2), clock, fill=self.p.title, font=fnt, anchor="lm")
        x = s.width - self.px(18)
        pct = f"{self.rng.randint(12, 99)}%"
        # Battery body, then its percentage to the left, then signal bars.
        bw, bh = self.px(22), self.px(11)
        d.rounded_rectangle(
            (x - bw, h // 2 - bh // 2, x, h // 2 + bh // 2), radius=3, outline=self.p.title
        )
        d.rectangle(
            (x - bw + 3, h // 2 - bh // 2 + 3, x - bw // 3, h // 2 + bh // 2 - 3), fill=self.p.title
        )
        x -= bw + self.px(4)
        self.say((x, h // 2), pct, fill=self.p.title, font=self.f(12), anchor="rm")
        x -= self.text_w(pct, self.f(12)) + self.px(8)
        if self.rng.random() < 0.5:
            self.say((x, h // 2), "LTE", fill=self.p.title, font=self.f(11, True), anchor="rm")
            x -= self.text_w("LTE", self.f(11, True)) + self.px(6)
        for i in range(4):
            bx = x - (3 - i) * self.px(5)
            d.rectangle(
                (
                    bx,
                    h // 2 + self.px(5) - self.px(3 + 2 * i),
                    bx + self.px(3),
                    h // 2 + self.px(5),
                ),
                fill=self.p.title,
            )
        return h

    def app_header(self, top: int) -> int:
        s, d = self.s, self.d
        y = top + self.px(12)
        # Back arrow and a search/more icon, drawn as shapes like the apps' vector icons.
        d.line(
            (self.px(16), y + self.px(12), self.px(26), y + self.px(2)),
            fill=self.p.title,
            width=self.px(2),
        )
        d.line(
            (self.px(16), y + self.px(12), self.px(26), y + self.px(22)),
            fill=self.p.title,
            width=self.px(2),
        )
        y += self.px(36)
        for text, size, bold in s.header:
            fnt = self.f(size, bold)
            color = self.p.title if bold else self.p.sub
            self.say((self.px(s.margin), y), text, fill=color, font=fnt, anchor="lt")
            y += round(fnt.size * 1.45)
        if s.buttons:
            y += self.px(8)
            x = self.px(s.margin)
            fnt = self.f(14, True)
            for i, label in enumerate(s.buttons):
                w = self.text_w(label, fnt) + self.px(44)
                fill = self.p.accent if i == 0 else None
                d.rounded_rectangle(
                    (x, y, x + w, y + self.px(36)),
                    radius=self.px(18),
                    fill=fill,
                    outline=self.p.sub,
                )
                # Play triangle inside the first button.
                tx = x + self.px(14)
                d.polygon(
                    [
                        (tx, y + self.px(11)),
                        (tx, y + self.px(25)),
                        (tx + self.px(11), y + self.px(18)),
                    ],
                    fill="#000000" if i == 0 else self.p.title,
                )
                self.say(
                    (x + self.px(30), y + self.px(18)),
                    label,
                    fill="#000000" if i == 0 else self.p.title,
                    font=fnt,
                    anchor="lm",
                )
                x += w + self.px(10)
            y += self.px(36)
        return y + self.px(14)

    def tab_bar(self) -> int:
        s, d = self.s, self.d
        h = self.px(58)
        top = s.height - h
        d.rectangle((0, top, s.width, s.height), fill=self.p.bar_bg)
        if s.tabs:
            n = len(s.tabs)
            fnt = self.f(10.5)
            for i, label in enumerate(s.tabs):
                cx = round((i + 0.5) * s.width / n)
                r = self.px(9)
                cy = top + self.px(20)
                color = self.p.title if i == 0 else self.p.sub
                d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=self.px(2))
                self.say((cx, top + self.px(42)), label, fill=color, font=fnt, anchor="mm")
        return top

    def mini_player(self, bottom: int, song: Song) -> int:
        s, d = self.s, self.d
        h = self.px(60)
        top = bottom - h
        d.rectangle(
            (self.px(8), top + self.px(4), s.width - self.px(8), bottom - self.px(4)),
            fill=self.p.line,
        )
        c = self.px(40)
        self.cover((self.px(16), top + (h - c) // 2), c, 2)
        x = self.px(16) + c + self.px(10)
        self.say(
            (x, top + h // 2),
            f"{song.title} • {song.artist}",
            fill=self.p.title,
            font=self.f(13),
            anchor="lm",
        )
        px0 = s.width - self.px(40)
        d.polygon(
            [
                (px0, top + self.px(20)),
                (px0, top + self.px(40)),
                (px0 + self.px(16), top + self.px(30)),
            ],
            fill=self.p.title,
        )
        return top

    # --- rows ------------------------------------------------------------------------

    def cover(self, xy: tuple[int, int], size: int, radius: float) -> None:
        x, y = xy
        base = [self.rng.randint(30, 230) for _ in range(3)]
        tile = Image.new("RGB", (size, size), tuple(base))
        td = ImageDraw.Draw(tile)
        for _ in range(3):
            col = tuple(max(0, min(255, c + self.rng.randint(-90, 90))) for c in base)
            a, b = self.rng.randint(0, size), self.rng.randint(0, size)
            r = self.rng.randint(size // 6, size // 2)
            if self.rng.random() < 0.5:
                td.ellipse((a - r, b - r, a + r, b + r), fill=col)
            else:
                td.rectangle((a - r, b - r, a + r, b + r), fill=col)
        mask = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (0, 0, size - 1, size - 1), radius=round(radius), fill=255
        )
        self.img.paste(tile, (x, y), mask)

    def badge(
        self, x: float, cy: int, label: str, fnt: ImageFont.FreeTypeFont, color: str
    ) -> float:
        w = self.text_w(label, fnt) + self.px(6)
        h = fnt.size + self.px(2)
        self.d.rounded_rectangle((x, cy - h / 2, x + w, cy + h / 2), radius=self.px(2), fill=color)
        self.say((x + w / 2, cy), label, fill=self.p.bg, font=fnt, anchor="mm")
        return w

    def right_side(self, top: int, h: int, song: Song) -> int:
        """Draws the row's right-hand controls; returns the x where they start."""
        s, d = self.s, self.d
        x = s.width - self.px(s.margin)
        cy = top + h // 2
        for item in reversed(s.right):
            if item == "dots":
                for k in (-1, 0, 1):
                    r = self.px(1.8)
                    d.ellipse(
                        (
                            x - self.px(4) - r,
                            cy + k * self.px(6) - r,
                            x - self.px(4) + r,
                            cy + k * self.px(6) + r,
                        ),
                        fill=self.p.sub,
                    )
                x -= self.px(16)
            elif item == "play":
                d.polygon(
                    [
                        (x - self.px(16), cy - self.px(9)),
                        (x - self.px(16), cy + self.px(9)),
                        (x - self.px(2), cy),
                    ],
                    fill=self.p.sub,
                )
                x -= self.px(30)
            elif item == "heart":
                r = self.px(5)
                hx = x - self.px(12)
                d.ellipse((hx - 2 * r, cy - r - 2, hx, cy + r - 2), outline=self.p.sub, width=2)
                d.ellipse((hx, cy - r - 2, hx + 2 * r - 4, cy + r - 2), outline=self.p.sub, width=2)
                x -= self.px(34)
            elif item == "mv":
                fnt = self.f(10, True)
                w = self.text_w("MV", fnt) + self.px(8)
                d.rounded_rectangle(
                    (x - w, cy - self.px(8), x, cy + self.px(8)),
                    radius=self.px(2),
                    outline=self.p.sub,
                )
                self.say((x - w / 2, cy), "MV", fill=self.p.sub, font=fnt, anchor="mm")
                x -= round(w) + self.px(14)
            elif item == "duration":
                fnt = self.f(13)
                self.say((x, cy), song.duration, fill=self.p.sub, font=fnt, anchor="rm")
                x -= round(self.text_w(song.duration, fnt)) + self.px(16)
        return x - self.px(10)

    def row(self, top: int, index: int, song: Song) -> Row:
        s, d = self.s, self.d
        h = self.px(s.row_h)
        x = self.px(s.margin)
        cy = top + h // 2
        if s.checkbox:
            b = self.px(16)
            d.rounded_rectangle(
                (x, cy - b // 2, x + b, cy + b // 2), radius=2, outline=self.p.sub, width=2
            )
            x += b + self.px(10)
        if s.rank:
            rank_font = self.f(16, True)
            rank_cy = cy - self.px(7) if s.rank_change else cy
            self.say(
                (x + self.px(s.rank_w) // 2, rank_cy),
                str(index),
                fill=self.p.title,
                font=rank_font,
                anchor="mm",
            )
            if s.rank_change:
                change = self.rng.choice(["-", "▲1", "▼2", "NEW", "▲12", "-"])
                color = {"▲": "#e8382f", "▼": "#3d6fe8", "N": self.p.accent}.get(
                    change[0], self.p.sub
                )
                self.say(
                    (x + self.px(s.rank_w) // 2, cy + self.px(11)),
                    change,
                    fill=color,
                    font=self.f(9.5),
                    anchor="mm",
                )
            x += self.px(s.rank_w) + self.px(6)
        if s.cover:
            c = self.px(s.cover)
            self.cover((x, cy - c // 2), c, self.px(s.cover_radius))
            x += c + self.px(12)
        right = self.right_side(top, h, song)
        tf, sf = self.f(s.title_size), self.f(s.sub_size)
        th, sh = tf.size, sf.size
        gap = self.px(s.line_gap)
        block = th + gap + sh
        ty = cy - block // 2 + th // 2
        sy = ty + th // 2 + gap + sh // 2
        # Line 1: title, with the badge before (Korean 19 rating) or after (Apple's E).
        tx = x
        avail = right - tx
        if song.explicit and s.explicit == "title_before_19":
            bf = self.f(9.5, True)
            r = self.px(8)
            d.ellipse((tx, ty - r, tx + 2 * r, ty + r), fill="#e8382f")
            self.say((tx + r, ty), "19", fill="#ffffff", font=bf, anchor="mm")
            tx += 2 * r + self.px(5)
            avail = right - tx
        e_w = 0.0
        if song.explicit and s.explicit == "title_after":
            e_w = self.px(18)
        shown_title, cut = self.fit(song.title, tf, avail - e_w)
        self.say(
            (tx, ty),
            shown_title + (ELLIPSIS if cut else ""),
            fill=self.p.title,
            font=tf,
            anchor="lm",
        )
        if e_w:
            ex = tx + self.text_w(shown_title + (ELLIPSIS if cut else ""), tf) + self.px(5)
            self.badge(ex, ty, "E", self.f(9, True), self.p.sub)
        # Line 2: [E] artist [• album]
        sx = x
        if song.explicit and s.explicit == "line2":
            sx += self.badge(sx, sy, "E", self.f(9, True), self.p.sub) + self.px(5)
        second = song.artist
        if s.second == "artist_album" and song.album:
            second = f"{song.artist}{s.album_sep}{song.album}"
        shown_second, cut2 = self.fit(second, sf, right - sx)
        self.say(
            (sx, sy),
            shown_second + (ELLIPSIS if cut2 else ""),
            fill=self.p.sub,
            font=sf,
            anchor="lm",
        )
        shown_artist = (
            shown_second.split(s.album_sep.strip())[0].strip()
            if s.second == "artist_album"
            else shown_second
        )
        if s.separators:
            d.line((x, top + h - 1, s.width, top + h - 1), fill=self.p.line, width=1)
        return Row(song.title, song.artist, shown_title, shown_artist, cut)


def render(
    style: str,
    songs: Sequence[Song | tuple[str, str]],
    *,
    theme: str | None = None,
    seed: int = 0,
    max_rows: int | None = None,
) -> Screen:
    """Draws as many of `songs` as fit on one screen of `style` in `theme` (dark|light)."""
    st = STYLES[style]
    theme = theme or st.default_theme
    rng = random.Random(f"{style}-{theme}-{seed}")
    items = [s if isinstance(s, Song) else Song(s[0], s[1]) for s in songs]
    p = _Painter(st, theme, rng)
    top = p.status_bar()
    y = p.app_header(top)
    bottom = p.tab_bar()
    if st.mini_player and items:
        bottom = p.mini_player(bottom, items[0])
    rows: list[Row] = []
    h = p.px(st.row_h)
    for i, song in enumerate(items):
        if y + h > bottom or (max_rows is not None and len(rows) >= max_rows):
            break
        rows.append(p.row(y, i + 1, song))
        y += h
    return Screen(p.img, rows, style, theme, p.words)


def to_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def to_telegram_jpeg(img: Image.Image, quality: int = 80) -> bytes:
    """What Telegram delivers for a photo: long side 1280 px, JPEG."""
    w, h = img.size
    k = TELEGRAM_LONG_SIDE / max(w, h)
    small = img.resize((round(w * k), round(h * k)), Image.Resampling.LANCZOS) if k < 1 else img
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# --- songs for tests and the benchmark ---------------------------------------------------

_INVENTED_KO_A = ("새벽", "여름밤", "골목", "빗소리", "오후", "창가", "푸른", "작은", "느린", "먼")
_INVENTED_KO_B = (
    "산책",
    "편지",
    "정류장",
    "카페",
    "노을",
    "고양이",
    "바다",
    "기억",
    "별빛",
    "온도",
)
_INVENTED_EN_A = ("Paper", "Quiet", "Velvet", "Golden", "Slow", "Late", "Amber", "Silver", "Hidden")
_INVENTED_EN_B = ("Lanterns", "Harbour", "Morning", "Avenue", "Rooms", "Letters", "Tides", "Garden")
_INVENTED_ARTISTS = (
    "소란한 오후",
    "달빛 정원",
    "The Quiet Harbour",
    "Mellow Fields",
    "윤서하",
    "Nora Vale",
    "파란 우체통",
    "Luma & Co",
)


def invented_songs(n: int, seed: int = 0) -> list[Song]:
    """Songs that are in no catalog (the matcher must leave them unmatched)."""
    rng = random.Random(f"invented-{seed}")
    out: list[Song] = []
    seen: set[str] = set()
    while len(out) < n:
        if rng.random() < 0.5:
            title = f"{rng.choice(_INVENTED_KO_A)}의 {rng.choice(_INVENTED_KO_B)}"
        else:
            title = f"{rng.choice(_INVENTED_EN_A)} {rng.choice(_INVENTED_EN_B)}"
        if title in seen:
            continue
        seen.add(title)
        out.append(Song(title, rng.choice(_INVENTED_ARTISTS), album=f"{title} EP"))
    return out


def decorate(
    songs: Sequence[tuple[str, str]], seed: int = 0, explicit_rate: float = 0.15
) -> list[Song]:
    """Adds albums, durations and explicit flags to (title, artist) pairs."""
    rng = random.Random(f"decorate-{seed}")
    albums = (
        "Love Poem",
        "Palette",
        "Blue Hour",
        "The Book of Us",
        "Colors",
        "Night Songs",
        "앨범 1집",
        "봄",
    )
    return [
        Song(
            t,
            a,
            album=rng.choice(albums),
            explicit=rng.random() < explicit_rate,
            duration=f"{rng.randint(2, 5)}:{rng.randint(0, 59):02d}",
        )
        for t, a in songs
    ]
