"""Product training: graph .npz in, L2-normalised user/item embeddings .npz out.

Runs in a child process of the bot's training job (the bot never imports torch). Input keys:
``n_users``, ``n_items``, ``n_tags`` (scalars), ``ui`` int64 [E, 2] (user, item) positives,
optional ``ui_weight`` float [E], ``it`` int64 [T, 2] (item, tag), optional ``neg`` [N, 2]
(user, item) vetoes used as hard negatives, optional ``holdout`` [H, 2] pairs to report
Recall@20 / NDCG@20 on (never trained on).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recommender.harness import DEFAULTS, TRAINER_KEYS
from recommender.lightgcn import LightGCN
from recommender.scoring import HoldoutEvaluator, evaluate_embeddings
from recommender.trainer import TrainConfig, fit_bpr, seed_everything


class GraphError(ValueError):
    """The input graph file is missing or malformed."""


@dataclass
class Graph:
    n_users: int
    n_items: int
    n_tags: int
    ui: np.ndarray
    ui_weight: np.ndarray | None
    it: np.ndarray
    neg: np.ndarray | None
    holdout: np.ndarray | None


@dataclass
class TrainResult:
    user_emb: np.ndarray
    item_emb: np.ndarray
    metrics: dict[str, Any]

    @property
    def metrics_json(self) -> str:
        return json.dumps(self.metrics, sort_keys=True)


def _pairs(z: Any, key: str, n_left: int, n_right: int, required: bool) -> np.ndarray | None:
    if key not in z:
        if required:
            raise GraphError(f"missing array {key!r}")
        return None
    a = np.asarray(z[key])
    if a.size == 0:
        return np.empty((0, 2), np.int64)
    if a.ndim != 2 or a.shape[1] != 2 or not np.issubdtype(a.dtype, np.integer):
        raise GraphError(
            f"{key!r} must be an integer array of shape [N, 2], got {a.dtype}{a.shape}"
        )
    a = a.astype(np.int64)
    if a.min() < 0 or a[:, 0].max() >= n_left or a[:, 1].max() >= n_right:
        raise GraphError(f"{key!r} has ids out of range")
    return a


def load_graph(path: str | Path) -> Graph:
    p = Path(path)
    if not p.is_file():
        raise GraphError(f"input file not found: {p}")
    try:
        z = np.load(p, allow_pickle=False)
    except Exception as exc:
        raise GraphError(f"cannot read {p} as .npz: {exc}") from None
    with z:
        try:
            n_users, n_items = int(z["n_users"]), int(z["n_items"])
            n_tags = int(z["n_tags"]) if "n_tags" in z else 0
        except KeyError as exc:
            raise GraphError(f"missing scalar {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise GraphError("n_users, n_items, n_tags must be integer scalars") from None
        if n_users <= 0 or n_items <= 0 or n_tags < 0:
            raise GraphError("n_users and n_items must be positive, n_tags >= 0")
        ui = _pairs(z, "ui", n_users, n_items, required=True)
        assert ui is not None
        if len(ui) == 0:
            raise GraphError("'ui' has no edges: nothing to train on")
        weight = None
        if "ui_weight" in z:
            weight = np.asarray(z["ui_weight"], dtype=np.float32).ravel()
            if len(weight) != len(ui) or not np.all(np.isfinite(weight)) or weight.min() <= 0:
                raise GraphError("'ui_weight' must be positive finite floats, one per 'ui' row")
        it = _pairs(z, "it", n_items, max(n_tags, 1), required=False)
        if it is None or n_tags == 0:
            it = np.empty((0, 2), np.int64)
        neg = _pairs(z, "neg", n_users, n_items, required=False)
        holdout = _pairs(z, "holdout", n_users, n_items, required=False)
    # Duplicate edges would count twice in the degree normalisation: keep one per pair.
    keys, first = np.unique(ui[:, 0] * n_items + ui[:, 1], return_index=True)
    if weight is not None:
        w = np.zeros(len(keys), np.float32)
        np.maximum.at(w, np.searchsorted(keys, ui[:, 0] * n_items + ui[:, 1]), weight)
        weight = w
    ui = ui[first]
    it = np.unique(it, axis=0) if len(it) else it
    return Graph(n_users, n_items, n_tags, ui, weight, it, neg, holdout)


def _split_valid(
    ui: np.ndarray, rng: np.random.Generator, frac: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (fit, valid): ~frac of each user's edges (users with >= 3) for early stopping."""
    order = rng.permutation(len(ui))
    order = order[np.argsort(ui[order, 0], kind="stable")]  # grouped by user, random within
    _, starts, counts = np.unique(ui[order, 0], return_index=True, return_counts=True)
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    n_val = np.where(counts >= 3, np.maximum(1, (counts * frac).astype(np.int64)), 0)
    is_val = rank < np.repeat(n_val, counts)
    return np.sort(order[~is_val]), np.sort(order[is_val])


