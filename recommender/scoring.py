"""Numpy-only scorer for embedding sets (the bot's quality gate imports this, never torch).

Given user and item embeddings and held-out (user, item) pairs, rank all items by dot
product for every user with held-out pairs, mask the pairs the model was trained on, and
report mean Recall@K / NDCG@K over those users.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recommender.metrics import hit_matrix, pair_keys, recall_ndcg_from_hits


def _mask_index(
    mask_keys: np.ndarray, users: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row in ``users``, item) of every masked pair of those users."""
    lo = np.searchsorted(mask_keys, users.astype(np.int64) * n_items)
    hi = np.searchsorted(mask_keys, (users.astype(np.int64) + 1) * n_items)
    counts = hi - lo
    rows = np.repeat(np.arange(len(users)), counts)
    # Concatenated ranges lo[r]..hi[r] without a Python loop over users.
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    idx = starts + np.arange(counts.sum())
    return rows, mask_keys[idx] % n_items


def _topk(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def topk_masked(
    scores: np.ndarray, users: np.ndarray, mask_keys: np.ndarray, n_items: int, k: int
) -> np.ndarray:
    """Top-k item ids per row (best first) after setting masked (user, item) pairs to -inf."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    rows, cols = _mask_index(mask_keys, users, n_items)
    scores[rows, cols] = -np.inf
    return _topk(scores, k)


class HoldoutEvaluator:
    """Mean Recall@K / NDCG@K over users that have held-out pairs.

    Built once per split so that repeated validation (every few epochs) does not redo the
    key sorting and mask lookup. Calling it with ``score_fn(users) -> [len(users), n_items]``
    scores returns ``{"recall@K", "ndcg@K", "n_users"}``; :meth:`evaluate_topk` lets a caller
    (e.g. a torch model) do the masking and top-k itself.
    """

    def __init__(
        self,
        n_items: int,
        holdout: np.ndarray,
        exclude: np.ndarray | None = None,
        k: int = 20,
        batch_size: int = 1024,
    ) -> None:
        self.n_items, self.k = n_items, k
        self.truth = pair_keys(holdout, n_items)
        mask = pair_keys(exclude, n_items) if exclude is not None else np.empty(0, np.int64)
        self.users, self.n_truth = np.unique(self.truth // n_items, return_counts=True)
        # Per batch: (users, n_truth, mask rows, mask cols) so masking is one fancy index.
        self.batches: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for start in range(0, len(self.users), batch_size):
            ub = self.users[start : start + batch_size]
            rows, cols = _mask_index(mask, ub, n_items)
            self.batches.append((ub, self.n_truth[start : start + batch_size], rows, cols))

    def evaluate_topk(
        self, topk_fn: Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]
    ) -> dict[str, float]:
        """``topk_fn(users, mask_rows, mask_cols, k)`` returns [len(users), k] item ids."""
        k = self.k
        if not len(self.users):
            return {f"recall@{k}": 0.0, f"ndcg@{k}": 0.0, "n_users": 0}
        recalls, ndcgs = [], []
        for ub, n_truth, rows, cols in self.batches:
            hits = hit_matrix(topk_fn(ub, rows, cols, k), ub, self.truth, self.n_items)
            r, n = recall_ndcg_from_hits(hits, n_truth)
            recalls.append(r)
            ndcgs.append(n)
        return {
            f"recall@{k}": float(np.concatenate(recalls).mean()),
            f"ndcg@{k}": float(np.concatenate(ndcgs).mean()),
            "n_users": len(self.users),
        }

    def __call__(self, score_fn: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
        def topk_fn(users: np.ndarray, rows: np.ndarray, cols: np.ndarray, k: int) -> np.ndarray:
            scores = np.array(score_fn(users), dtype=np.float32, copy=True)
            scores[rows, cols] = -np.inf
            return _topk(scores, k)

        return self.evaluate_topk(topk_fn)


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
