"""The jobs, and `run_recorded()`: lock, history row, metrics and error capture around a run.

A job never raises out of `run_recorded()`: a crash is logged with its traceback, stored in
`job_runs.error`, counted in `tys_job_runs_total{status="error"}`, and the job simply runs
again at its next scheduled time.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.limits import (
    CANDIDATE_CACHE_PATTERN,
    JOB_RUN_RETENTION_DAYS,
    OAUTH_STATE_RETENTION_S,
    RECOMMENDATION_SET_RETENTION_DAYS,
)
from scheduler.dayparts import job_daypart_pushes
from scheduler.lock import job_lock

log = logging.getLogger("tys.jobs")

JOB_RUNS = Counter("tys_job_runs_total", "Job runs by outcome", ["job", "status"])
JOB_SECONDS = Histogram(
    "tys_job_seconds",
    "Job run duration",
    ["job"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600),
)
JOB_LAST_SUCCESS = Gauge(
    "tys_job_last_success_timestamp", "Unix time of the last good run", ["job"]
)
JOB_RUNNING = Gauge("tys_job_running", "1 while this process runs the job", ["job"])

RUNNER_ID = f"{socket.gethostname()}:{os.getpid()}"


class JobContext(Protocol):
    """What jobs need; bot.runtime.Runtime provides it, so does scheduler.runner's context."""

    settings: Any
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis


@dataclass
class RunOutcome:
    status: str  # ok | error | skipped (configuration) | locked | too_soon
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0
    run_id: int | None = None


class JobSkipped(Exception):
    """Raised by a job that has nothing it may do (e.g. no API key): recorded as skipped."""


def _error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


