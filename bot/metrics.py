"""Prometheus metrics of the bot process (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

UPDATES = Counter("tys_updates_total", "Updates received", ["type"])
UPDATES_DUPLICATE = Counter("tys_updates_duplicate_total", "Updates skipped as already seen")
UPDATES_THROTTLED = Counter("tys_updates_throttled_total", "Updates dropped by throttling")
HANDLER_ERRORS = Counter("tys_handler_errors_total", "Unhandled errors in handlers")
HANDLER_LATENCY = Histogram(
    "tys_handler_seconds",
    "Time from receiving an update to the end of its handler",
    ["handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
