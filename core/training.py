"""Retraining: our interaction data -> LightGCN in a child process -> quality gate -> promotion.

The bot and scheduler processes never import torch: the graph is written to an .npz, a child
`python -m recommender train` trains on it, and this module reads the embeddings back and
scores old and new models with numpy (recommender.scoring is numpy-only).

What the model learns from (and nothing else):
- owners' onboarding picks and adds (`taste_signals`, the operational copy of the event log);
- playlists the owner gave us themselves: screenshot imports and the playlists the bot built
  from their adds. Playlists read from Spotify are NOT used: Spotify's terms forbid training
  models on Spotify content, and a Spotify playlist's track list is exactly that;
- owners' track vetoes, as hard negatives;
- the bundled starter playlists (each one a user node) and catalog tags.

The quality gate scores the serving model and the new one on the same held-out slice of every
owner's most recent picks/adds (never trained on). The serving model's owner vector is built
the way serving builds it (the mean of the owner's training-side picks/adds in that model's
item space); the new model's is its user embedding, which is what promotion stores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.embeddings import as_array, create_version, promote, prune_versions, serving_version
from core.limits import EMBEDDING_DIM
from core.models import ModelVersion
from recommender.scoring import evaluate_embeddings

log = logging.getLogger(__name__)

# Edge weights: an add is a stronger statement than a pick between two candidates; a
# screenshot playlist is the owner's but was not chosen track by track.
WEIGHT_PICK = 1.0
WEIGHT_ADD = 2.0
WEIGHT_OWNER_PLAYLIST = 0.5
WEIGHT_STARTER = 1.0
# Owner playlist sources we may train on (never 'spotify', see the module docstring).
TRAINABLE_PLAYLIST_SOURCES = ("screenshot", "bot")
# Held-out slice: the most recent HOLDOUT_FRAC of the picks/adds of owners with at least
# HOLDOUT_MIN_OWNER distinct positive tracks (at least one each).
HOLDOUT_FRAC = 0.1
HOLDOUT_MIN_OWNER = 5
# The training child gets its time limit; past limit + this grace it is killed (torch import,
# graph loading and writing the output come on top of the training budget).
CHILD_GRACE_S = 120.0
GATE_METRIC = "recall@20"


class TrainingError(Exception):
    """Nothing to train on, or the child failed; the message says why (one line)."""


# --- the graph --------------------------------------------------------------------------


@dataclass
class TrainingData:
    track_ids: np.ndarray  # item index -> track id
    owner_ids: list[int]  # user index -> owner id (owners first, then playlists)
    n_users: int
    n_tags: int
    ui: np.ndarray  # [E, 2] training positives
    ui_weight: np.ndarray  # [E]
    it: np.ndarray  # [T, 2] (item, tag)
    neg: np.ndarray  # [N, 2] vetoes
    holdout: np.ndarray  # [H, 2] owners' most recent positives (never trained on)
    n_owner_positives: int
    n_playlists: int

    def summary(self) -> dict[str, int]:
        return {
            "owners": len(self.owner_ids),
            "playlists": self.n_playlists,
            "items": len(self.track_ids),
            "tags": self.n_tags,
            "edges": len(self.ui),
            "owner_positives": self.n_owner_positives,
            "holdout": len(self.holdout),
            "vetoes": len(self.neg),
        }


def _pairs(rows: list[tuple[int, int]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


async def build_graph(session: AsyncSession, holdout_frac: float = HOLDOUT_FRAC) -> TrainingData:
    track_ids = np.array(
        [int(r[0]) for r in await session.execute(text("SELECT id FROM tracks ORDER BY id"))],
        dtype=np.int64,
    )
    if not len(track_ids):
        raise TrainingError("the catalog is empty")
    item = {int(t): i for i, t in enumerate(track_ids)}

    # Latest signal per (owner, track): an add outweighs a pick of the same track.
    signals = (
        await session.execute(
            text(
                "SELECT owner_id, track_id, max(CASE kind WHEN 'add' THEN 2 ELSE 1 END), "
                "max(created_at) FROM taste_signals GROUP BY owner_id, track_id "
                "ORDER BY owner_id, max(created_at), track_id"
            )
        )
    ).all()
    owner_pl = (
        await session.execute(
            text(
                "SELECT DISTINCT p.owner_id, pt.track_id FROM playlists p "
                "JOIN playlist_tracks pt ON pt.playlist_id = p.id "
                "WHERE p.owner_id IS NOT NULL AND p.source = ANY(:src)"
            ),
            {"src": list(TRAINABLE_PLAYLIST_SOURCES)},
        )
    ).all()
    vetoes = (
        await session.execute(
            text("SELECT owner_id, track_id FROM vetoes WHERE track_id IS NOT NULL")
        )
    ).all()
    starter = (
        await session.execute(
            text(
                "SELECT pt.playlist_id, pt.track_id FROM playlist_tracks pt "
                "JOIN playlists p ON p.id = pt.playlist_id WHERE p.source = 'starter' "
                "ORDER BY pt.playlist_id"
            )
        )
    ).all()
    tag_rows = (await session.execute(text("SELECT track_id, tag_id FROM track_tags"))).all()

    owners = sorted({int(r[0]) for r in signals} | {int(r[0]) for r in owner_pl})
    user = {o: u for u, o in enumerate(owners)}
    playlists = sorted({int(r[0]) for r in starter})
    pl_user = {p: len(owners) + j for j, p in enumerate(playlists)}

    by_owner: dict[int, list[tuple[int, float]]] = {}
    for owner_id, track_id, kind, _ in signals:
        if int(track_id) in item:
            w = WEIGHT_ADD if int(kind) == 2 else WEIGHT_PICK
            by_owner.setdefault(int(owner_id), []).append((item[int(track_id)], w))
    held: set[tuple[int, int]] = set()
    ui_rows: list[tuple[int, int]] = []
    weights: list[float] = []
    for owner_id, items in by_owner.items():
        u = user[owner_id]
        n_hold = max(1, int(len(items) * holdout_frac)) if len(items) >= HOLDOUT_MIN_OWNER else 0
        # Rows are in time order: the newest n_hold are held out.
        for i, w in items[: len(items) - n_hold]:
            ui_rows.append((u, i))
            weights.append(w)
        held.update((u, i) for i, _ in items[len(items) - n_hold :])
    n_owner_pos = sum(len(v) for v in by_owner.values())
    for owner_id, track_id in owner_pl:
        key = (user[int(owner_id)], item.get(int(track_id), -1))
        if key[1] >= 0 and key not in held:
            ui_rows.append(key)
            weights.append(WEIGHT_OWNER_PLAYLIST)
    for playlist_id, track_id in starter:
        if int(track_id) in item:
            ui_rows.append((pl_user[int(playlist_id)], item[int(track_id)]))
            weights.append(WEIGHT_STARTER)
    if not ui_rows:
        raise TrainingError("no interactions and no starter playlists to train on")
    neg = [(user[int(o)], item[int(t)]) for o, t in vetoes if int(o) in user and int(t) in item]
    tags = {g: j for j, g in enumerate(sorted({int(r[1]) for r in tag_rows}))}
    it = [(item[int(t)], tags[int(g)]) for t, g in tag_rows if int(t) in item]
    return TrainingData(
        track_ids=track_ids,
        owner_ids=owners,
        n_users=len(owners) + len(playlists),
        n_tags=len(tags),
        ui=_pairs(ui_rows),
        ui_weight=np.asarray(weights, dtype=np.float32),
        it=_pairs(it),
        neg=_pairs(neg),
        holdout=_pairs(sorted(held)),
        n_owner_positives=n_owner_pos,
        n_playlists=len(playlists),
    )


def write_graph(data: TrainingData, path: Path) -> None:
    """The input of `python -m recommender train` (see recommender/product.py)."""
    arrays: dict[str, Any] = {
        "n_users": np.int64(data.n_users),
        "n_items": np.int64(len(data.track_ids)),
        "n_tags": np.int64(data.n_tags),
        "ui": data.ui,
        "ui_weight": data.ui_weight,
        "it": data.it,
    }
    if len(data.neg):
        arrays["neg"] = data.neg
    if len(data.holdout):
        arrays["holdout"] = data.holdout
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


# --- the child process ------------------------------------------------------------------


@dataclass
class Progress:
    phase: str  # graph | train | evaluate | publish | done
    detail: str = ""
    fraction: float | None = None  # of the current phase, when known
    elapsed_s: float = 0.0


ProgressFn = Callable[[Progress], Awaitable[None] | None]

# tqdm's bar as the child writes it: "early-stop:  12%|###  | 6/50 [00:03<00:20, ...]"
_TQDM = re.compile(r"([\w-]+):\s+(\d+)%\|[^|]*\|\s*(\d+)/(\d+)")


@dataclass
class ChildResult:
    returncode: int | None
    wall_s: float
    peak_rss_mb: float
    timed_out: bool
    stderr_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def reason(self) -> str:
        if self.timed_out:
            return f"training timed out after {self.wall_s:.0f} s and was stopped"
        last = self.stderr_tail.strip().splitlines()[-1:] or ["no message"]
        return f"training process exited with code {self.returncode}: {last[0][:300]}"


def _child_env() -> dict[str, str]:
    """The training child's environment: this process's, minus thread caps set for other
    work (core.ocr pins OMP_THREAD_LIMIT=1 for Tesseract), so torch gets its own threads."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def run_child(
    graph: Path,
    output: Path,
    *,
    time_limit: float,
    seed: int = 0,
    grace_s: float = CHILD_GRACE_S,
    progress: Callable[[str, int, int], None] | None = None,
) -> ChildResult:
    """Run the trainer; its exact peak RSS comes from wait4() on its pid."""
    cmd = [
        sys.executable,
        "-m",
        "recommender",
        "train",
        "--input",
        str(graph),
        "--output",
        str(output),
        "--time-limit",
        str(time_limit),
        "--seed",
        str(seed),
        "--dim",
        str(EMBEDDING_DIM),
        "--progress",
    ]
    started = time.perf_counter()
    # Popen, not asyncio's subprocess API: asyncio would reap the child itself and its
    # rusage (peak RSS) would be lost; Popen returns as soon as the child is started.
    proc = subprocess.Popen(  # noqa: ASYNC220
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_child_env(),
    )
    assert proc.stderr is not None
    tail: list[str] = []

    def read_stderr() -> None:
        # tqdm redraws with \r; every fragment is a progress line or a message.
        buf = b""
        while chunk := os.read(proc.stderr.fileno(), 4096):  # type: ignore[union-attr]
            buf += chunk
            *parts, buf = re.split(rb"[\r\n]", buf)
            for raw in parts:
                line = raw.decode(errors="replace").strip()
                if not line:
                    continue
                m = _TQDM.search(line)
                if m and progress is not None:
                    progress(m.group(1), int(m.group(3)), int(m.group(4)))
                elif not m:
                    tail.append(line)
                    del tail[:-20]
        if buf.strip():
            tail.append(buf.decode(errors="replace").strip())

    reader = threading.Thread(target=read_stderr, name="train-stderr", daemon=True)
    reader.start()
    loop = asyncio.get_running_loop()
    # wait4 (not Popen.wait) because it also returns the child's own rusage: ru_maxrss is
    # its peak resident set, whatever happened between samples.
    waiter = loop.run_in_executor(None, os.wait4, proc.pid, 0)
    timed_out = False
    try:
        done, _ = await asyncio.wait({waiter}, timeout=time_limit + grace_s)
    except asyncio.CancelledError:
        # The process is shutting down mid-training: never leave an orphaned trainer behind.
        proc.kill()
        raise
    if not done:
        timed_out = True
        proc.kill()
    _, status, usage = await waiter
    proc.returncode = os.waitstatus_to_exitcode(status)
    await asyncio.to_thread(reader.join, 10)
    with contextlib.suppress(OSError):
        proc.stderr.close()
    return ChildResult(
        returncode=proc.returncode,
        wall_s=time.perf_counter() - started,
        peak_rss_mb=usage.ru_maxrss / 1024.0,  # Linux reports KiB
        timed_out=timed_out,
        stderr_tail="\n".join(tail),
    )


