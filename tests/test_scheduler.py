"""Scheduler: the advisory lock lets one of two schedulers run a job, a crash is recorded and
retried, missed runs after downtime run once, and the housekeeping / backfill jobs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import load_settings
from core.db import make_engine, make_sessionmaker, upgrade
from scheduler.jobs import job_backfill, job_housekeeping, last_runs, run_recorded
from scheduler.lock import is_locked, job_lock
from scheduler.runner import JobScheduler, SimpleContext, min_gap, trigger_for
from tests.botproc import REPO, bot_env

DAILY = "0 3 * * *"


@pytest.fixture(scope="module")
async def engine(services) -> AsyncIterator[AsyncEngine]:
    """A migrated database of its own: job history here never meets other tests' bots."""
    name = "t_sched_" + uuid.uuid4().hex[:8]
    admin_url = services.database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name}")
    url = services.database_url.replace("/tys?", f"/{name}?")
    await upgrade(url)
    eng = make_engine(url, pool_size=5)
    try:
        yield eng
    finally:
        await eng.dispose()
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


def _ctx(engine: AsyncEngine, redis: Redis | None = None, **settings: Any) -> SimpleContext:
    return SimpleContext(load_settings(**settings), engine, make_sessionmaker(engine), redis)  # type: ignore[arg-type]


async def _rows(engine: AsyncEngine, job: str) -> list[tuple]:
    async with engine.connect() as conn:
        return list(
            await conn.execute(
                text(
                    "SELECT status, trigger, error, result FROM job_runs WHERE job = :j ORDER BY id"
                ),
                {"j": job},
            )
        )


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_lock_is_exclusive_across_connections(engine: AsyncEngine) -> None:
    async with job_lock(engine, "excl") as first:
        assert first and await is_locked(engine, "excl")
        async with job_lock(engine, "excl") as second:
            assert not second
    assert not await is_locked(engine, "excl")


async def test_two_schedulers_run_the_job_once(engine: AsyncEngine) -> None:
    runs: list[int] = []

    async def probe(ctx: Any) -> dict[str, Any]:
        runs.append(1)
        await asyncio.sleep(0.5)  # long enough for the other scheduler to try meanwhile
        return {"ran": True}

    outcomes: list[str] = []
    both_done = asyncio.Event()
    scheds = []
    for _ in range(2):
        s = JobScheduler(_ctx(engine), jobs={"probe2": (DAILY, probe)}, timezone="UTC")
        fire = s.fire

        async def recorded(name: str, trigger: str = "scheduled", _fire: Any = fire) -> Any:
            out = await _fire(name, trigger)
            outcomes.append(out.status)
            if len(outcomes) == 2:
                both_done.set()
            return out

        s.fire = recorded  # type: ignore[method-assign]
        s.start()
        scheds.append(s)
    # Both fire the job at the same moment, as two replicas do at 03:00.
    when = datetime.now(UTC) + timedelta(seconds=1)
    for s in scheds:
        s.aps.modify_job("probe2", next_run_time=when)
    try:
        async with asyncio.timeout(30):
            await both_done.wait()
    finally:
        for s in scheds:
            await s.stop()
    assert runs == [1]
    assert sorted(outcomes) in (["locked", "ok"], ["ok", "too_soon"])
    assert [r[0] for r in await _rows(engine, "probe2")] == ["ok"]


async def test_crash_is_recorded_counted_and_retried(engine: AsyncEngine) -> None:
    calls: list[int] = []

    async def flaky(ctx: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("boom on the first run")
        return {"n": len(calls)}

    s = JobScheduler(_ctx(engine), jobs={"flaky": (DAILY, flaky)}, timezone="UTC")
    s.start()
    errors_before = _metric("tys_job_runs_total", job="flaky", status="error")
    try:
        out = await s.fire("flaky")
        assert out.status == "error" and "ValueError: boom" in (out.error or "")
        # Still scheduled: the scheduler is alive and the job has its next run.
        assert s.aps.running and s.next_run_times()["flaky"] is not None
        assert _metric("tys_job_runs_total", job="flaky", status="error") == errors_before + 1
        # The next scheduled run (a day later) runs it again.
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE job_runs SET started_at = started_at - interval '1 day' WHERE job = 'flaky'"
                )
            )
        assert (await s.fire("flaky")).status == "ok"
    finally:
        await s.stop()
    rows = await _rows(engine, "flaky")
    assert [r[0] for r in rows] == ["error", "ok"]
    assert "boom on the first run" in rows[0][2]
    history = await last_runs(engine, "flaky")
    assert history["flaky"]["status"] == "ok"


