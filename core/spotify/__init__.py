"""Spotify: account linking (auth) and the per-owner Web API client (client).

Errors live here so both modules (and their callers) share one hierarchy without importing
each other.
"""

from __future__ import annotations


class SpotifyError(Exception):
    """Base of every Spotify failure a caller may want to show the owner."""


class NotConfigured(SpotifyError):
    """SPOTIFY_CLIENT_ID (and, where needed, SPOTIFY_CLIENT_SECRET) are not set."""


class NotLinked(SpotifyError):
    """The owner has no Spotify tokens (never linked, or unlinked)."""


class LinkExpired(SpotifyError):
    """Spotify refused the refresh token (invalid_grant): the owner must link again.

    By the time this is raised the owner is marked `expired` and the tokens are deleted."""


class StateError(SpotifyError):
    """The OAuth state is not acceptable. `reason` is forged | expired | replayed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"OAuth state {reason}")
        self.reason = reason


class TokenExchangeError(SpotifyError):
    """The accounts service refused or failed a token request (not invalid_grant on refresh)."""

    def __init__(self, error: str, description: str = "", status: int = 0) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


class SpotifyUnavailable(SpotifyError):
    """Spotify answered 5xx or could not be reached."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(SpotifyError):
    """Spotify kept answering 429, or asked to wait longer than we are willing to."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Spotify rate limit: retry after {retry_after:g} s")
        self.retry_after = retry_after


class RequestRejected(SpotifyError):
    """Any other 4xx answer (bad request, forbidden, not found)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Spotify answered {status}: {message}")
        self.status = status
        self.message = message