# --- scoring and the gate ---------------------------------------------------------------


async def serving_item_matrix(session: AsyncSession, track_ids: np.ndarray) -> np.ndarray:
    """The serving model's item vectors in our item order (zeros for tracks it lacks)."""
    index = {int(t): i for i, t in enumerate(track_ids)}
    mat = np.zeros((len(track_ids), EMBEDDING_DIM), dtype=np.float32)
    rows = await session.execute(
        text("SELECT id, embedding FROM tracks WHERE embedding IS NOT NULL")
    )
    for tid, emb in rows:
        i = index.get(int(tid))
        if i is not None:
            mat[i] = as_array(emb)
    return mat


def taste_owner_vectors(data: TrainingData, item_emb: np.ndarray) -> np.ndarray:
    """Owner vectors as serving builds them from history: the mean of the owner's
    (training-side) positives in this item space; playlist users get zeros."""
    users = np.zeros((data.n_users, item_emb.shape[1]), dtype=np.float32)
    own = data.ui[data.ui[:, 0] < len(data.owner_ids)]
    if len(own):
        np.add.at(users, own[:, 0], item_emb[own[:, 1]])
        counts = np.bincount(own[:, 0], minlength=data.n_users).astype(np.float32)
        users /= np.maximum(counts, 1.0)[:, None]
    return users


