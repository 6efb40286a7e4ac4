"""The retrain job end to end on a generated interaction log, in its own database: a real
LightGCN child process, the numpy gate against the serving (day-one) model, promotion,
refusal, a crashing and a hanging child, rollback."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import training
from core.catalog.seed import seed_session
from core.datagen import generate
from core.db import make_engine, make_sessionmaker, upgrade
from core.embeddings import bootstrap_if_needed, serving_version

TIME_LIMIT = 90.0  # a cap, not a target: this small log trains in seconds on an idle machine


@pytest.fixture(scope="module")
async def sm(services) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database of its own (the tests change the serving model): catalog, day-one
    embeddings and 60 owners with 3000 interactions."""
    name = "t_train_" + uuid.uuid4().hex[:8]
    admin_url = services.database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name}")
    url = services.database_url.replace("/tys?", f"/{name}?")
    await upgrade(url)
    engine = make_engine(url, pool_size=3)
    maker = make_sessionmaker(engine)
    async with maker() as session:
        await seed_session(session)
        await session.commit()
    async with maker() as session:
        assert await bootstrap_if_needed(session) is not None
        report = await generate(session, None, owners=60, interactions=3000, seed=1)
        await session.commit()
    assert report.interactions >= 2900
    try:
        yield maker
    finally:
        await engine.dispose()
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


async def _serving_id(sm: async_sessionmaker[AsyncSession]) -> int:
    async with sm() as session:
        v = await serving_version(session)
        assert v is not None
        return v.id


async def test_graph_uses_only_our_data(sm: async_sessionmaker[AsyncSession]) -> None:
    async with sm() as session:
        data = await training.build_graph(session)
        spotify_pairs = (
            await session.execute(
                text(
                    "SELECT p.owner_id, pt.track_id FROM playlists p JOIN playlist_tracks pt "
                    "ON pt.playlist_id = p.id WHERE p.source = 'spotify'"
                )
            )
        ).all()
        picks_adds = (await session.execute(text("SELECT count(*) FROM taste_signals"))).scalar()
    s = data.summary()
    # Owners who never picked or added anything are not nodes.
    assert (
        50 <= s["owners"] <= 60 and s["playlists"] == 187 and s["holdout"] > 0 and s["vetoes"] > 0
    )
    # Held-out pairs are never in the training edges.
    keys = set(map(tuple, data.ui.tolist()))
    assert not any(tuple(p) in keys for p in data.holdout.tolist())
    # Spotify playlist contents are not training data: a Spotify-only (owner, track) pair is
    # absent unless the owner also picked/added it or has it in a screenshot playlist.
    user = {o: u for u, o in enumerate(data.owner_ids)}
    item = {int(t): i for i, t in enumerate(data.track_ids)}
    async with sm() as session:
        own = {
            (int(o), int(t))
            for o, t in await session.execute(
                text(
                    "SELECT owner_id, track_id FROM taste_signals UNION SELECT p.owner_id, "
                    "pt.track_id FROM playlists p JOIN playlist_tracks pt ON pt.playlist_id = p.id "
                    "WHERE p.source = 'screenshot'"
                )
            )
        }
    only_spotify = [(o, t) for o, t in spotify_pairs if (int(o), int(t)) not in own]
    assert only_spotify, "the generated data should include Spotify playlists"
    assert not any((user[int(o)], item[int(t)]) in keys for o, t in only_spotify)
    assert s["owner_positives"] <= picks_adds


async def test_retrain_promotes_a_better_model(sm: async_sessionmaker[AsyncSession]) -> None:
    before = await _serving_id(sm)
    phases: list[str] = []
    res = await training.retrain(
        sm, time_limit=TIME_LIMIT, tolerance=0.02, progress=lambda p: phases.append(p.phase)
    )
    assert res.status == "promoted", res
    assert res.new["recall@20"] > res.old["recall@20"] > 0
    assert res.child_peak_rss_mb > 50  # torch was loaded in the child, and measured there
    assert {"graph", "train", "evaluate", "publish", "done"} <= set(phases)
    async with sm() as session:
        assert (await serving_version(session)).id == res.version_id != before
        row = (
            await session.execute(
                text("SELECT status, metrics, note FROM model_versions WHERE id = :v"),
                {"v": res.version_id},
            )
        ).one()
        assert row[0] == "serving" and row[1]["old"]["recall@20"] == res.old["recall@20"]
        assert "recall@20" in row[2]
        # Items serve from the new version; trained owners got the model's own vector.
        stale = (
            await session.execute(
                text(
                    "SELECT count(*) FROM tracks WHERE embedding IS NOT NULL "
                    "AND embedding_version <> :v"
                ),
                {"v": res.version_id},
            )
        ).scalar()
        sources = dict(
            (
                await session.execute(
                    text("SELECT source, count(*) FROM owner_embeddings GROUP BY source")
                )
            ).all()
        )
    assert stale == 0
    assert sources.get("model") == res.data["owners"]