async def last_runs(engine: AsyncEngine, job: str | None = None) -> dict[str, dict[str, Any]]:
    """The latest recorded run of every job (or of one)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT DISTINCT ON (job) job, id, trigger, status, started_at, finished_at, "
                "duration_s, result, error, runner FROM job_runs "
                "WHERE (CAST(:j AS text) IS NULL OR job = :j) ORDER BY job, started_at DESC"
            ),
            {"j": job},
        )
        return {
            r[0]: {
                "id": r[1],
                "trigger": r[2],
                "status": r[3],
                "started_at": r[4],
                "finished_at": r[5],
                "duration_s": r[6],
                "result": r[7] or {},
                "error": r[8],
                "runner": r[9],
            }
            for r in rows
        }


async def last_success(engine: AsyncEngine, job: str) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT started_at, result FROM job_runs WHERE job = :j AND status = 'ok' "
                    "ORDER BY started_at DESC LIMIT 1"
                ),
                {"j": job},
            )
        ).first()
    return None if row is None else {"started_at": row[0], "result": row[1] or {}}


async def run_recorded(
    engine: AsyncEngine,
    job: str,
    fn: Callable[[], Awaitable[dict[str, Any] | None]],
    *,
    trigger: str = "scheduled",
    min_gap_s: float | None = None,
) -> RunOutcome:
    """Run `fn` under the job's advisory lock and record it in `job_runs`.

    `min_gap_s`: another process already ran this job that recently -> do not run again.
    The lock stops two processes running at once; this stops replicas whose schedules fire a
    few milliseconds apart from running one after the other for the same scheduled time."""
    async with job_lock(engine, job) as got:
        if not got:
            JOB_RUNS.labels(job, "locked").inc()
            log.info("job %s: already running in another process; not started", job)
            return RunOutcome("locked")
        async with engine.begin() as conn:
            # We hold the lock, so any 'running' row of this job is from a process that died.
            await conn.execute(
                text(
                    "UPDATE job_runs SET status = 'error', finished_at = now(), "
                    "error = 'interrupted (the process running it stopped)' "
                    "WHERE job = :j AND status = 'running'"
                ),
                {"j": job},
            )
            if min_gap_s:
                recent = (
                    await conn.execute(
                        text(
                            "SELECT 1 FROM job_runs WHERE job = :j AND status <> 'skipped' "
                            "AND started_at > now() - make_interval(secs => :s) LIMIT 1"
                        ),
                        {"j": job, "s": float(min_gap_s)},
                    )
                ).first()
                if recent is not None:
                    JOB_RUNS.labels(job, "too_soon").inc()
                    log.info("job %s: another process ran it moments ago; not started", job)
                    return RunOutcome("too_soon")
            run_id = int(
                (
                    await conn.execute(
                        text(
                            "INSERT INTO job_runs (job, trigger, status, runner) "
                            "VALUES (:j, :t, 'running', :r) RETURNING id"
                        ),
                        {"j": job, "t": trigger, "r": RUNNER_ID},
                    )
                ).scalar_one()
            )
        started = time.perf_counter()
        JOB_RUNNING.labels(job).set(1)
        log.info("job %s (%s) started", job, trigger)
        status, result, error = "ok", {}, None
        try:
            result = dict(await fn() or {})
        except JobSkipped as exc:
            status, result = "skipped", {"reason": str(exc)}
            log.info("job %s skipped: %s", job, exc)
        except Exception as exc:
            status = "error"
            error = _error_line(exc)
            log.error("job %s failed\n%s", job, traceback.format_exc())
        finally:
            JOB_RUNNING.labels(job).set(0)
        duration = time.perf_counter() - started
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE job_runs SET status = :s, finished_at = now(), duration_s = :d, "
                        "result = CAST(:r AS jsonb), error = :e WHERE id = :id"
                    ),
                    {
                        "s": status,
                        "d": duration,
                        "r": json.dumps(result, default=str),
                        "e": error,
                        "id": run_id,
                    },
                )
        except Exception:
            log.exception("job %s: could not record the result", job)
        JOB_RUNS.labels(job, status).inc()
        JOB_SECONDS.labels(job).observe(duration)
        if status == "ok":
            JOB_LAST_SUCCESS.labels(job).set(time.time())
        log.info("job %s %s in %.1f s %s", job, status, duration, error or "")
        return RunOutcome(status, result, error, duration, run_id)


# --- the jobs ---------------------------------------------------------------------------


async def job_retrain(ctx: JobContext, progress: Any = None) -> dict[str, Any]:
    from core.training import retrain

    s = ctx.settings
    res = await retrain(
        ctx.sessionmaker,
        time_limit=s.retrain_time_limit_s,
        tolerance=s.retrain_gate_tolerance,
        progress=progress,
        workdir=None,
    )
    if res.status == "failed":
        # The old model keeps serving; the run is an error so it shows up and alerts.
        raise RuntimeError(res.reason)
    return res.as_dict()


async def job_owner_refresh(ctx: JobContext) -> dict[str, Any]:
    """Rebuild the embeddings of owners with picks/adds since the last good run."""
    from core.embeddings import rebuild_owner

    prev = await last_success(ctx.engine, "owner_refresh")
    since = prev["started_at"] if prev else datetime.now(UTC) - timedelta(days=1)
    async with ctx.sessionmaker() as session:
        owners = [
            int(r[0])
            for r in await session.execute(
                text("SELECT DISTINCT owner_id FROM taste_signals WHERE created_at >= :t"),
                {"t": since},
            )
        ]
        for owner_id in owners:
            await rebuild_owner(session, owner_id)
        await session.commit()
    return {"owners": len(owners), "since": since.isoformat()}


async def _backfill_tags(ctx: JobContext, limit: int, cursor: int) -> dict[str, Any]:
    from core.catalog.tags import map_tags
    from core.lastfm import LastfmApiError, LastfmClient, LastfmNotFound, LastfmRateLimited

    async with ctx.sessionmaker() as session:
        tag_ids = {
            str(r[0]): int(r[1]) for r in await session.execute(text("SELECT key, id FROM tags"))
        }
        rows = (
            await session.execute(
                text(
                    "SELECT id, title, artist FROM tracks t WHERE id > :c AND NOT EXISTS "
                    "(SELECT 1 FROM track_tags tt WHERE tt.track_id = t.id) ORDER BY id LIMIT :n"
                ),
                {"c": cursor, "n": limit},
            )
        ).all()
        tagged = looked = 0
        last = cursor
        async with LastfmClient.from_settings(ctx.settings) as client:
            for track_id, title, artist in rows:
                try:
                    tags = await client.track_top_tags(artist, title)
                except LastfmNotFound:
                    tags = []
                except LastfmRateLimited:
                    break  # resume from `last` next run
                except LastfmApiError as exc:
                    log.info("backfill: Last.fm %s for track %s", exc, track_id)
                    tags = []
                looked += 1
                last = int(track_id)
                keys, _ = map_tags(t.name for t in tags)
                ids = [tag_ids[k] for k in keys if k in tag_ids]
                for tag_id in ids:
                    await session.execute(
                        text(
                            "INSERT INTO track_tags (track_id, tag_id, weight) VALUES (:t, :g, 1.0) "
                            "ON CONFLICT DO NOTHING"
                        ),
                        {"t": int(track_id), "g": tag_id},
                    )
                tagged += bool(ids)
                await session.commit()  # resumable: each track's result is kept at once
    # Past the end of the untagged tracks: start over next time (new tracks, retries).
    reached_end = looked == len(rows) and len(rows) < limit
    next_cursor = 0 if reached_end else last
    return {"looked": looked, "tagged": tagged, "cursor": next_cursor}


async def _backfill_spotify(ctx: JobContext, limit: int) -> dict[str, Any]:
    from sqlalchemy import select

    from core.catalog.resolve import resolve_track
    from core.models import Track
    from core.spotify import RateLimited, SpotifyError
    from core.spotify.auth import AppToken, SpotifyConfig
    from core.spotify.client import SpotifyClient

    cfg = SpotifyConfig.from_settings(ctx.settings)
    client = SpotifyClient(cfg, AppToken(cfg))
    resolved = done = 0
    stopped = None
    async with ctx.sessionmaker() as session:
        tracks = (
            await session.execute(
                select(Track)
                .where(Track.spotify_status == "unresolved")
                .order_by(Track.interaction_count.desc(), Track.id)
                .limit(limit)
            )
        ).scalars()
        for track in list(tracks):
            try:
                uri = await resolve_track(session, client, track)
            except RateLimited as exc:
                stopped = f"rate limited (retry after {exc.retry_after:g} s)"
                break
            except SpotifyError as exc:
                stopped = _error_line(exc)
                break
            done += 1
            resolved += bool(uri)
            await session.commit()  # unresolved tracks stay unresolved: the next run resumes
    return {"looked": done, "resolved": resolved, "stopped": stopped}


async def job_backfill(ctx: JobContext) -> dict[str, Any]:
    """Tags from Last.fm for untagged tracks, Spotify ids for unresolved ones; whatever is
    configured, within the clients' rate limits, resumable."""
    s = ctx.settings
    has_lastfm = bool(s.lastfm_api_key)
    has_spotify = bool(s.spotify_client_id and s.spotify_client_secret)
    if not (has_lastfm or has_spotify):
        raise JobSkipped("neither LASTFM_API_KEY nor Spotify app credentials are configured")
    out: dict[str, Any] = {}
    if has_lastfm:
        prev = await last_success(ctx.engine, "backfill")
        cursor = int(((prev or {}).get("result") or {}).get("lastfm", {}).get("cursor", 0))
        out["lastfm"] = await _backfill_tags(ctx, s.backfill_batch, cursor)
    if has_spotify:
        out["spotify"] = await _backfill_spotify(ctx, s.backfill_batch)
    return out