def score(data: TrainingData, user_emb: np.ndarray, item_emb: np.ndarray) -> dict[str, float]:
    if not len(data.holdout):
        return {}
    return evaluate_embeddings(user_emb, item_emb, data.holdout, data.ui)


def gate(old: dict[str, float], new: dict[str, float], tolerance: float) -> tuple[bool, str]:
    """(promote?, why). Not worse than the serving model on the same held-out pairs."""
    if not new:
        return True, "no held-out interactions yet: nothing to compare, promoted"
    if not old:
        return True, "no model in service to compare with"
    o, n = float(old[GATE_METRIC]), float(new[GATE_METRIC])
    need = o * (1.0 - tolerance)
    if n >= need:
        return True, f"{GATE_METRIC} {n:.4f} >= {need:.4f} (old {o:.4f}, tolerance {tolerance:g})"
    return False, f"{GATE_METRIC} {n:.4f} < {need:.4f} (old {o:.4f}, tolerance {tolerance:g})"


# --- the whole job ----------------------------------------------------------------------


@dataclass
class RetrainResult:
    status: str  # promoted | rejected | failed
    reason: str
    version_id: int | None = None
    old_version: int | None = None
    old: dict[str, float] = field(default_factory=dict)
    new: dict[str, float] = field(default_factory=dict)
    data: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    train_wall_s: float = 0.0
    child_peak_rss_mb: float = 0.0

    @property
    def promoted(self) -> bool:
        return self.status == "promoted"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _emit(cb: ProgressFn | None, event: Progress) -> None:
    if cb is None:
        return
    try:
        out = cb(event)
        if asyncio.iscoroutine(out):
            await out
    except Exception:  # progress reporting must never break training
        log.warning("progress callback failed", exc_info=True)