async def test_retrain_refused_when_not_good_enough(sm: async_sessionmaker[AsyncSession]) -> None:
    before = await _serving_id(sm)
    # A gate nothing can pass: the new model must be 11x better than the serving one.
    res = await training.retrain(sm, time_limit=TIME_LIMIT, tolerance=-10.0)
    assert res.status == "rejected"
    assert "<" in res.reason and res.new and res.old
    async with sm() as session:
        assert (await serving_version(session)).id == before
        status, note, metrics = (
            await session.execute(
                text("SELECT status, note, metrics FROM model_versions WHERE id = :v"),
                {"v": res.version_id},
            )
        ).one()
    assert status == "rejected" and note == res.reason
    assert metrics["new"]["recall@20"] == res.new["recall@20"]


async def test_crashing_child_leaves_the_old_model(
    sm: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.jobs import run_recorded

    before = await _serving_id(sm)

    def bad_graph(data: training.TrainingData, path: Path) -> None:
        path.write_bytes(b"this is not an npz file")

    monkeypatch.setattr(training, "write_graph", bad_graph)
    res = await training.retrain(sm, time_limit=TIME_LIMIT)
    assert res.status == "failed" and "exited with code 2" in res.reason
    assert "cannot read" in res.reason  # the child's own one-line error
    async with sm() as session:
        assert (await serving_version(session)).id == before
        row = (
            await session.execute(
                text("SELECT status, note FROM model_versions ORDER BY id DESC LIMIT 1")
            )
        ).one()
    assert row[0] == "rejected" and row[1] == res.reason

    # As a job: recorded as an error with the reason, still nothing promoted.
    from bot.settings import load_settings
    from scheduler.jobs import job_retrain
    from scheduler.runner import SimpleContext

    engine = sm.kw["bind"]
    ctx = SimpleContext(load_settings(retrain_time_limit_s=TIME_LIMIT), engine, sm, None)  # type: ignore[arg-type]
    out = await run_recorded(engine, "retrain", lambda: job_retrain(ctx), trigger="manual")
    assert out.status == "error" and "exited with code 2" in (out.error or "")
    async with sm() as session:
        rec = (
            await session.execute(
                text("SELECT status, error FROM job_runs WHERE id = :i"), {"i": out.run_id}
            )
        ).one()
        assert (await serving_version(session)).id == before
    assert rec[0] == "error" and "exited with code 2" in rec[1]


async def test_hanging_child_is_stopped(sm: async_sessionmaker[AsyncSession]) -> None:
    before = await _serving_id(sm)
    # No grace beyond a tiny limit: the child is killed while it is still starting up.
    res = await training.retrain(sm, time_limit=0.01, grace_s=0.3)
    assert res.status == "failed" and "timed out" in res.reason
    assert await _serving_id(sm) == before


async def test_rollback_restores_the_previous_version(
    sm: async_sessionmaker[AsyncSession],
) -> None:
    async with sm() as session:
        current = await serving_version(session)
        previous = await training.rollback(session)
        await session.commit()
    assert previous != current.id
    async with sm() as session:
        assert (await serving_version(session)).id == previous
        emb = (
            await session.execute(
                text("SELECT count(*) FROM tracks WHERE embedding_version = :v"), {"v": previous}
            )
        ).scalar()
        assert emb > 1000
        # And forward again to the trained version, by number.
        assert await training.rollback(session, current.id) == current.id
        await session.commit()
        with pytest.raises(training.TrainingError, match="already serving"):
            await training.rollback(session, current.id)


def test_gate_rule() -> None:
    old = {"recall@20": 0.2}
    assert training.gate(old, {"recall@20": 0.197}, 0.02)[0]  # within tolerance
    assert not training.gate(old, {"recall@20": 0.19}, 0.02)[0]
    assert not training.gate(old, {"recall@20": 0.21}, -0.1)[0]  # demands +10 %
    assert training.gate({}, {"recall@20": 0.0}, 0.02)[0]  # nothing in service
    assert np.isclose(0.2 * (1 - 0.02), 0.196)
