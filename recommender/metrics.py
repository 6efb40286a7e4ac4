"""Ranking metrics (numpy only, so the bot process can import this without torch).

Conventions follow the LightGCN paper: Recall@K divides hits by the size of the user's
held-out set; NDCG@K uses binary gains, and the ideal DCG is taken over
min(|held-out|, K) positions. Users with an empty held-out set are skipped by callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def recall_at_k(ranked: Sequence[int], relevant: Iterable[int], k: int = 20) -> float:
    """Recall of one user's ranked list; 0.0 when there is nothing relevant."""
    rel = set(relevant)
    if not rel:
        return 0.0
    hits = sum(1 for item in list(ranked)[:k] if item in rel)
    return hits / len(rel)


def ndcg_at_k(ranked: Sequence[int], relevant: Iterable[int], k: int = 20) -> float:
    """Binary-gain NDCG of one user's ranked list; 0.0 when there is nothing relevant."""
    rel = set(relevant)
    if not rel:
        return 0.0
    disc = _discounts(k)
    dcg = sum(disc[pos] for pos, item in enumerate(list(ranked)[:k]) if item in rel)
    idcg = disc[: min(len(rel), k)].sum()
    return float(dcg / idcg)


def hit_matrix(
    topk: np.ndarray, users: np.ndarray, truth_keys: np.ndarray, n_items: int
) -> np.ndarray:
    """Boolean [U, K]: whether topk[r, j] is a held-out item of users[r].

    truth_keys holds sorted ``user * n_items + item`` codes, so membership is one vectorised
    search instead of a Python loop over users.
    """
    keys = users.astype(np.int64)[:, None] * n_items + topk.astype(np.int64)
    pos = np.searchsorted(truth_keys, keys)
    pos = np.minimum(pos, max(len(truth_keys) - 1, 0))
    if len(truth_keys) == 0:
        return np.zeros(keys.shape, dtype=bool)
    return truth_keys[pos] == keys


def recall_ndcg_from_hits(hits: np.ndarray, n_truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-user Recall@K and NDCG@K from a [U, K] hit matrix and held-out set sizes (> 0)."""
    k = hits.shape[1]
    n_truth = np.asarray(n_truth, dtype=np.float64)
    recall = hits.sum(axis=1) / n_truth
    disc = _discounts(k)
    dcg = (hits * disc).sum(axis=1)
    ideal_cum = np.concatenate([[0.0], np.cumsum(disc)])
    idcg = ideal_cum[np.minimum(n_truth, k).astype(np.int64)]
    return recall, dcg / idcg


def pair_keys(pairs: np.ndarray, n_items: int) -> np.ndarray:
    """Sorted unique ``user * n_items + item`` codes of an [N, 2] pair array."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return np.unique(pairs[:, 0] * n_items + pairs[:, 1])


def recall_and_ndcg(
    ranked: Sequence[Sequence[int]], relevant: Sequence[Iterable[int]], k: int = 20
) -> dict[str, float]:
    """Mean Recall@K / NDCG@K over users with a non-empty relevant set (others skipped)."""
    recalls, ndcgs = [], []
    for r, rel in zip(ranked, relevant, strict=True):
        rel = set(rel)
        if rel:
            recalls.append(recall_at_k(r, rel, k))
            ndcgs.append(ndcg_at_k(r, rel, k))
    n = len(recalls)
    return {
        f"recall@{k}": float(np.mean(recalls)) if n else 0.0,
        f"ndcg@{k}": float(np.mean(ndcgs)) if n else 0.0,
        "n_users": n,
    }