async def _record_failure(
    sm: async_sessionmaker[AsyncSession], reason: str, data: dict[str, Any]
) -> None:
    """A failed training is a version row too (status rejected, no embeddings), so /model
    and the job history both show what happened."""
    async with sm() as session:
        session.add(
            ModelVersion(
                status="rejected",
                trained_at=datetime.now(UTC),
                dim=EMBEDDING_DIM,
                n_users=int(data.get("owners", 0)),
                n_items=0,
                n_interactions=int(data.get("owner_positives", 0)),
                metrics={"data": data},
                params={"kind": "lightgcn"},
                note=reason[:2000],
            )
        )
        await session.commit()


async def retrain(
    sm: async_sessionmaker[AsyncSession],
    *,
    time_limit: float = 1800.0,
    tolerance: float = 0.02,
    seed: int = 0,
    progress: ProgressFn | None = None,
    workdir: Path | None = None,
    grace_s: float = CHILD_GRACE_S,
) -> RetrainResult:
    t0 = time.perf_counter()
    loop = asyncio.get_running_loop()

    def elapsed() -> float:
        return round(time.perf_counter() - t0, 1)

    await _emit(progress, Progress("graph", "reading interactions", None, 0.0))
    async with sm() as session:
        data = await build_graph(session)
        current = await serving_version(session)
        old_version = current.id if current else None
        old_items = await serving_item_matrix(session, data.track_ids) if current else None
    summary = data.summary()
    log.info("retrain: graph %s", summary)

    with tempfile.TemporaryDirectory(prefix="tys-train-", dir=workdir) as tmp:
        graph_path, out_path = Path(tmp) / "graph.npz", Path(tmp) / "emb.npz"
        await asyncio.to_thread(write_graph, data, graph_path)
        await _emit(
            progress,
            Progress(
                "train", f"{summary['owners']} owners, {summary['edges']} edges", 0.0, elapsed()
            ),
        )

        def on_child(desc: str, n: int, total: int) -> None:
            # Called from the reader thread: hand the update to the event loop.
            event = Progress("train", f"{desc} {n}/{total}", n / max(total, 1), elapsed())
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(_emit(progress, event)))

        child = await run_child(
            graph_path,
            out_path,
            time_limit=time_limit,
            seed=seed,
            grace_s=grace_s,
            progress=on_child,
        )
        log.info(
            "retrain: child exit %s in %.1f s, peak RSS %.0f MB",
            child.returncode,
            child.wall_s,
            child.peak_rss_mb,
        )
        if not child.ok or not out_path.exists():
            reason = child.reason()
            await _record_failure(sm, reason, summary)
            result = RetrainResult(
                "failed",
                reason,
                old_version=old_version,
                data=summary,
                wall_s=elapsed(),
                train_wall_s=round(child.wall_s, 1),
                child_peak_rss_mb=round(child.peak_rss_mb, 1),
            )
            await _emit(progress, Progress("done", reason, 1.0, elapsed()))
            return result
        with np.load(out_path, allow_pickle=False) as z:
            item_emb = np.asarray(z["item_emb"], dtype=np.float32)
            user_emb = np.asarray(z["user_emb"], dtype=np.float32)
            child_metrics = json.loads(str(z["metrics_json"]))

    await _emit(
        progress, Progress("evaluate", f"{len(data.holdout)} held-out pairs", None, elapsed())
    )
    new = await asyncio.to_thread(score, data, user_emb, item_emb)
    # For the record (not the gate): the new item space with owner vectors built the way the
    # owner-refresh job rebuilds them (mean of picks/adds), as owners who keep using the bot
    # will get.
    new_taste = await asyncio.to_thread(score, data, taste_owner_vectors(data, item_emb), item_emb)
    old: dict[str, float] = {}
    if old_items is not None:
        old_users = taste_owner_vectors(data, old_items)
        old = await asyncio.to_thread(score, data, old_users, old_items)
    ok, why = gate(old, new, tolerance)

    await _emit(progress, Progress("publish", "promoting" if ok else "recording", None, elapsed()))
    metrics = {
        "new": new,
        "new_taste_mean": new_taste,
        "old": old,
        "old_version": old_version,
        "gate": why,
        "tolerance": tolerance,
        "data": summary,
        "child": {
            "wall_s": round(child.wall_s, 1),
            "peak_rss_mb": round(child.peak_rss_mb, 1),
            "valid_recall@20": child_metrics.get("valid_recall@20"),
            "epochs": child_metrics.get("epochs"),
            "refit": child_metrics.get("refit"),
        },
        GATE_METRIC: new.get(GATE_METRIC),
        "ndcg@20": new.get("ndcg@20"),
    }
    params = {"kind": "lightgcn", "seed": seed, **child_metrics.get("params", {})}
    async with sm() as session:
        version_id = await create_version(
            session,
            data.track_ids,
            item_emb,
            params=params,
            metrics=metrics,
            n_users=len(data.owner_ids),
            n_interactions=data.n_owner_positives,
        )
        if ok:
            owner_emb = {o: user_emb[u] for u, o in enumerate(data.owner_ids)}
            await promote(session, version_id, model_owner_emb=owner_emb)
            await session.execute(
                text("UPDATE model_versions SET note = :n WHERE id = :v"),
                {"n": why, "v": version_id},
            )
            await prune_versions(session)
        else:
            await session.execute(
                text("UPDATE model_versions SET status = 'rejected', note = :n WHERE id = :v"),
                {"n": why, "v": version_id},
            )
        await session.commit()
    result = RetrainResult(
        "promoted" if ok else "rejected",
        why,
        version_id=version_id,
        old_version=old_version,
        old=old,
        new=new,
        data=summary,
        wall_s=elapsed(),
        train_wall_s=round(child.wall_s, 1),
        child_peak_rss_mb=round(child.peak_rss_mb, 1),
    )
    await _emit(progress, Progress("done", why, 1.0, elapsed()))
    return result