def train_embeddings(
    g: Graph,
    dim: int = 64,
    seed: int = 0,
    time_limit: float | None = None,
    progress: bool = False,
    overrides: dict[str, Any] | None = None,
) -> TrainResult:
    """Early-stop on a validation slice of ``ui``, then refit on all of ``ui`` if time allows.

    The returned embeddings come from the refit (all edges in the graph) when it finished,
    otherwise from the early-stopped model.
    """
    t0 = time.perf_counter()
    params = {**DEFAULTS["lightgcn"], "dim": dim, "hard_ratio": 0.3, **(overrides or {})}
    model_kw = {k: v for k, v in params.items() if k not in TRAINER_KEYS}
    trainer_kw = {k: params[k] for k in TRAINER_KEYS if k in params}
    rng = np.random.default_rng(seed)
    if g.neg is not None and len(g.neg):
        pos_keys = g.ui[:, 0] * g.n_items + g.ui[:, 1]
        hard = g.neg[~np.isin(g.neg[:, 0] * g.n_items + g.neg[:, 1], pos_keys)]
    else:
        hard = None

    def _left() -> float | None:
        # Budget left for training; graph building and the final scoring come out of it too.
        if time_limit is None:
            return None
        return max(0.0, 0.95 * time_limit - (time.perf_counter() - t0))

    def make(ui: np.ndarray, weight: np.ndarray | None) -> LightGCN:
        seed_everything(seed)
        return LightGCN(g.n_users, g.n_items, ui, weight, g.n_tags, g.it, **model_kw)

    fit_idx, val_idx = _split_valid(g.ui, rng)
    fit_ui, val_ui = g.ui[fit_idx], g.ui[val_idx]
    metrics: dict[str, Any] = {"params": params, "seed": seed}
    if len(val_ui):
        fit_w = None if g.ui_weight is None else g.ui_weight[fit_idx]
        model = make(fit_ui, fit_w)
        ev = HoldoutEvaluator(g.n_items, val_ui, fit_ui)
        cfg = TrainConfig(
            **trainer_kw, seed=seed, max_seconds=_left(), progress=progress, desc="early-stop"
        )

        def valid_fn(m: torch.nn.Module) -> float:
            return ev(lambda u: m.full_sort_predict(torch.from_numpy(u)).numpy())["recall@20"]

        fit = fit_bpr(model, fit_ui, g.n_items, cfg, valid_fn, hard)
        metrics.update({"valid_recall@20": fit.best_valid, "stopped": fit.stopped})
        best_epoch = max(fit.best_epoch, 1)
        used = time.perf_counter() - t0
        # Refit on every edge for the selected number of epochs when the budget allows it.
        refit_s = fit.s_per_epoch * best_epoch * 1.2
        metrics["refit"] = False
        if time_limit is None or used + refit_s < 0.95 * time_limit:
            full = make(g.ui, g.ui_weight)
            cfg_full = TrainConfig(
                **{**trainer_kw, "epochs": best_epoch},
                seed=seed,
                max_seconds=_left(),
                progress=progress,
                desc="refit",
            )
            refit = fit_bpr(full, g.ui, g.n_items, cfg_full, None, hard)
            # A refit cut short by the time limit is under-trained: keep the validated model.
            if refit.stopped != "time_limit":
                model, metrics["refit"] = full, True
        metrics["epochs"] = best_epoch
    else:
        # Too few edges per user to validate: train a fixed, short schedule.
        model = make(g.ui, g.ui_weight)
        cfg = TrainConfig(
            **{**trainer_kw, "epochs": 50},
            seed=seed,
            max_seconds=_left(),
            progress=progress,
            desc="train",
        )
        fit = fit_bpr(model, g.ui, g.n_items, cfg, None, hard)
        metrics.update(epochs=fit.epochs, stopped=fit.stopped, refit=False)
    user_emb, item_emb = model.export()
    user_emb, item_emb = _l2(user_emb), _l2(item_emb)
    if g.holdout is not None and len(g.holdout):
        # Scored exactly as the bot's quality gate does: normalised embeddings, train masked.
        metrics.update(evaluate_embeddings(user_emb, item_emb, g.holdout, g.ui))
    metrics["train_s"] = round(time.perf_counter() - t0, 3)
    return TrainResult(user_emb, item_emb, metrics)


def _l2(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


def write_embeddings(path: str | Path, result: TrainResult) -> None:
    """Write atomically so a reader never sees a half-written file."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                item_emb=result.item_emb,
                user_emb=result.user_emb,
                metrics_json=np.array(result.metrics_json),
            )
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
