"""BPR training loop shared by LightGCN and BPR-MF: early stopping, time limit, seeding."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from recommender import threads
from recommender.sampling import NegativeSampler


@dataclass
class TrainConfig:
    epochs: int = 1000
    batch_size: int = 2048
    lr: float = 1e-3
    eval_every: int = 1
    patience: int = 10  # evaluations without improvement before stopping
    seed: int = 0
    max_seconds: float | None = None
    hard_ratio: float = 0.0
    n_neg: int = 1  # negatives per positive; they share the batch's (costly) propagation
    # On a plateau, go back to the best state and continue at lr * lr_decay, at most
    # `decays` times, before stopping (0 = stop at the first plateau).
    decays: int = 0
    lr_decay: float = 0.3
    progress: bool = True
    desc: str = "train"


@dataclass
class FitResult:
    best_valid: float = -1.0
    best_epoch: int = 0
    epochs: int = 0
    train_s: float = 0.0
    s_per_epoch: float = 0.0
    stopped: str = "max_epochs"
    decays: int = 0
    history: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("history")
        return d


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def fit_bpr(
    model: nn.Module,
    train: np.ndarray,
    n_items: int,
    cfg: TrainConfig,
    valid_fn: Callable[[nn.Module], float] | None = None,
    hard: np.ndarray | None = None,
) -> FitResult:
    """Train ``model`` with BPR on [N, 2] (user, item) pairs; keep the best-validated state.

    Each epoch visits every training pair once in random order with one sampled negative.
    ``valid_fn`` (model in eval mode) returns the score to maximise; without it the last
    epoch is kept. Stops on patience, on ``cfg.epochs``, or when ``cfg.max_seconds`` of wall
    time would be exceeded by another epoch.
    """
    threads.fit()
    rng = np.random.default_rng(cfg.seed)
    sampler = NegativeSampler(n_items, train, hard, cfg.hard_ratio)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    train = np.asarray(train, dtype=np.int64)
    res = FitResult()
    best_state: dict[str, torch.Tensor] | None = None
    bad_evals = 0
    t0 = time.perf_counter()
    train_time = 0.0
    bar = tqdm(
        total=cfg.epochs, desc=cfg.desc, disable=not cfg.progress, leave=False, dynamic_ncols=True
    )
    try:
        for epoch in range(1, cfg.epochs + 1):
            te = time.perf_counter()
            model.train()
            perm = rng.permutation(len(train))
            users = train[perm, 0]
            pos = train[perm, 1]
            neg = sampler.sample(np.repeat(users, cfg.n_neg), rng).reshape(-1, cfg.n_neg)
            u_t, p_t, n_t = (torch.from_numpy(a) for a in (users, pos, neg))
            total = 0.0
            for s in range(0, len(train), cfg.batch_size):
                sl = slice(s, s + cfg.batch_size)
                loss = model.calculate_loss(u_t[sl], p_t[sl], n_t[sl].squeeze(1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(u_t[sl])
            if not math.isfinite(total):
                res.stopped = "diverged"
                break
            epoch_s = time.perf_counter() - te
            train_time += epoch_s
            res.epochs = epoch
            row = {"epoch": epoch, "loss": total / len(train), "epoch_s": epoch_s}
            if valid_fn is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
                model.eval()
                score = float(valid_fn(model))
                row["valid"] = score
                if score > res.best_valid:
                    res.best_valid, res.best_epoch, bad_evals = score, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    bad_evals += 1
            res.history.append(row)
            bar.update(1)
            bar.set_postfix(loss=f"{row['loss']:.4f}", best=f"{res.best_valid:.4f}")
            if valid_fn is not None and bad_evals >= cfg.patience:
                if res.decays >= cfg.decays or best_state is None:
                    res.stopped = "early_stop"
                    break
                # Fresh Adam moments at the lower rate, from the best state so far.
                res.decays += 1
                bad_evals = 0
                model.load_state_dict(best_state)
                lr = cfg.lr * cfg.lr_decay**res.decays
                opt = torch.optim.Adam(model.parameters(), lr=lr)
            elapsed = time.perf_counter() - t0
            if cfg.max_seconds is not None and elapsed + epoch_s > cfg.max_seconds:
                res.stopped = "time_limit"
                break
    finally:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    elif valid_fn is None:
        res.best_epoch = res.epochs
    model.eval()
    res.train_s = time.perf_counter() - t0
    res.s_per_epoch = train_time / max(res.epochs, 1)
    return res