async def test_missed_runs_after_downtime_run_once(engine: AsyncEngine) -> None:
    runs: list[str] = []

    async def nightly(ctx: Any) -> dict[str, Any]:
        runs.append("x")
        return {}

    # The last run was three days ago: three 03:00 runs were missed while "down".
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO job_runs (job, trigger, status, started_at, finished_at) VALUES "
                "('nightly', 'scheduled', 'ok', now() - interval '3 days', "
                "now() - interval '3 days')"
            )
        )
    s = JobScheduler(
        _ctx(engine), jobs={"nightly": (DAILY, nightly)}, timezone="UTC", misfire_grace_s=7 * 86400
    )
    try:
        assert await s.catch_up() == ["nightly"]
        assert await s.catch_up() == []  # it just ran: nothing is missed any more
    finally:
        await s.stop()
    assert runs == ["x"]
    assert [r[1] for r in await _rows(engine, "nightly")] == ["scheduled", "catch-up"]

    # Beyond the grace time a missed run is dropped, not run late.
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE job_runs SET started_at = started_at - interval '10 days' WHERE job = 'nightly'"
            )
        )
    s = JobScheduler(
        _ctx(engine), jobs={"nightly": (DAILY, nightly)}, timezone="UTC", misfire_grace_s=3600
    )
    assert await s.catch_up() == []
    assert runs == ["x"]


def test_min_gap_is_half_the_period() -> None:
    assert min_gap(trigger_for(DAILY, "UTC")) == 12 * 3600
    assert min_gap(trigger_for("*/15 * * * *", "UTC")) == 450


async def test_housekeeping(engine: AsyncEngine, redis: Redis) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO owners (id) VALUES (5550001) ON CONFLICT DO NOTHING"))
        await conn.execute(
            text(
                "INSERT INTO oauth_states (nonce, owner_id, code_verifier, expires_at) VALUES "
                "('old', 5550001, 'v', now() - interval '2 hours'), "
                "('live', 5550001, 'v', now() + interval '5 minutes')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO recommendation_sets (owner_id, page, context, created_at) VALUES "
                "(5550001, 0, '{}', now() - interval '200 days'), (5550001, 0, '{}', now())"
            )
        )
    await redis.set("tys:cand:hk-test-leaked", "[]")
    await redis.set("tys:cand:hk-test-fresh", "[]", ex=600)
    out = await job_housekeeping(_ctx(engine, redis))
    assert out["oauth_states"] == 1 and out["recommendation_sets"] == 1
    assert out["redis_keys"] >= 1
    assert await redis.exists("tys:cand:hk-test-leaked") == 0
    assert await redis.exists("tys:cand:hk-test-fresh") == 1
    async with engine.connect() as conn:
        nonces = [r[0] for r in await conn.execute(text("SELECT nonce FROM oauth_states"))]
        sets = (await conn.execute(text("SELECT count(*) FROM recommendation_sets"))).scalar()
    assert nonces == ["live"] and sets == 1
    await redis.delete("tys:cand:hk-test-fresh")


async def test_backfill_skips_cleanly_without_keys(engine: AsyncEngine) -> None:
    ctx = _ctx(engine, lastfm_api_key="", spotify_client_id="", spotify_client_secret="")
    out = await run_recorded(engine, "backfill", lambda: job_backfill(ctx))
    assert out.status == "skipped" and "LASTFM_API_KEY" in out.result["reason"]
    assert (await _rows(engine, "backfill"))[-1][0] == "skipped"


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


