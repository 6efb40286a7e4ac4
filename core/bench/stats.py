"""`tys bench stats [--owners 1000] [--interactions 50000] [--runs 5]`.

Time of the admin's /stats figures (`core.stats.compute`) on generated product data (`tys
datagen`'s generator, in a PostgreSQL database and an event-log database of the run, both
dropped afterwards). "cold" is a /stats with no stored day (it reads the 14 days of events and
stores the 12 closed ones), "warm" the usual case: closed days from stats_days, yesterday and
today from the event log. Prints each run, the medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import text

from core import stats as stats_service
from core.bench import Stopwatch, load_note, median, temporary_database
from core.db import make_engine, make_sessionmaker


async def run(urls: Any, args: argparse.Namespace) -> None:
    from core.catalog.seed import seed_if_empty
    from core.datagen import generate
    from core.events import EventLog

    mongo_db = f"bench_stats_{uuid.uuid4().hex[:10]}"
    async with temporary_database(urls.database_url, "bench_stats") as db_url:
        engine = make_engine(db_url, pool_size=2)
        with TemporaryDirectory() as tmp:
            events = EventLog.from_url(
                urls.mongodb_url.replace("/tys?", f"/{mongo_db}?"), Path(tmp) / "outbox.sqlite"
            )
            try:
                await seed_if_empty(engine)
                maker = make_sessionmaker(engine)
                async with maker() as session:
                    report = await generate(
                        session, events, owners=args.owners, interactions=args.interactions
                    )
                    await session.commit()
                print(
                    f"data: {report.owners} owners, {report.events} events over 30 days "
                    f"({load_note()})"
                )
                cold: list[float] = []
                warm: list[float] = []
                for i in range(args.runs):
                    async with maker() as session:
                        await session.execute(text("DELETE FROM stats_days"))
                        await session.commit()
                        watch = Stopwatch()
                        first = await stats_service.compute(session, events, args.tz)
                        cold.append(watch.s())
                        watch = Stopwatch()
                        again = await stats_service.compute(session, events, args.tz)
                        warm.append(watch.s())
                    if (first.shown, first.added, first.days) != (
                        again.shown,
                        again.added,
                        again.days,
                    ):
                        raise SystemExit("stored days disagree with the event log")
                    print(f"run {i + 1}: cold {cold[-1]:.3f} s, warm {warm[-1]:.3f} s")
                print(
                    f"median of {args.runs}: cold {median(cold):.3f} s, warm {median(warm):.3f} s "
                    f"({median(cold) / median(warm):.1f}x); shown {first.shown}, added "
                    f"{first.added} in {stats_service.DAYS} days"
                )
            finally:
                await events.client.drop_database(mongo_db)
                await events.close()
                await engine.dispose()


def main(argv: list[str], urls: Any, settings: Any) -> int:
    parser = argparse.ArgumentParser(prog="tys bench stats", description=__doc__)
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--interactions", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tz", default=settings.scheduler_timezone)
    args = parser.parse_args(argv)
    if args.owners < 1 or args.interactions < 0 or args.runs < 1:
        parser.error("--owners and --runs must be >= 1, --interactions >= 0")
    asyncio.run(run(urls, args))
    return 0
