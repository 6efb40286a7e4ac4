"""Every user-facing text, in Korean and English. Handlers never hold literal strings."""

from __future__ import annotations

LANGUAGES = ("ko", "en")

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "en": "👋 <b>Tune Your Shop</b> picks background music that fits your shop.\n"
        "Tell me your shop's mood, show me a playlist you like, and I'll suggest songs "
        "you can add with one tap.",
        "ko": "👋 <b>Tune Your Shop</b>은 매장에 어울리는 배경음악을 골라 드려요.\n"
        "매장 분위기를 알려 주고 좋아하는 플레이리스트를 보여 주면, 한 번에 추가할 수 있는 "
        "곡을 추천해 드릴게요.",
    },
    "btn_link_spotify": {"en": "🎧 Link Spotify", "ko": "🎧 Spotify 연결"},
    "btn_without_spotify": {"en": "Continue without Spotify", "ko": "Spotify 없이 계속"},
    "without_spotify": {
        "en": "No problem — everything works without Spotify. You can send a screenshot of "
        "any playlist (Melon, Genie, YouTube Music, Apple Music…) and get the songs as a list "
        "and a file.",
        "ko": "괜찮아요. Spotify 없이도 모두 쓸 수 있어요. 어떤 앱(멜론, 지니, 유튜브 뮤직, "
        "애플 뮤직…)의 플레이리스트 스크린샷을 보내면 곡 목록과 파일로 드려요.",
    },
    "link_spotify_intro": {
        "en": "Open the link below, sign in to Spotify and allow access to your playlists. "
        "The link works once and expires in 10 minutes.",
        "ko": "아래 링크를 열어 Spotify에 로그인하고 플레이리스트 접근을 허용해 주세요. "
        "링크는 한 번만, 10분 동안 쓸 수 있어요.",
    },
    "spotify_not_configured": {
        "en": "Spotify linking is not set up on this server yet. You can continue without it.",
        "ko": "이 서버에는 아직 Spotify 연결이 설정되지 않았어요. Spotify 없이 계속할 수 있어요.",
    },
    "help_1": {
        "en": "<b>How it works</b> (1/2)\n"
        "/start — begin, link Spotify or continue without it\n"
        "/retune — pick your shop's moods and 10 song pairs again\n"
        "/playlists — choose a reference playlist (Spotify)\n"
        "📷 send a screenshot of any playlist — I read it and use it\n"
        "/recommend — songs that fit your shop\n"
        "/settings — language, Spotify account, explicit filter, shop name\n"
        "/lang — switch language (한국어 / English)\n"
        "/unlink — disconnect Spotify and delete its tokens",
        "ko": "<b>사용 방법</b> (1/2)\n"
        "/start — 시작, Spotify 연결 또는 없이 계속\n"
        "/retune — 매장 분위기와 10개의 곡 비교 다시 하기\n"
        "/playlists — 기준 플레이리스트 고르기 (Spotify)\n"
        "📷 플레이리스트 스크린샷 보내기 — 읽어서 사용해요\n"
        "/recommend — 매장에 어울리는 곡 추천\n"
        "/settings — 언어, Spotify 계정, 19금 필터, 매장 이름\n"
        "/lang — 언어 바꾸기 (한국어 / English)\n"
        "/unlink — Spotify 연결 해제 및 토큰 삭제",
    },
    "help_2": {
        "en": "<b>Good to know</b> (2/2)\n"
        "• A personal Spotify account is <b>not licensed for playing music in a shop</b>. "
        "Use these playlists as a guide and play them through a licensed business music "
        "service.\n"
        "• Spotify lets a new app serve only a few linked users, so the bot works fully "
        "without Spotify: screenshots in, a list and a CSV/M3U file out.\n"
        "• Tap “Not for my shop” on a song and it never comes back.",
        "ko": "<b>알아 두세요</b> (2/2)\n"
        "• 개인 Spotify 계정으로 <b>매장에서 음악을 트는 것은 허가되지 않아요</b>. "
        "플레이리스트는 참고용으로 쓰고, 매장용 음악 서비스로 재생해 주세요.\n"
        "• Spotify는 새 앱에 연결할 수 있는 사용자 수를 제한해서, 이 봇은 Spotify 없이도 "
        "모두 쓸 수 있어요: 스크린샷을 보내면 목록과 CSV/M3U 파일을 드려요.\n"
        "• 곡에서 “매장과 안 맞아요”를 누르면 다시 추천하지 않아요.",
    },
    "btn_next_page": {"en": "Next ›", "ko": "다음 ›"},
    "btn_prev_page": {"en": "‹ Back", "ko": "‹ 이전"},
    "lang_choose": {"en": "Choose your language:", "ko": "언어를 고르세요:"},
    "lang_set": {"en": "Language set to English.", "ko": "언어를 한국어로 바꿨어요."},
    "error_generic": {
        "en": "Sorry, something went wrong on our side. Please try again in a moment.",
        "ko": "죄송해요, 잠시 문제가 생겼어요. 잠시 후 다시 시도해 주세요.",
    },
    "throttled": {
        "en": "Easy — one tap at a time, please.",
        "ko": "천천히 한 번씩 눌러 주세요.",
    },
    "stale_button": {
        "en": "This button is from an older message.",
        "ko": "이전 메시지의 버튼이에요.",
    },
    "unknown_text": {
        "en": "I didn't get that. Use the buttons, or /help to see what I can do.",
        "ko": "잘 이해하지 못했어요. 버튼을 누르거나 /help 로 할 수 있는 일을 확인하세요.",
    },
    "cmd_start": {"en": "Start / link Spotify", "ko": "시작 / Spotify 연결"},
    "cmd_help": {"en": "How it works", "ko": "사용 방법"},
    "cmd_lang": {"en": "Language", "ko": "언어"},
}

# Commands shown in Telegram's menu (setMyCommands), in this order.
MENU_COMMANDS = ("start", "help", "lang")


def normalize_lang(code: str | None, default: str = "en") -> str:
    """Telegram language_code ('ko', 'ko-KR', 'en-US', None) -> one of LANGUAGES."""
    if code:
        base = code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return default


def t(key: str, lang: str, **fmt: object) -> str:
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text