# --- rollback ---------------------------------------------------------------------------


async def rollback(session: AsyncSession, version_id: int | None = None) -> int:
    """Serve a kept version again (default: the one served before the current one)."""
    kept = [
        int(r[0])
        for r in await session.execute(
            text(
                "SELECT mv.id FROM model_versions mv WHERE EXISTS "
                "(SELECT 1 FROM track_embeddings te WHERE te.model_version = mv.id) "
                "ORDER BY mv.id DESC"
            )
        )
    ]
    current = await serving_version(session)
    if version_id is None:
        previous = (
            await session.execute(
                text(
                    "SELECT id FROM model_versions WHERE status = 'retired' "
                    "AND promoted_at IS NOT NULL AND id = ANY(:kept) "
                    "ORDER BY promoted_at DESC LIMIT 1"
                ),
                {"kept": kept},
            )
        ).scalar_one_or_none()
        if previous is None:
            raise TrainingError("no earlier served version is kept to roll back to")
        version_id = int(previous)
    if version_id not in kept:
        raise TrainingError(f"version {version_id} is not kept (its embeddings were pruned)")
    if current is not None and current.id == version_id:
        raise TrainingError(f"version {version_id} is already serving")
    await promote(session, version_id)
    await session.execute(
        text("UPDATE model_versions SET note = coalesce(note, '') || :n WHERE id = :v"),
        {"n": f" [rolled back to at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC]", "v": version_id},
    )
    return version_id


