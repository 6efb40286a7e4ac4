"""APScheduler 3 (AsyncIOScheduler) driving the jobs, in `tys run` or as `tys scheduler`.

Every process that runs a scheduler fires every job at the same crontab times; the job's
advisory lock (plus a min-gap check) lets exactly one of them run it.

Missed runs: APScheduler's in-memory job store forgets schedules across restarts, so at start
the scheduler compares each job's last recorded run (job_runs) with its crontab: if a fire
time passed while nothing ran it (downtime), the job runs once now — however many fire
times were missed (coalesced) — provided the miss is within SCHEDULER_MISFIRE_GRACE_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduler.jobs import JOBS, SCHEDULE_SETTING, JobContext, RunOutcome, last_runs, run_recorded

log = logging.getLogger("tys.scheduler")

JobFn = Callable[[JobContext], Awaitable[dict[str, Any]]]


def trigger_for(expr: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(expr, timezone=timezone)


def min_gap(trigger: CronTrigger, now: datetime | None = None) -> float:
    """Half the time between the next two fire times: a run this recent is the same slot."""
    now = now or datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    if first is None or second is None:
        return 0.0
    return max(0.0, (second - first).total_seconds() / 2)


def schedules(settings: Any) -> dict[str, str]:
    return {name: getattr(settings, attr) for name, attr in SCHEDULE_SETTING.items()}


def next_fire_times(settings: Any) -> dict[str, datetime | None]:
    """When each job fires next by the configured schedule (for processes without a
    scheduler of their own, e.g. a bot replica with SCHEDULER_EMBEDDED=false)."""
    now = datetime.now(UTC)
    return {
        name: trigger_for(expr, settings.scheduler_timezone).get_next_fire_time(None, now)
        for name, expr in schedules(settings).items()
    }


@dataclass
class SimpleContext:
    """Job context for a process without a bot (tests, `tys scheduler`)."""

    settings: Any
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis


class JobScheduler:
    def __init__(
        self,
        ctx: JobContext,
        *,
        jobs: dict[str, tuple[str, JobFn]] | None = None,
        timezone: str | None = None,
        misfire_grace_s: int | None = None,
    ) -> None:
        s = ctx.settings
        self.ctx = ctx
        self.timezone = timezone or s.scheduler_timezone
        self.grace = misfire_grace_s if misfire_grace_s is not None else s.scheduler_misfire_grace_s
        if jobs is None:
            jobs = {name: (schedules(s)[name], fn) for name, fn in JOBS.items()}
        self.jobs = jobs
        self.triggers = {name: trigger_for(expr, self.timezone) for name, (expr, _) in jobs.items()}
        self.aps = AsyncIOScheduler(
            timezone=self.timezone,
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": self.grace,
                "max_instances": 1,
            },
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started = False

    async def fire(self, name: str, trigger: str = "scheduled") -> RunOutcome:
        """One run of a job as the schedule starts it; never raises."""
        _, fn = self.jobs[name]
        try:
            return await run_recorded(
                self.ctx.engine,
                name,
                lambda: fn(self.ctx),
                trigger=trigger,
                min_gap_s=min_gap(self.triggers[name]),
            )
        except Exception as exc:  # e.g. the database is down: try again next time
            log.exception("job %s could not start", name)
            return RunOutcome("error", error=f"{type(exc).__name__}: {exc}")

    def start(self) -> None:
        for name, trig in self.triggers.items():
            self.aps.add_job(self.fire, trig, args=[name], id=name, name=name)
        self.aps.start()
        self.started = True
        task = asyncio.get_running_loop().create_task(self.catch_up(), name="scheduler-catch-up")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.info(
            "scheduler started: %s",
            ", ".join(
                f"{n} next {j.next_run_time:%Y-%m-%d %H:%M %Z}"
                for n, j in self.next_runs().items()
                if j
            ),
        )

    async def catch_up(self) -> list[str]:
        """Run once now every job whose scheduled time passed with no run (see module doc)."""
        ran: list[str] = []
        try:
            history = await last_runs(self.ctx.engine)
        except Exception:
            log.exception("scheduler: cannot read job history; no catch-up")
            return ran
        now = datetime.now(UTC)
        for name, trig in self.triggers.items():
            last = history.get(name)
            if last is None:
                continue  # never ran here: a new deployment, not downtime
            missed = trig.get_next_fire_time(None, last["started_at"] + timedelta(seconds=1))
            if missed is None or missed > now:
                continue
            if (now - missed).total_seconds() > self.grace:
                log.info("scheduler: %s missed %s, beyond the grace time; skipped", name, missed)
                continue
            log.info("scheduler: %s missed its run at %s; running it once now", name, missed)
            await self.fire(name, trigger="catch-up")
            ran.append(name)
        return ran

    def next_runs(self) -> dict[str, Any]:
        return {j.id: j for j in self.aps.get_jobs()}

    def next_run_times(self) -> dict[str, datetime | None]:
        return {name: job.next_run_time for name, job in self.next_runs().items()}

    async def stop(self) -> None:
        if self.started:
            self.aps.shutdown(wait=False)
            self.started = False
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


# --- the `tys scheduler` process ----------------------------------------------------------


async def serve_scheduler(rt: Any, stop: asyncio.Event) -> None:
    """Run the scheduler and the web app (/healthz, /metrics) until `stop` is set."""
    from aiohttp import web

    from bot.web import build_app

    sched = JobScheduler(rt)
    rt.scheduler = sched
    app = build_app(rt)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, rt.settings.web_host, rt.settings.web_port)
    await site.start()
    sched.start()
    log.info("scheduler process ready; web on %s:%s", rt.settings.web_host, rt.settings.web_port)
    try:
        await stop.wait()
    finally:
        await sched.stop()
        await runner.cleanup()


def main(argv: list[str], urls: Any, settings: Any) -> int:
    """`tys scheduler`: the jobs in their own process (docker-compose's `scheduler`)."""
    import signal

    from bot.runtime import Runtime

    async def go() -> int:
        rt = Runtime(settings, urls.database_url, urls.redis_url, urls.mongodb_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await rt.connect()
            await rt.migrate()
            await serve_scheduler(rt, stop)
        finally:
            await rt.close()
        return 0

    return asyncio.run(go())
