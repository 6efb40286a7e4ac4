"""Thresholds and limits used across the product: one place for each number."""

from __future__ import annotations

# Size of every embedding (items, owners, tags); the `vector` columns are declared with it.
EMBEDDING_DIM = 64

# Telegram facts (Bot API): callback_data is at most 64 bytes; message text at most 4096 chars.
CALLBACK_DATA_MAX_BYTES = 64
MESSAGE_TEXT_MAX = 4096

# Onboarding: 20 candidates shown as 10 "which fits better?" pairs.
ONBOARDING_CANDIDATES = 20
ONBOARDING_PAIRS = 10
CANDIDATE_CACHE_TTL_S = 6 * 3600

# Recommendations.
REC_PAGE_SIZE = 10
REC_MAX_PER_ARTIST = 2

# Spotify facts (2026): at most 100 URIs per add request; search limit 10 in development mode.
SPOTIFY_ADD_BATCH = 100
SPOTIFY_SEARCH_LIMIT = 10
PLAYLISTS_PER_PAGE = 8
# Playlist choice (core/playlists.py): how long a shown listing's button indexes stay valid.
PLAYLIST_CACHE_TTL_S = 24 * 3600
# Importing a chosen playlist while the owner waits: tracks matched between event-loop turns,
# and Last.fm lookups for tracks new to the catalog (at ~5 requests/s, 30 tracks take 6-12 s;
# the rest are added untagged rather than keeping the owner waiting minutes).
PLAYLIST_MATCH_CHUNK = 50
PLAYLIST_IMPORT_LASTFM_MAX = 30
PLAYLIST_IMPORT_LASTFM_BUDGET_S = 20.0
# Progress edits of one message: Telegram allows about 1 message per second per chat.
PROGRESS_EDIT_INTERVAL_S = 1.5
# Shop name typed in /settings (owners.shop_name holds 128; 64 fits a Telegram button).
SHOP_NAME_MAX = 64
# An owner's last_seen_at is rewritten at most this often (activity counts are per day).
OWNER_TOUCH_S = 60.0

# OAuth state lifetime.
OAUTH_STATE_TTL_S = 600

# Spotify client behaviour.
# Refresh the access token this long before it expires, so a call never starts with a token
# that dies in flight.
SPOTIFY_REFRESH_MARGIN_S = 60
# 429 handling: wait as the server asks (Retry-After), but never longer than this per wait and
# never more than this many times; beyond that the caller gets a clear "busy" error.
SPOTIFY_MAX_RETRY_AFTER_S = 30
SPOTIFY_MAX_429_RETRIES = 3
SPOTIFY_HTTP_TIMEOUT_S = 10
# Page size for reading playlists and their items (the Web API maximum).
SPOTIFY_PAGE_LIMIT = 50
# Catalog -> Spotify resolution: rapidfuzz scores (0-100) on normalised title and artist that a
# search candidate must reach to be accepted; below either one the track is never guessed.
SPOTIFY_MATCH_TITLE_MIN = 90
SPOTIFY_MATCH_ARTIST_MIN = 85

# Catalog matching (core.catalog.matching): one matcher for import de-duplication, Spotify
# resolution and screenshots. Similarities are 0..1 (normalised Levenshtein on match keys).
# The original system took similarity >= 0.6 as "the same song"; 0.6 stays the floor for a
# title, but acceptance asks more, because a wrong match is worse than no match.
MATCH_TITLE_WEIGHT = 0.7
MATCH_ARTIST_WEIGHT = 0.3
MATCH_MIN_TITLE = 0.6  # never accept a title less similar than this
MATCH_MIN_SCORE = 0.85  # weighted title+artist score needed when the artist is known
MATCH_MIN_TITLE_ONLY = 0.86  # title similarity needed when the artist is unknown
MATCH_MIN_ARTIST = 0.75  # a known artist less similar than this is a different artist: refuse
MATCH_AMBIGUITY_MARGIN = 0.03  # two different tracks this close -> no answer rather than a guess
MATCH_TRUNCATED_MIN_KEY = 4  # key characters visible before "…" needed for a prefix match
MATCH_CANDIDATES = 64  # candidates scored per lookup (trigram hits + the artist's tracks)

# Model versions: how many keep their embeddings for rollback.
MODEL_VERSIONS_KEPT = 5
# Owner taste: adds and picks lose half their weight after this many days.
TASTE_HALF_LIFE_DAYS = 30.0
# Serving: candidates fetched from the HNSW index before re-ranking, and the default blend of
# playlist-centroid similarity into the owner-embedding score (REC_PLAYLIST_BLEND setting).
REC_CANDIDATES = 200
REC_PLAYLIST_BLEND = 0.5
HNSW_EF_SEARCH = 100

# Screenshot import: rows kept per import (several screenshots merged), shown in one message.
SCREENSHOT_MAX_ROWS = 60
# Largest screenshot accepted (bytes); Telegram itself lets bots download up to 20 MB.
SCREENSHOT_MAX_BYTES = 10 * 1024 * 1024

# Daypart pushes (core.dayparts, scheduler.dayparts): at most this many dayparts per shop, each
# at least this long, a push of this many tracks, sent at most this late after the daypart
# started (the bot was down at the start), and tracks pushed in the last days not pushed again.
DAYPARTS_MAX = 4
DAYPART_MIN_MINUTES = 60
DAYPART_PUSH_TRACKS = 5
DAYPART_PUSH_MAX_LATE_MIN = 60
DAYPART_FRESH_DAYS = 14
# Weight of the daypart's tag centroid against the owner's taste in the push query (0..1), and
# the score bonus of a candidate carrying one of the daypart's tags: large on the cosine scale,
# so the push plays the daypart's mood (a cozy shop's morning push is still calm), the owner's
# taste choosing among those tracks; untagged tracks only fill up when too few carry the tags.
DAYPART_TAG_BLEND = 0.5
DAYPART_TAG_BONUS = 0.5
# Pushes prepared and sent concurrently in one run (the send queue still enforces the limits).
DAYPART_PUSH_CONCURRENCY = 20

# Telegram sending limits (scheduler.sendqueue): about 30 messages/s overall and 1/s per chat.
SEND_RATE_PER_S = 30.0
SEND_BURST = 30
SEND_CHAT_INTERVAL_S = 1.0
# 429 retry_after is honoured up to this long per wait, this many times; beyond that the message
# is dropped as "failed" (the next push is tomorrow anyway).
SEND_MAX_RETRY_AFTER_S = 60.0
SEND_MAX_RETRIES = 3

# /taste picture: catalog tracks drawn in grey, tag clusters labelled, image width in pixels.
TASTE_SAMPLE_TRACKS = 1500
TASTE_LABEL_TAGS = 8
TASTE_IMAGE_PX = 1080

# Housekeeping (scheduler): what is kept, and for how long.
OAUTH_STATE_RETENTION_S = 3600  # expired OAuth states are deleted after this
JOB_RUN_RETENTION_DAYS = 14  # job history shown by /jobs and /health
RECOMMENDATION_SET_RETENTION_DAYS = 90  # the event log keeps the history for stats
CANDIDATE_CACHE_PATTERN = "tys:cand:*"
