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

# OAuth state lifetime.
OAUTH_STATE_TTL_S = 600