async def test_scheduler_process_serves_health_and_metrics(
    engine: AsyncEngine, services, data_dir: Path
) -> None:
    """`tys scheduler` (docker-compose's scheduler service) on its own WEB_PORT."""
    url = engine.url.render_as_string(hide_password=False)
    env = bot_env(data_dir, "http://127.0.0.1:9", DATABASE_URL=url)
    log_path = data_dir / f"scheduler-{uuid.uuid4().hex[:6]}.log"
    child = _spawn(["scheduler"], env, log_path)
    base = f"http://127.0.0.1:{env['WEB_PORT']}"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            async with asyncio.timeout(120):
                while True:
                    assert child.poll() is None, log_path.read_text()
                    try:
                        health = await client.get(f"{base}/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.2)
            assert health.status_code == 200 and health.json()["status"] == "ok"
            metrics = (await client.get(f"{base}/metrics")).text
        assert "tys_job_runs_total" in metrics
        assert "scheduler started" in log_path.read_text()
    finally:
        child.terminate()
        code = await asyncio.to_thread(child.wait, 60)
    assert code == 0, log_path.read_text()


async def test_backfill_tags_from_lastfm_in_resumable_batches(engine: AsyncEngine) -> None:
    from tests.fakes.lastfm import FakeLastfm, FakeTrack

    songs = [("Bf Artist", f"Bf Song {i}") for i in range(3)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                'INSERT INTO tags (key, "group", label_en, label_ko) VALUES '
                "('jazz', 'genre', 'Jazz', '재즈'), ('cozy', 'mood', 'Cozy', '아늑한') "
                "ON CONFLICT DO NOTHING"
            )
        )
        for artist, title in songs:
            await conn.execute(
                text(
                    "INSERT INTO tracks (title, artist, norm_title, norm_artist, explicit, "
                    "popularity, source, spotify_status, interaction_count) VALUES "
                    "(:t, :a, :nt, :na, false, 0, 'seed', 'unresolved', 0)"
                ),
                {"t": title, "a": artist, "nt": title.lower(), "na": artist.lower()},
            )
    library = [FakeTrack(a, t, tags=[("jazz", 100), ("cozy", 60)]) for a, t in songs[:2]]
    async with FakeLastfm((library, {})) as fake:
        ctx = _ctx(
            engine,
            lastfm_api_key=fake.api_key,
            lastfm_api_base=fake.base_url,
            spotify_client_id="",
            backfill_batch=2,
        )
        first = await run_recorded(engine, "backfill", lambda: job_backfill(ctx))
        second = await run_recorded(engine, "backfill", lambda: job_backfill(ctx))
        calls = [r.track for r in fake.calls("track.getTopTags")]
    assert first.status == second.status == "ok"
    assert first.result["lastfm"]["looked"] == 2 and first.result["lastfm"]["cursor"] > 0
    # The second run resumed after the first one's last track and reached the end.
    assert second.result["lastfm"]["looked"] == 1 and second.result["lastfm"]["cursor"] == 0
    assert sorted(c[1] for c in calls) == [t for _, t in songs]  # each track asked once
    async with engine.connect() as conn:
        tagged = dict(
            (
                await conn.execute(
                    text(
                        "SELECT t.title, array_agg(g.key ORDER BY g.key) FROM tracks t "
                        "JOIN track_tags tt ON tt.track_id = t.id JOIN tags g ON g.id = tt.tag_id "
                        "WHERE t.artist = 'Bf Artist' GROUP BY t.title"
                    )
                )
            ).all()
        )
    assert tagged == {"Bf Song 0": ["cozy", "jazz"], "Bf Song 1": ["cozy", "jazz"]}


async def test_owner_refresh_rebuilds_owners_with_new_signals(engine: AsyncEngine) -> None:
    import numpy as np

    from core.embeddings import create_version, owner_embedding, promote
    from scheduler.jobs import job_owner_refresh

    sm = make_sessionmaker(engine)
    async with sm() as session:
        ids = [int(r[0]) for r in await session.execute(text("SELECT id FROM tracks ORDER BY id"))]
        if not ids:  # this module's database may have no catalog yet
            for i in range(3):
                await session.execute(
                    text(
                        "INSERT INTO tracks (title, artist, norm_title, norm_artist, explicit, "
                        "popularity, source, spotify_status, interaction_count) VALUES "
                        "(:t, 'Or', :t, 'or', false, 0, 'seed', 'unresolved', 0)"
                    ),
                    {"t": f"or song {i}"},
                )
            ids = [int(r[0]) for r in await session.execute(text("SELECT id FROM tracks"))]
        emb = np.eye(len(ids), 64, dtype=np.float32)
        version = await create_version(session, np.array(ids), emb, params={"kind": "test"})
        await promote(session, version)
        await session.execute(text("INSERT INTO owners (id) VALUES (5550002)"))
        await session.execute(
            text(
                "INSERT INTO taste_signals (owner_id, track_id, kind) VALUES (5550002, :t, 'pick')"
            ),
            {"t": ids[0]},
        )
        await session.commit()
    ctx = _ctx(engine)
    first = await run_recorded(engine, "owner_refresh", lambda: job_owner_refresh(ctx))
    assert first.status == "ok" and first.result["owners"] == 1
    async with sm() as session:
        vec = await owner_embedding(session, 5550002)
    assert vec is not None and np.allclose(vec, emb[0])
    # Nothing new since the last good run: nobody is rebuilt.
    second = await run_recorded(engine, "owner_refresh", lambda: job_owner_refresh(ctx))
    assert second.status == "ok" and second.result["owners"] == 0
