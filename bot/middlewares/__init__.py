"""Middlewares, outermost first: errors -> de-duplication -> throttling -> one update at a
time per owner -> DB session -> owner."""

from bot.middlewares.dedup import DedupMiddleware
from bot.middlewares.errors import ErrorMiddleware
from bot.middlewares.owner import DbSessionMiddleware, OwnerMiddleware
from bot.middlewares.serial import SerialPerOwnerMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.middlewares.timing import TimingMiddleware

__all__ = [
    "DbSessionMiddleware",
    "DedupMiddleware",
    "ErrorMiddleware",
    "OwnerMiddleware",
    "SerialPerOwnerMiddleware",
    "ThrottlingMiddleware",
    "TimingMiddleware",
]