# --- `tys train` / `tys model` ----------------------------------------------------------


class CliProgress:
    """A bar on a terminal, a line every few seconds (and on each phase change) otherwise."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every_s = every_s
        self.last_phase = ""
        self.last_line = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if self.tty:
            frac = p.fraction or 0.0
            bar = "#" * int(frac * 20)
            print(
                f"\r{p.phase:<8} [{bar:<20}] {p.detail[:40]:<40} {p.elapsed_s:6.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
            if p.phase == "done":
                print(file=sys.stderr)
            return
        if p.phase != self.last_phase or now - self.last_line >= self.every_s:
            print(f"train: {p.phase} {p.detail} ({p.elapsed_s:.0f} s)", file=sys.stderr, flush=True)
            self.last_phase, self.last_line = p.phase, now


def train_main(argv: list[str], urls: Any, settings: Any) -> int:
    p = argparse.ArgumentParser(prog="tys train", description="Retrain the model now")
    p.add_argument("--time-limit", type=float, default=settings.retrain_time_limit_s)
    p.add_argument("--tolerance", type=float, default=settings.retrain_gate_tolerance)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(argv)

    async def go() -> RetrainResult:
        from core.db import make_engine, make_sessionmaker
        from core.embeddings import bootstrap_if_needed
        from scheduler.jobs import run_recorded

        engine = make_engine(urls.database_url, pool_size=2)
        try:
            # As `tys run` does on day one: the gate needs a serving model to compare with.
            async with make_sessionmaker(engine)() as session:
                if await bootstrap_if_needed(session) is not None:
                    print("published day-one embeddings to compare with", file=sys.stderr)
                await session.commit()

            async def job() -> dict[str, Any]:
                res = await retrain(
                    make_sessionmaker(engine),
                    time_limit=args.time_limit,
                    tolerance=args.tolerance,
                    seed=args.seed,
                    progress=CliProgress(),
                )
                holder.append(res)
                return res.as_dict()

            holder: list[RetrainResult] = []
            # Same lock and history as the scheduled job: a CLI run never overlaps it.
            outcome = await run_recorded(engine, "retrain", job, trigger="cli")
            if outcome.status == "skipped":
                raise TrainingError("a retrain is already running elsewhere")
            if outcome.status == "error":
                raise TrainingError(outcome.error or "failed")
            return holder[0]
        finally:
            await engine.dispose()

    try:
        res = asyncio.run(go())
    except TrainingError as exc:
        print(f"tys train: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(res.as_dict(), default=str))
    else:
        print(format_result(res))
    return 0 if res.status != "failed" else 1


def format_result(res: RetrainResult) -> str:
    def m(d: dict[str, float], key: str) -> str:
        return f"{d[key]:.4f}" if key in d else "-"

    lines = [
        f"{res.status}: {res.reason}",
        f"version {res.version_id} (was {res.old_version})",
        f"recall@20 old {m(res.old, 'recall@20')} new {m(res.new, 'recall@20')}; "
        f"ndcg@20 old {m(res.old, 'ndcg@20')} new {m(res.new, 'ndcg@20')}",
        f"data {json.dumps(res.data)}",
        f"wall {res.wall_s:.1f} s (training child {res.train_wall_s:.1f} s, "
        f"peak RSS {res.child_peak_rss_mb:.0f} MB)",
    ]
    return "\n".join(lines)


def model_main(argv: list[str], urls: Any, settings: Any) -> int:
    p = argparse.ArgumentParser(prog="tys model", description="Model versions")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="versions, newest first")
    rb = sub.add_parser("rollback", help="serve a kept version again")
    rb.add_argument("version", nargs="?", type=int, default=None)
    args = p.parse_args(argv)

    async def go() -> int:
        from core.db import make_engine, make_sessionmaker

        engine = make_engine(urls.database_url, pool_size=2)
        try:
            async with make_sessionmaker(engine)() as session:
                if args.action == "rollback":
                    try:
                        v = await rollback(session, args.version)
                    except TrainingError as exc:
                        print(f"tys model rollback: {exc}", file=sys.stderr)
                        return 1
                    await session.commit()
                    print(f"version {v} is serving")
                    return 0
                for row in await list_versions(session):
                    print(
                        f"{row['id']:>4} {row['status']:<9} {row['trained_at']:%Y-%m-%d %H:%M} "
                        f"{'kept' if row['kept'] else '    '} recall@20={row['recall']} "
                        f"{row['note'] or ''}"
                    )
                return 0
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def list_versions(session: AsyncSession, limit: int = 10) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, status, trained_at, promoted_at, n_users, n_items, n_interactions, "
            "metrics, params, note, EXISTS (SELECT 1 FROM track_embeddings te "
            "WHERE te.model_version = mv.id) FROM model_versions mv ORDER BY id DESC LIMIT :n"
        ),
        {"n": limit},
    )
    out = []
    for r in rows:
        metrics = r[7] or {}
        recall = metrics.get(GATE_METRIC)
        out.append(
            {
                "id": int(r[0]),
                "status": r[1],
                "trained_at": r[2],
                "promoted_at": r[3],
                "n_users": r[4],
                "n_items": r[5],
                "n_interactions": r[6],
                "metrics": metrics,
                "params": r[8] or {},
                "note": r[9],
                "kept": bool(r[10]),
                "recall": "-" if recall is None else f"{float(recall):.4f}",
            }
        )
    return out
