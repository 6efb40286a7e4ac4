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
    # --- admin (only for ADMIN_IDS; never in the public menu) ---
    "cmd_stats": {"en": "Usage statistics", "ko": "이용 통계"},
    "cmd_retrain": {"en": "Retrain the model now", "ko": "지금 모델 재학습"},
    "cmd_model": {"en": "Model in service", "ko": "서비스 중인 모델"},
    "cmd_health": {"en": "Service health", "ko": "서비스 상태"},
    "cmd_jobs": {"en": "Scheduled jobs", "ko": "예약 작업"},
    "adm_stats": {
        "en": "<b>Usage</b>\nOwners {owners} (new in 7 days {new_7d}, active in 7 days "
        "{active_7d})\nOnboarding completed {onboarded} ({onb_rate})\nSpotify linked {linked}"
        "\nScreenshot imports {imports}\n<b>Last 14 days</b>: shown {shown}, added {added} "
        "(add rate {add_rate}), vetoed {vetoed}\n<pre>{table}</pre>",
        "ko": "<b>이용 현황</b>\n사장님 {owners}명 (7일간 신규 {new_7d}, 7일간 활동 {active_7d})"
        "\n온보딩 완료 {onboarded} ({onb_rate})\nSpotify 연결 {linked}\n스크린샷 가져오기 "
        "{imports}\n<b>최근 14일</b>: 추천 {shown}, 추가 {added} (추가율 {add_rate}), 제외 "
        "{vetoed}\n<pre>{table}</pre>",
    },
    "adm_stats_header": {
        "en": "day    new  actv picks  shown added veto imp",
        "ko": "날짜  신규  활동  선택   추천  추가 제외 가져",
    },
    "adm_stats_events_down": {
        "en": "⚠️ The event log did not answer: activity figures are missing.",
        "ko": "⚠️ 이벤트 로그가 응답하지 않아 활동 수치가 빠져 있어요.",
    },
    "adm_retrain_busy": {
        "en": "A retrain is already running (started elsewhere). See /jobs.",
        "ko": "재학습이 이미 진행 중이에요. /jobs 에서 확인하세요.",
    },
    "adm_retrain_progress": {
        "en": "🧠 Retraining… <b>{phase}</b> {detail} ({elapsed} s)",
        "ko": "🧠 재학습 중… <b>{phase}</b> {detail} ({elapsed}초)",
    },
    "adm_retrain_done": {
        "en": "🧠 Retrain <b>{status}</b>: {reason}\nVersion {version} (was {old_version})\n"
        "recall@20 {old_recall} → {new_recall}\nndcg@20 {old_ndcg} → {new_ndcg}\n"
        "Data: {owners} owners, {edges} edges, {holdout} held out\n"
        "{wall} s (training {train} s, peak memory {rss} MB)",
        "ko": "🧠 재학습 <b>{status}</b>: {reason}\n버전 {version} (이전 {old_version})\n"
        "recall@20 {old_recall} → {new_recall}\nndcg@20 {old_ndcg} → {new_ndcg}\n"
        "데이터: 사장님 {owners}명, 연결 {edges}개, 평가용 {holdout}개\n"
        "{wall}초 (학습 {train}초, 최대 메모리 {rss} MB)",
    },
    "adm_retrain_error": {
        "en": "🧠 Retrain failed; the model in service is unchanged.\n{error}",
        "ko": "🧠 재학습이 실패했어요. 서비스 중인 모델은 그대로예요.\n{error}",
    },
    "adm_model": {
        "en": "<b>Model in service</b>: version {id} ({kind})\nTrained {trained_at}, promoted "
        "{promoted_at}\nData: {n_users} owners, {n_items} tracks, {n_interactions} "
        "interactions\nrecall@20 {recall}, ndcg@20 {ndcg}\n{note}",
        "ko": "<b>서비스 중인 모델</b>: 버전 {id} ({kind})\n학습 {trained_at}, 적용 "
        "{promoted_at}\n데이터: 사장님 {n_users}명, 곡 {n_items}개, 상호작용 "
        "{n_interactions}개\nrecall@20 {recall}, ndcg@20 {ndcg}\n{note}",
    },
    "adm_model_none": {"en": "No model is in service.", "ko": "서비스 중인 모델이 없어요."},
    "adm_model_versions": {"en": "<b>Earlier versions</b>", "ko": "<b>이전 버전</b>"},
    "btn_rollback": {"en": "↩ Serve version {v}", "ko": "↩ 버전 {v} 적용"},
    "adm_rollback_done": {
        "en": "↩ Version {v} is serving again.",
        "ko": "↩ 버전 {v}을(를) 다시 적용했어요.",
    },
    "adm_rollback_failed": {"en": "Rollback refused: {error}", "ko": "되돌리기 거부: {error}"},
    "adm_health": {
        "en": "<b>Health</b>\n{stores}\n<b>External APIs</b>\n{apis}\n<b>Scheduler</b> "
        "({where})\n{jobs}\n<b>This process</b>: pid {pid}, torch {torch}",
        "ko": "<b>상태</b>\n{stores}\n<b>외부 API</b>\n{apis}\n<b>스케줄러</b> ({where})\n"
        "{jobs}\n<b>이 프로세스</b>: pid {pid}, torch {torch}",
    },
    "adm_jobs": {"en": "<b>Jobs</b> ({where})\n{jobs}", "ko": "<b>작업</b> ({where})\n{jobs}"},
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
    "shot_fix_too_long": {
        "en": "That is too long for one song.",
        "ko": "한 곡이라기엔 너무 길어요.",
    },
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
    # --- dayparts (handlers/dayparts.py, scheduler/dayparts.py) ---
    "cmd_dayparts": {"en": "Songs for each part of the day", "ko": "시간대별 추천곡"},
    "dp_title": {"en": "🕰 <b>Daypart songs</b>", "ko": "🕰 <b>시간대별 추천곡</b>"},
    "dp_intro": {
        "en": "When each part of your day starts, I send 5 fresh songs for its mood — "
        "one tap adds them.",
        "ko": "하루의 각 시간대가 시작될 때 그 분위기에 맞는 새 곡 5개를 보내 드려요. "
        "한 번 눌러 추가하세요.",
    },
    "dp_empty": {
        "en": "Not set up yet. Pick a preset for your kind of shop, or set your opening hours "
        "first.",
        "ko": "아직 설정하지 않았어요. 매장 종류에 맞는 기본 설정을 고르거나 영업시간부터 "
        "정해 주세요.",
    },
    "dp_hours": {
        "en": "Open {open}–{close} ({tz})",
        "ko": "영업시간 {open}–{close} ({tz})",
    },
    "dp_no_parts": {
        "en": "No dayparts yet — add one.",
        "ko": "아직 시간대가 없어요. 추가해 주세요.",
    },
    "dp_status_on": {"en": "▶️ Pushes are on.", "ko": "▶️ 알림이 켜져 있어요."},
    "dp_status_paused": {
        "en": "⏸ Paused — no songs are sent until you resume.",
        "ko": "⏸ 일시 중지됨 — 다시 켤 때까지 곡을 보내지 않아요.",
    },
    "dp_btn_add": {"en": "➕ Add a daypart", "ko": "➕ 시간대 추가"},
    "dp_btn_presets": {"en": "🏪 Presets", "ko": "🏪 기본 설정"},
    "dp_btn_hours": {"en": "🕘 Opening hours", "ko": "🕘 영업시간"},
    "dp_btn_pause": {"en": "⏸ Pause daypart songs", "ko": "⏸ 시간대별 추천 멈추기"},
    "dp_btn_resume": {"en": "▶️ Resume daypart songs", "ko": "▶️ 시간대별 추천 다시 켜기"},
    "dp_btn_back": {"en": "‹ Back", "ko": "‹ 뒤로"},
    "dp_btn_time": {"en": "🕐 Change time", "ko": "🕐 시간 바꾸기"},
    "dp_btn_mood": {"en": "🎨 Change mood", "ko": "🎨 분위기 바꾸기"},
    "dp_btn_delete": {"en": "🗑 Remove", "ko": "🗑 삭제"},
    "dp_pick_preset": {
        "en": "Which is closest to your shop? You can change everything afterwards.",
        "ko": "어느 쪽이 매장과 가장 비슷한가요? 나중에 모두 바꿀 수 있어요.",
    },
    "dp_pick_open": {"en": "When do you <b>open</b>?", "ko": "몇 시에 <b>문을 여나요</b>?"},
    "dp_pick_close": {
        "en": "Open at {open}. When do you <b>close</b>?",
        "ko": "{open}에 열어요. 몇 시에 <b>문을 닫나요</b>?",
    },
    "dp_pick_mood": {"en": "Which mood for this part of the day?", "ko": "이 시간대의 분위기는?"},
    "dp_pick_start": {
        "en": "When does “{mood}” start? (open {open}–{close})",
        "ko": "“{mood}”은(는) 몇 시에 시작하나요? (영업 {open}–{close})",
    },
    "dp_part_menu": {
        "en": "<b>{time} · {mood}</b>\n{tags}",
        "ko": "<b>{time} · {mood}</b>\n{tags}",
    },
    "dp_saved": {"en": "Saved.", "ko": "저장했어요."},
    "dp_paused": {
        "en": "Paused. Use /dayparts to resume.",
        "ko": "멈췄어요. /dayparts 에서 다시 켤 수 있어요.",
    },
    "dp_resumed": {"en": "Daypart songs are on again.", "ko": "시간대별 추천을 다시 켰어요."},
    "dp_push_header": {
        "en": "🕰 <b>{time} · {mood}</b> — fresh songs for this part of your day\n<i>{tags}</i>",
        "ko": "🕰 <b>{time} · {mood}</b> — 지금 시간대에 맞는 새 곡이에요\n<i>{tags}</i>",
    },
    "dp_err_time": {"en": "That is not a valid time.", "ko": "올바른 시간이 아니에요."},
    "dp_err_hours_same": {
        "en": "Opening and closing time cannot be the same.",
        "ko": "여는 시간과 닫는 시간이 같을 수 없어요.",
    },
    "dp_err_hours_short": {
        "en": "The shop must be open at least {minutes} minutes.",
        "ko": "영업시간은 최소 {minutes}분이어야 해요.",
    },
    "dp_err_too_many": {
        "en": "At most {n} dayparts — remove one first.",
        "ko": "시간대는 최대 {n}개예요. 먼저 하나를 지워 주세요.",
    },
    "dp_err_tags": {"en": "Please pick a mood.", "ko": "분위기를 골라 주세요."},
    "dp_err_outside": {
        "en": "{time} is outside your opening hours ({open}–{close}).",
        "ko": "{time}은(는) 영업시간({open}–{close}) 밖이에요.",
    },
    "dp_err_overlap": {
        "en": "Another daypart already starts at {time}.",
        "ko": "{time}에 시작하는 시간대가 이미 있어요.",
    },
    "dp_err_too_short": {
        "en": "The daypart at {time} would last less than {minutes} minutes (until the next "
        "one or closing time).",
        "ko": "{time} 시간대가 {minutes}분보다 짧아져요 (다음 시간대나 마감까지).",
    },
    "dp_err_no_hours": {
        "en": "Set your opening hours first.",
        "ko": "먼저 영업시간을 정해 주세요.",
    },
    "dp_err_unknown": {
        "en": "That daypart no longer exists.",
        "ko": "그 시간대는 더 이상 없어요.",
    },
    "mood_morning_calm": {"en": "Calm morning", "ko": "차분한 아침"},
    "mood_lunch_bright": {"en": "Bright lunch", "ko": "밝은 점심"},
    "mood_afternoon_chill": {"en": "Chill afternoon", "ko": "느긋한 오후"},
    "mood_evening_cozy": {"en": "Cozy evening", "ko": "포근한 저녁"},
    "mood_dinner_elegant": {"en": "Elegant dinner", "ko": "우아한 저녁 식사"},
    "mood_groovy_night": {"en": "Groovy night", "ko": "그루비한 밤"},
    "mood_late_night": {"en": "Late night", "ko": "늦은 밤"},
    "preset_cafe": {"en": "☕ Café 08–22", "ko": "☕ 카페 08–22"},
    "preset_restaurant": {"en": "🍽 Restaurant 11–22", "ko": "🍽 식당 11–22"},
    "preset_boutique": {"en": "👗 Boutique 10–21", "ko": "👗 부티크 10–21"},
    "preset_bar": {"en": "🍸 Bar 18–02", "ko": "🍸 바 18–02"},
    # --- /taste (handlers/taste.py, core/taste_picture.py) ---
    "cmd_taste": {"en": "A picture of my shop's taste", "ko": "매장 취향 그림"},
    "taste_none": {
        "en": "You have no taste profile yet — there is nothing to draw. Use /retune to pick "
        "your shop's moods and 10 song pairs (takes a minute).",
        "ko": "아직 매장 취향이 없어서 그릴 것이 없어요. /retune 으로 분위기와 10개의 곡 비교를 "
        "해 주세요 (1분이면 돼요).",
    },
    "taste_drawing": {"en": "🎨 Drawing your taste…", "ko": "🎨 취향을 그리고 있어요…"},
    "taste_caption": {
        "en": "🎨 <b>Your shop's taste</b> on a map of the catalog: {picks} picks and {adds} "
        "added songs. Nearby songs sound alike; labels show where moods and styles live.",
        "ko": "🎨 카탈로그 지도 위의 <b>매장 취향</b>: 고른 곡 {picks}개, 추가한 곡 {adds}개. "
        "가까운 곡일수록 비슷하고, 글자는 분위기와 장르의 위치예요.",
    },
    "taste_failed": {
        "en": "I couldn't draw the picture right now. Please try again later.",
        "ko": "지금은 그림을 그릴 수 없어요. 나중에 다시 시도해 주세요.",
    },
    "taste_plot_title": {"en": "Your shop's taste", "ko": "우리 매장 취향"},
    "taste_plot_catalog": {"en": "catalog", "ko": "카탈로그"},
    "taste_plot_picks": {"en": "your picks", "ko": "고른 곡"},
    "taste_plot_adds": {"en": "added songs", "ko": "추가한 곡"},
    "taste_plot_you": {"en": "your shop", "ko": "우리 매장"},
    # --- screenshot OCR refusals (core.ocr errors carry these keys) ---
    "ocr_failed": {
        "en": "Sorry, I couldn't read that picture. Please try another screenshot.",
        "ko": "죄송해요, 이 사진을 읽지 못했어요. 다른 스크린샷으로 다시 시도해 주세요.",
    },
    "ocr_too_large": {
        "en": "That file is too large (max 10 MB). Please send the screenshot as a photo.",
        "ko": "파일이 너무 커요 (최대 10MB). 스크린샷을 사진으로 보내 주세요.",
    },
    "ocr_unsupported_format": {
        "en": "I can read PNG, JPEG and WebP screenshots only.",
        "ko": "PNG, JPEG, WebP 스크린샷만 읽을 수 있어요.",
    },
    "ocr_corrupt": {
        "en": "That image seems damaged. Please take the screenshot again.",
        "ko": "이미지가 손상된 것 같아요. 스크린샷을 다시 찍어 보내 주세요.",
    },
    "ocr_too_many_pixels": {
        "en": "That image is far too big to be a screenshot. Please send a normal screenshot.",
        "ko": "스크린샷이라기엔 이미지가 너무 커요. 일반 스크린샷을 보내 주세요.",
    },
    "ocr_too_small": {
        "en": "That image is too small to read. Please send a full-size screenshot.",
        "ko": "이미지가 너무 작아서 읽을 수 없어요. 원래 크기의 스크린샷을 보내 주세요.",
    },
    "ocr_no_text": {
        "en": "I couldn't find any text in that picture. Is it a playlist screenshot?",
        "ko": "사진에서 글자를 찾지 못했어요. 플레이리스트 스크린샷이 맞나요?",
    },
    "ocr_not_playlist": {
        "en": "I couldn't find a list of songs in that picture. Please send a screenshot "
        "of a playlist (song titles with artists).",
        "ko": "사진에서 곡 목록을 찾지 못했어요. 곡 제목과 가수가 보이는 플레이리스트 "
        "스크린샷을 보내 주세요.",
    },
    "ocr_unavailable": {
        "en": "Screenshot reading is unavailable right now. Please try again later.",
        "ko": "지금은 스크린샷을 읽을 수 없어요. 잠시 후 다시 시도해 주세요.",
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
        "en": "📥 Reading {n} songs from “{name}”…",
        "ko": "📥 “{name}”에서 {n}곡 읽는 중…",
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
    "dayparts",
    "taste",
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
