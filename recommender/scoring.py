"""Numpy-only scorer for embedding sets (the bot's quality gate imports this, never torch).

Given user and item embeddings and held-out (user, item) pairs, rank all items by dot
product for every user with held-out pairs, mask the pairs the model was trained on, and
report mean Recall@K / NDCG@K over those users.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recommender.metrics import hit_matrix, pair_keys, recall_ndcg_from_hits


def topk_masked(
    scores: np.ndarray, users: np.ndarray, mask_keys: np.ndarray, n_items: int, k: int
) -> np.ndarray:
    """Top-k item ids per row (best first) after setting masked (user, item) pairs to -inf."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if len(mask_keys):
        lo = np.searchsorted(mask_keys, users.astype(np.int64) * n_items)
        hi = np.searchsorted(mask_keys, (users.astype(np.int64) + 1) * n_items)
        counts = hi - lo
        rows = np.repeat(np.arange(len(users)), counts)
        # Concatenated ranges lo[r]..hi[r] without a Python loop over users.
        starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        idx = starts + np.arange(counts.sum())
        scores[rows, mask_keys[idx] % n_items] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


class HoldoutEvaluator:
    """Mean Recall@K / NDCG@K over users that have held-out pairs.

    Built once per split so that repeated validation (every few epochs) does not redo the
    key sorting. Calling it with ``score_fn(users) -> [len(users), n_items]`` scores returns
    ``{"recall@K", "ndcg@K", "n_users"}``.
    """

    def __init__(
        self,
        n_items: int,
        holdout: np.ndarray,
        exclude: np.ndarray | None = None,
        k: int = 20,
        batch_size: int = 1024,
    ) -> None:
        self.n_items, self.k, self.batch_size = n_items, k, batch_size
        self.truth = pair_keys(holdout, n_items)
        self.mask = pair_keys(exclude, n_items) if exclude is not None else np.empty(0, np.int64)
        self.users, self.n_truth = np.unique(self.truth // n_items, return_counts=True)

    def __call__(self, score_fn: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
        k, n_items = self.k, self.n_items
        if not len(self.users):
            return {f"recall@{k}": 0.0, f"ndcg@{k}": 0.0, "n_users": 0}
        recalls, ndcgs = [], []
        for start in range(0, len(self.users), self.batch_size):
            ub = self.users[start : start + self.batch_size]
            top = topk_masked(score_fn(ub), ub, self.mask, n_items, k)
            hits = hit_matrix(top, ub, self.truth, n_items)
            r, n = recall_ndcg_from_hits(hits, self.n_truth[start : start + self.batch_size])
            recalls.append(r)
            ndcgs.append(n)
        return {
            f"recall@{k}": float(np.concatenate(recalls).mean()),
            f"ndcg@{k}": float(np.concatenate(ndcgs).mean()),
            "n_users": len(self.users),
        }


def evaluate_scores_fn(
    score_fn: Callable[[np.ndarray], np.ndarray],
    n_items: int,
    holdout: np.ndarray,
    exclude: np.ndarray | None = None,
    k: int = 20,
) -> dict[str, float]:
    """One-shot form of :class:`HoldoutEvaluator`."""
    return HoldoutEvaluator(n_items, holdout, exclude, k)(score_fn)


def evaluate_embeddings(
    user_emb: np.ndarray,
    item_emb: np.ndarray,
    holdout: np.ndarray,
    exclude: np.ndarray | None = None,
    k: int = 20,
) -> dict[str, float]:
    """Recall@K / NDCG@K of dot-product ranking; ``exclude`` are the training pairs to mask."""
    user_emb = np.asarray(user_emb, dtype=np.float32)
    item_emb = np.asarray(item_emb, dtype=np.float32)
    return evaluate_scores_fn(
        lambda users: user_emb[users] @ item_emb.T, item_emb.shape[0], holdout, exclude, k
    )


def compare_embeddings(
    old: tuple[np.ndarray, np.ndarray],
    new: tuple[np.ndarray, np.ndarray],
    holdout: np.ndarray,
    exclude: np.ndarray | None = None,
    k: int = 20,
) -> dict[str, dict[str, float]]:
    """Score an old and a new (user_emb, item_emb) pair on the same held-out pairs."""
    return {
        "old": evaluate_embeddings(old[0], old[1], holdout, exclude, k),
        "new": evaluate_embeddings(new[0], new[1], holdout, exclude, k),
    }
