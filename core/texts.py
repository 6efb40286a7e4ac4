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
    # --- Spotify linking (handlers/spotify.py, bot/oauth.py) ---
    "btn_open_spotify_login": {"en": "🔗 Open Spotify login", "ko": "🔗 Spotify 로그인 열기"},
    "btn_link_again": {"en": "🎧 Link Spotify again", "ko": "🎧 Spotify 다시 연결"},
    "spotify_linked": {
        "en": "✅ Linked as <b>{name}</b>. I can now read your playlists and add songs to them.",
        "ko": "✅ <b>{name}</b> 계정으로 연결됐어요. 이제 플레이리스트를 읽고 곡을 추가할 수 "
        "있어요.",
    },
    "spotify_link_cancelled": {
        "en": "You cancelled on Spotify, so nothing was linked. You can try again any time, "
        "or keep going without Spotify.",
        "ko": "Spotify에서 취소해서 연결되지 않았어요. 언제든 다시 시도하거나 Spotify 없이 "
        "계속할 수 있어요.",
    },
    "spotify_link_failed": {
        "en": "Spotify did not finish the linking. Please try again in a moment.",
        "ko": "Spotify 연결을 끝내지 못했어요. 잠시 후 다시 시도해 주세요.",
    },
    "spotify_link_expired": {
        "en": "Your Spotify access has expired or was revoked. Link Spotify again to keep "
        "using your playlists.",
        "ko": "Spotify 접근 권한이 만료되었거나 취소됐어요. 플레이리스트를 계속 쓰려면 다시 "
        "연결해 주세요.",
    },
    "spotify_busy": {
        "en": "Spotify is busy right now. Please try again in a minute.",
        "ko": "지금 Spotify가 바빠요. 1분 뒤에 다시 시도해 주세요.",
    },
    "spotify_unavailable": {
        "en": "Spotify is not answering properly right now. Please try again later.",
        "ko": "지금 Spotify가 제대로 응답하지 않아요. 나중에 다시 시도해 주세요.",
    },
    "unlink_confirm": {
        "en": "Disconnect Spotify account <b>{name}</b>? Its tokens will be deleted.",
        "ko": "Spotify 계정 <b>{name}</b> 연결을 해제할까요? 토큰이 삭제돼요.",
    },
    "btn_unlink_yes": {"en": "Yes, disconnect", "ko": "네, 해제할게요"},
    "btn_unlink_no": {"en": "Keep it", "ko": "유지할게요"},
    "unlink_done": {
        "en": "Spotify is disconnected and its tokens are deleted. Everything else keeps working.",
        "ko": "Spotify 연결을 해제하고 토큰을 삭제했어요. 다른 기능은 그대로 쓸 수 있어요.",
    },
    "unlink_kept": {"en": "Spotify stays linked.", "ko": "Spotify 연결을 유지해요."},
    "unlink_not_linked": {
        "en": "Spotify is not linked, so there is nothing to disconnect.",
        "ko": "Spotify가 연결되어 있지 않아서 해제할 것이 없어요.",
    },
    "cmd_unlink": {"en": "Disconnect Spotify", "ko": "Spotify 연결 해제"},
    # Pages the browser shows after Spotify (bot/oauth.py); both languages on one page.
    "web_title": {"en": "Tune Your Shop", "ko": "Tune Your Shop"},
    "web_linked": {
        "en": "Spotify is linked. You can go back to Telegram.",
        "ko": "Spotify가 연결됐어요. 텔레그램으로 돌아가세요.",
    },
    "web_cancelled": {
        "en": "Linking was cancelled. You can go back to Telegram and try again.",
        "ko": "연결을 취소했어요. 텔레그램으로 돌아가 다시 시도할 수 있어요.",
    },
    "web_state_forged": {
        "en": "This link is not valid. Open the newest Spotify link from the bot in Telegram.",
        "ko": "올바르지 않은 링크예요. 텔레그램 봇이 보낸 최신 Spotify 링크를 열어 주세요.",
    },
    "web_state_replayed": {
        "en": "This link was already used. Ask the bot in Telegram for a new one.",
        "ko": "이미 사용한 링크예요. 텔레그램 봇에서 새 링크를 받아 주세요.",
    },
    "web_state_expired": {
        "en": "This link has expired (links last 10 minutes). Ask the bot in Telegram for a "
        "new one.",
        "ko": "링크가 만료됐어요(10분 동안 유효). 텔레그램 봇에서 새 링크를 받아 주세요.",
    },
    "web_spotify_down": {
        "en": "Spotify did not answer. Go back to Telegram and try again in a moment.",
        "ko": "Spotify가 응답하지 않았어요. 텔레그램으로 돌아가 잠시 후 다시 시도해 주세요.",
    },
    "web_not_configured": {
        "en": "Spotify linking is not set up on this server.",
        "ko": "이 서버에는 Spotify 연결이 설정되지 않았어요.",
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
    # --- onboarding ---
    "onb_tags": {
        "en": "<b>What does your shop feel like?</b>\nPick a few moods, styles and settings, "
        "then press Next.",
        "ko": "<b>매장은 어떤 분위기인가요?</b>\n분위기, 장르, 공간을 몇 개 고른 뒤 다음을 누르세요.",
    },
    "onb_next": {"en": "Next ›", "ko": "다음 ›"},
    "onb_need_tag": {"en": "Pick at least one first.", "ko": "먼저 하나 이상 골라 주세요."},
    "onb_pair": {
        "en": "<b>{n}/{total}</b> · Which fits your shop better?",
        "ko": "<b>{n}/{total}</b> · 어느 곡이 매장에 더 어울리나요?",
    },
    "onb_done": {
        "en": "✅ Got it — your shop's taste is set.\nNow show me a playlist you like, or get "
        "songs from your taste right away.",
        "ko": "✅ 매장 취향을 알았어요.\n좋아하는 플레이리스트를 보여 주거나, 바로 취향에 맞는 곡을 "
        "받아 보세요.",
    },
    "onb_no_tracks": {
        "en": "The catalog is still empty — please try again in a minute.",
        "ko": "아직 음악 목록이 준비되지 않았어요. 잠시 후 다시 시도해 주세요.",
    },
    "onb_text_instead_of_button": {
        "en": "Please use the buttons above to pick — no typing needed.",
        "ko": "위의 버튼으로 골라 주세요. 입력은 필요 없어요.",
    },
    "btn_recommend_now": {"en": "🎵 Songs for my shop", "ko": "🎵 매장에 맞는 곡 받기"},
    "btn_screenshot": {
        "en": "📷 Send a playlist screenshot",
        "ko": "📷 플레이리스트 스크린샷 보내기",
    },
    "btn_spotify_playlists": {"en": "🎧 My Spotify playlists", "ko": "🎧 내 Spotify 플레이리스트"},
    "screenshot_hint": {
        "en": "Send me a screenshot of a playlist from any app (Melon, Genie, YouTube Music, "
        "Apple Music, Spotify…). Several screenshots are fine.",
        "ko": "아무 앱(멜론, 지니, 유튜브 뮤직, 애플 뮤직, Spotify…)의 플레이리스트 스크린샷을 "
        "보내 주세요. 여러 장도 괜찮아요.",
    },
    # --- recommendations ---
    "rec_title": {
        "en": "🎵 <b>Songs for your shop</b> · page {page}",
        "ko": "🎵 <b>매장 추천곡</b> · {page}쪽",
    },
    "rec_based_on": {"en": "Based on “{name}”", "ko": "“{name}” 기준"},
    "rec_hint": {
        "en": "Tap songs to select them, 🚫 = not for my shop.",
        "ko": "곡을 눌러 고르고, 🚫 는 매장과 안 맞는 곡이에요.",
    },
    "rec_add": {"en": "➕ Add {n}", "ko": "➕ {n}곡 추가"},
    "rec_add_none": {"en": "Select songs first", "ko": "먼저 곡을 고르세요"},
    "rec_more": {"en": "More ›", "ko": "더 보기 ›"},
    "rec_empty": {
        "en": "I have nothing new to suggest right now. Try /retune or another playlist.",
        "ko": "지금은 더 추천할 곡이 없어요. /retune 이나 다른 플레이리스트로 해 보세요.",
    },
    "rec_no_taste": {
        "en": "Let's learn your shop's taste first (takes a minute).",
        "ko": "먼저 매장 취향을 알아볼게요 (1분이면 돼요).",
    },
    "rec_vetoed": {"en": "Won't suggest it again.", "ko": "다시 추천하지 않을게요."},
    "rec_already_added": {"en": "Already added.", "ko": "이미 추가했어요."},
    "rec_added_text": {
        "en": "✅ Your {n} songs — open a link to find each one on Spotify, or import the "
        "file into your music app:",
        "ko": "✅ 고른 {n}곡이에요. 링크로 Spotify에서 찾거나 파일을 음악 앱으로 가져오세요:",
    },
    "rec_added_spotify": {
        "en": '✅ Added {n} songs to <a href="{url}">{name}</a>.',
        "ko": '✅ <a href="{url}">{name}</a>에 {n}곡을 추가했어요.',
    },
    "rec_added_skipped": {
        "en": "{n} were already in the playlist.",
        "ko": "{n}곡은 이미 플레이리스트에 있었어요.",
    },
    "rec_unresolved": {
        "en": "{n} songs could not be found on Spotify and were left out.",
        "ko": "{n}곡은 Spotify에서 찾지 못해 빠졌어요.",
    },
    "cmd_recommend": {"en": "Songs for my shop", "ko": "매장 추천곡"},
    "cmd_retune": {"en": "Retune my shop's taste", "ko": "매장 취향 다시 정하기"},
    # --- screenshot import ---
    "shot_reading": {"en": "📷 Reading your screenshot…", "ko": "📷 스크린샷을 읽고 있어요…"},
    "shot_rows": {
        "en": "<b>I read {n} songs</b> ({m} found in our catalog):",
        "ko": "<b>{n}곡을 읽었어요</b> (그중 {m}곡을 찾았어요):",
    },
    "shot_not_found": {"en": "not found", "ko": "찾지 못함"},
    "shot_help": {
        "en": "Tap a number to remove that row. Send another screenshot to add more.",
        "ko": "번호를 누르면 그 줄을 지워요. 스크린샷을 더 보내면 이어서 추가해요.",
    },
    "shot_btn_fix": {"en": "✏️ Fix a row", "ko": "✏️ 줄 고치기"},
    "shot_btn_more": {"en": "📷 Add another screenshot", "ko": "📷 스크린샷 더 보내기"},
    "shot_btn_use": {"en": "✅ Use this playlist", "ko": "✅ 이 플레이리스트 사용"},
    "shot_fix_prompt": {
        "en": "Type the row number, then “title - artist”, e.g. <code>3 Fly Me to the Moon - "
        "Frank Sinatra</code>",
        "ko": "줄 번호와 “제목 - 가수”를 입력하세요. 예: <code>3 밤편지 - 아이유</code>",
    },
    "shot_fix_format": {
        "en": "I couldn't read that. Please type: number title - artist",
        "ko": "이해하지 못했어요. “번호 제목 - 가수” 형식으로 입력해 주세요.",
    },
    "shot_fix_no_row": {"en": "There is no such row.", "ko": "그런 줄이 없어요."},
    "shot_fix_too_long": {"en": "That is too long for one song.", "ko": "한 곡이라기엔 너무 길어요."},
    "shot_fixed": {"en": "Row {n} updated.", "ko": "{n}번 줄을 고쳤어요."},
    "shot_more_hint": {
        "en": "Send the next screenshot — I'll add its songs to this list.",
        "ko": "다음 스크린샷을 보내 주세요. 이 목록에 이어서 추가할게요.",
    },
    "shot_nothing_matched": {
        "en": "None of these songs are in our catalog yet, so I can't use this playlist. "
        "Fix a row, send another screenshot, or get songs from your taste with /recommend.",
        "ko": "아직 카탈로그에 있는 곡이 없어 이 플레이리스트를 쓸 수 없어요. 줄을 고치거나 "
        "다른 스크린샷을 보내거나, /recommend 로 취향에 맞는 곡을 받아 보세요.",
    },
    "shot_playlist_name": {"en": "Screenshot {date}", "ko": "스크린샷 {date}"},
    "shot_no_rows": {
        "en": "I couldn't find any song rows in that picture. Please send a screenshot of a "
        "playlist (the list of songs, not the cover).",
        "ko": "사진에서 곡 목록을 찾지 못했어요. 플레이리스트 화면(곡 목록)의 스크린샷을 보내 "
        "주세요.",
    },
    "shot_too_big": {
        "en": "That file is too large (max 10 MB). Please send a normal screenshot.",
        "ko": "파일이 너무 커요 (최대 10MB). 일반 스크린샷을 보내 주세요.",
    },
    "shot_bad_image": {
        "en": "I can't open that picture. Please send a PNG or JPEG screenshot.",
        "ko": "이 사진을 열 수 없어요. PNG 나 JPEG 스크린샷을 보내 주세요.",
    },
    "shot_unavailable": {
        "en": "Reading screenshots is not available right now. Please try again later.",
        "ko": "지금은 스크린샷을 읽을 수 없어요. 나중에 다시 시도해 주세요.",
    },
    "cmd_start": {"en": "Start / link Spotify", "ko": "시작 / Spotify 연결"},
    "cmd_help": {"en": "How it works", "ko": "사용 방법"},
    "cmd_lang": {"en": "Language", "ko": "언어"},
    # --- Spotify playlists (handlers/playlists.py) ---
    "cmd_playlists": {"en": "My Spotify playlists", "ko": "내 Spotify 플레이리스트"},
    "pl_need_link": {
        "en": "Link Spotify first to choose one of your playlists — or send a screenshot of "
        "any playlist instead.",
        "ko": "플레이리스트를 고르려면 먼저 Spotify를 연결해 주세요. 아니면 아무 플레이리스트의 "
        "스크린샷을 보내도 돼요.",
    },
    "pl_loading": {
        "en": "Looking at your Spotify playlists…",
        "ko": "Spotify 플레이리스트를 불러오는 중…",
    },
    "pl_list": {
        "en": "🎧 <b>Your Spotify playlists</b> · page {page}\n"
        "Choose the one that sounds most like your shop.",
        "ko": "🎧 <b>내 Spotify 플레이리스트</b> · {page}쪽\n매장 분위기에 가장 가까운 것을 고르세요.",
    },
    "pl_list_empty": {
        "en": "I found no playlists of your own (or collaborative ones) on Spotify. Create one "
        "there, or send a screenshot of any playlist.",
        "ko": "Spotify에 직접 만들었거나 공동 작업 중인 플레이리스트가 없어요. Spotify에서 하나 "
        "만들거나, 아무 플레이리스트의 스크린샷을 보내 주세요.",
    },
    "pl_button": {"en": "{name} · {n} songs", "ko": "{name} · {n}곡"},
    "pl_reading": {
        "en": "📥 Reading “{name}”…",
        "ko": "📥 “{name}” 읽는 중…",
    },
    "pl_matching": {
        "en": "🔎 Reading {total} songs… {done}/{total} matched against our catalog",
        "ko": "🔎 {total}곡 읽는 중… {done}/{total}곡 확인",
    },
    "pl_tagging": {
        "en": "🏷 Looking up songs new to us… {done}/{total}",
        "ko": "🏷 새로운 곡 정보 찾는 중… {done}/{total}",
    },
    "pl_summary": {
        "en": "✅ “{name}”: {matched} of {total} songs matched our catalog.",
        "ko": "✅ “{name}”: {total}곡 중 {matched}곡이 카탈로그와 일치해요.",
    },
    "pl_summary_added": {
        "en": "{n} songs were new to us and are now in the catalog.",
        "ko": "{n}곡은 새로 알게 되어 카탈로그에 추가했어요.",
    },
    "pl_summary_next": {
        "en": "Here are songs that fit it 👇",
        "ko": "여기에 어울리는 곡이에요 👇",
    },
    "pl_empty": {
        "en": "“{name}” has no songs yet. Add a few on Spotify, or choose another playlist.",
        "ko": "“{name}”에는 아직 곡이 없어요. Spotify에서 곡을 추가하거나 다른 플레이리스트를 "
        "고르세요.",
    },
    "pl_busy": {
        "en": "Still reading your playlist — one moment.",
        "ko": "아직 플레이리스트를 읽고 있어요. 잠시만요.",
    },
    "btn_try_again": {"en": "🔄 Try again", "ko": "🔄 다시 시도"},
    "btn_other_playlists": {"en": "‹ Other playlists", "ko": "‹ 다른 플레이리스트"},
    # --- /settings (handlers/settings.py) ---
    "cmd_settings": {"en": "Settings", "ko": "설정"},
    "settings": {
        "en": "⚙️ <b>Settings</b>\n"
        "Language: {language}\n"
        "Spotify: {spotify}\n"
        "Explicit-content filter: {explicit}\n"
        "Shop name: {shop}",
        "ko": "⚙️ <b>설정</b>\n"
        "언어: {language}\n"
        "Spotify: {spotify}\n"
        "19금 곡 거르기: {explicit}\n"
        "매장 이름: {shop}",
    },
    "settings_spotify_linked": {"en": "linked as <b>{name}</b>", "ko": "<b>{name}</b> 계정 연결됨"},
    "settings_spotify_none": {"en": "not linked", "ko": "연결 안 됨"},
    "settings_spotify_expired": {
        "en": "access expired — link again",
        "ko": "접근 만료 — 다시 연결해 주세요",
    },
    "settings_on": {
        "en": "on (explicit songs are never suggested)",
        "ko": "켜짐 (19금 곡은 추천하지 않아요)",
    },
    "settings_off": {"en": "off", "ko": "꺼짐"},
    "settings_shop_none": {"en": "not set", "ko": "없음"},
    "btn_settings_explicit_on": {"en": "🔞 Explicit filter: on", "ko": "🔞 19금 거르기: 켜짐"},
    "btn_settings_explicit_off": {"en": "🔞 Explicit filter: off", "ko": "🔞 19금 거르기: 꺼짐"},
    "btn_settings_shop": {"en": "✏️ Set shop name", "ko": "✏️ 매장 이름 정하기"},
    "btn_settings_unlink": {"en": "Unlink Spotify", "ko": "Spotify 연결 해제"},
    "btn_cancel": {"en": "Cancel", "ko": "취소"},
    "settings_shop_prompt": {
        "en": "⚙️ Type your shop's name (up to {max} characters) and send it, or press Cancel.",
        "ko": "⚙️ 매장 이름을 입력해 보내 주세요 (최대 {max}자). 그만두려면 취소를 누르세요.",
    },
    "shop_name_empty": {
        "en": "The shop name can't be empty. Type it again, or press Cancel.",
        "ko": "매장 이름이 비어 있어요. 다시 입력하거나 취소를 누르세요.",
    },
    "shop_name_too_long": {
        "en": "That's {n} characters — a shop name can have at most {max}. Type a shorter one.",
        "ko": "{n}자예요. 매장 이름은 최대 {max}자까지 돼요. 더 짧게 입력해 주세요.",
    },
    "shop_name_control": {
        "en": "Please type the name on one line, without special invisible characters.",
        "ko": "이름은 한 줄로, 보이지 않는 특수 문자 없이 입력해 주세요.",
    },
    "shop_name_not_text": {
        "en": "Please type the shop name as text, or press Cancel.",
        "ko": "매장 이름을 글자로 입력하거나 취소를 누르세요.",
    },
}

# Commands shown in Telegram's menu (setMyCommands), in this order.
MENU_COMMANDS = (
    "start",
    "recommend",
    "playlists",
    "retune",
    "settings",
    "help",
    "lang",
    "unlink",
)


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
