"""Everything on a playlist screenshot that is not a song title or an artist, in one place:
app chrome (status bar, headers, tab bars), menu words, badges, durations and ranks.

Matching is on the casefolded, space-free text of a whole segment (a run of words on one
line), so "셔플 재생" and "셔플재생" are one entry.
"""

from __future__ import annotations

import re

# Menu, button, header and tab-bar words of the apps we support (Korean and English).
MENU_WORDS: frozenset[str] = frozenset(
    w.casefold().replace(" ", "")
    for w in (
        # playback and actions
        "재생",
        "전체재생",
        "전체 듣기",
        "전체듣기",
        "선택듣기",
        "셔플",
        "셔플재생",
        "셔플 재생",
        "랜덤재생",
        "담기",
        "다운로드",
        "저장",
        "좋아요",
        "공유",
        "편집",
        "선택",
        "전체선택",
        "이어듣기",
        "곡 추가",
        "추가",
        "더보기",
        "Shuffle",
        "Play",
        "Shuffle Play",
        "Download",
        "Downloaded",
        "Like",
        "Liked",
        "Save",
        "Add",
        "Share",
        "Edit",
        "Sort",
        "Filter",
        "Add songs",
        "Follow",
        "Following",
        "More",
        "Preview",
        "Radio",
        # tab bars and headers
        "홈",
        "검색",
        "보관함",
        "MY",
        "내 음악",
        "차트",
        "최신",
        "최신음악",
        "투데이",
        "둘러보기",
        "멜론차트",
        "지니차트",
        "플레이리스트",
        "라이브러리",
        "Home",
        "Search",
        "Your Library",
        "Library",
        "Premium",
        "Samples",
        "Explore",
        "Listen Now",
        "Browse",
        "Playlist",
        "Playlists",
        "Songs",
        "Albums",
        "Artists",
        "Upgrade",
        "Now Playing",
        "Up Next",
        "Made for you",
        "Auto playlist",
        "Updated Today",
        "업데이트",
        "곡",
        "앨범",
        "아티스트",
        "Liked Music",
        "Liked Songs",
    )
)

# Single tokens that are badges or decorations beside a title or artist, never part of it.
BADGE_TOKENS: frozenset[str] = frozenset(
    w.casefold()
    for w in ("E", "🅴", "19", "19금", "MV", "M/V", "동영상", "영상", "타이틀", "가사",
              "•", "·", "⋮", "...", "…", "|", "-", "—")
)  # fmt: skip

# Badge words that are also ordinary title words ("Hot Stuff", "New Rules"): removed only
# when set smaller than the title beside them, as a badge is.
WORD_BADGES: frozenset[str] = frozenset(
    w.casefold() for w in ("HOT", "NEW", "TITLE", "LIVE", "HD", "4K", "Lyrics", "19금", "Video")
)

# Whole segments that are noise by shape.
NOISE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\d{1,2}:\d{2}(:\d{2})?$",  # durations and the status-bar clock
        r"^(오전|오후|am|pm)?\s*\d{1,2}:\d{2}\s*(am|pm)?$",  # clock with a day half
        r"^\d{1,3}\s*%$",  # battery
        r"^\d{1,3}[.)]?$",  # rank numbers
        r"^[▲▼△▽↑↓+\-]\s*\d{0,3}$",  # rank change markers
        r"^[vVA^]\s?\d{1,3}$",  # the same markers as OCR reads them ("v2", "A12")
        r"^(lte|5g|4g|3g|wi-?fi)$",
        r"(^|\s)\d+\s*(곡|songs?|tracks?)(\s|,|$)",  # "30곡 · 1시간", "50 songs, 2 hr 48 min"
        r"\b\d+\s*(시간|분|hr|hrs|min|mins)\b",
        r"^\d{4}[./-]\d{1,2}[./-]\d{1,2}",  # chart update stamps
        r"(기준|업데이트|updated)$",
        r"^[^\w]+$",  # punctuation or icons read as symbols only
    )
)

# Separators between artist and album (or other details) on a row's second line.
# OCR reads the small middle dot as any of these when it stands alone between spaces.
ARTIST_DETAIL_SEPARATORS: tuple[str, ...] = (
    " • ",
    " · ",
    " ・ ",
    " ㆍ ",
    " - ",
    " : ",
    " | ",
    " = ",
    " * ",
    "•",
    "·",
    "・",
    "ㆍ",
    "«",
    "»",
)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def is_noise(text: str) -> bool:
    """A whole segment that is chrome, a badge or a number, not a title or artist."""
    c = compact(text)
    if not c:
        return True
    if c in MENU_WORDS or c in BADGE_TOKENS or c in WORD_BADGES:
        return True
    return any(p.search(text.strip()) for p in NOISE_PATTERNS)


def is_shaped_noise(text: str) -> bool:
    """Noise only by its shape (a time, a percentage, a number), not a known chrome or
    badge word: such text may still be a title ("11:11", "200%") when an artist is under it."""
    c = compact(text)
    if not any(ch.isalnum() for ch in c) or c in MENU_WORDS or c in BADGE_TOKENS:
        return False
    if c in WORD_BADGES:
        return False
    return any(p.search(text.strip()) for p in NOISE_PATTERNS)


def is_menu(text: str) -> bool:
    """A button, tab or header word: its whole line is app chrome."""
    return compact(text) in MENU_WORDS


def is_badge(token: str) -> bool:
    return token.strip().casefold() in BADGE_TOKENS


def is_word_badge(token: str) -> bool:
    return token.strip().casefold() in WORD_BADGES