async def job_housekeeping(ctx: JobContext) -> dict[str, Any]:
    async with ctx.sessionmaker() as session:
        states = (
            await session.execute(
                text(
                    "DELETE FROM oauth_states WHERE expires_at < now() - make_interval(secs => :s)"
                ),
                {"s": OAUTH_STATE_RETENTION_S},
            )
        ).rowcount
        sets = (
            await session.execute(
                text(
                    "DELETE FROM recommendation_sets "
                    "WHERE created_at < now() - make_interval(days => :d)"
                ),
                {"d": RECOMMENDATION_SET_RETENTION_DAYS},
            )
        ).rowcount
        # The minutely daypart job alone writes ~1,440 history rows a day.
        runs = (
            await session.execute(
                text(
                    "DELETE FROM job_runs WHERE started_at < now() - make_interval(days => :d) "
                    "AND status <> 'running'"
                ),
                {"d": JOB_RUN_RETENTION_DAYS},
            )
        ).rowcount
        await session.commit()
    # Candidate caches normally expire by TTL; a key without one (written by an older build or
    # by hand) would never refresh after a retrain, so it goes.
    stale = 0
    async for key in ctx.redis.scan_iter(match=CANDIDATE_CACHE_PATTERN, count=500):
        if await ctx.redis.ttl(key) == -1:
            stale += await ctx.redis.delete(key)
    return {
        "oauth_states": states,
        "recommendation_sets": sets,
        "job_runs": runs,
        "redis_keys": stale,
    }


JOBS: dict[str, Callable[[JobContext], Awaitable[dict[str, Any]]]] = {
    "retrain": job_retrain,
    "owner_refresh": job_owner_refresh,
    "backfill": job_backfill,
    "housekeeping": job_housekeeping,
    "daypart_pushes": job_daypart_pushes,
}
# The Settings field holding each job's crontab schedule.
SCHEDULE_SETTING = {
    "retrain": "schedule_retrain",
    "owner_refresh": "schedule_owner_refresh",
    "backfill": "schedule_backfill",
    "housekeeping": "schedule_housekeeping",
    "daypart_pushes": "schedule_daypart_pushes",
}
