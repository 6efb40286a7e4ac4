"""Vectorised BPR negative sampling (no per-sample Python loop)."""

from __future__ import annotations

import numpy as np


class NegativeSampler:
    """Uniform negatives that avoid each user's positives, plus optional hard negatives.

    Positives are kept as sorted ``user * n_items + item`` codes; a drawn batch is checked with
    one ``searchsorted`` and only the collisions are redrawn.
    """

    def __init__(
        self,
        n_items: int,
        positives: np.ndarray,
        hard: np.ndarray | None = None,
        hard_ratio: float = 0.0,
        max_rounds: int = 20,
    ) -> None:
        self.n_items = n_items
        pos = np.asarray(positives, dtype=np.int64).reshape(-1, 2)
        self.pos_keys = np.unique(pos[:, 0] * n_items + pos[:, 1])
        self.max_rounds = max_rounds
        self.hard_ratio = hard_ratio if hard is not None and len(hard) else 0.0
        if self.hard_ratio:
            hard = np.unique(np.asarray(hard, dtype=np.int64).reshape(-1, 2), axis=0)
            n_users = int(max(pos[:, 0].max(initial=-1), hard[:, 0].max())) + 1
            # CSR layout of each user's veto list, for O(1) random picks per user.
            self.hard_ptr = np.zeros(n_users + 1, np.int64)
            np.add.at(self.hard_ptr, hard[:, 0] + 1, 1)
            self.hard_ptr = np.cumsum(self.hard_ptr)
            self.hard_items = hard[:, 1]

    def is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.n_items + items
        idx = np.minimum(np.searchsorted(self.pos_keys, keys), len(self.pos_keys) - 1)
        return self.pos_keys[idx] == keys

    def sample(self, users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        neg = rng.integers(0, self.n_items, size=len(users))
        for _ in range(self.max_rounds):
            bad = np.flatnonzero(self.is_positive(users, neg))
            if not len(bad):
                break
            neg[bad] = rng.integers(0, self.n_items, size=len(bad))
        else:
            bad = np.flatnonzero(self.is_positive(users, neg))
            if len(bad):
                self._fill_from_complement(users, neg, bad, rng)
        if self.hard_ratio:
            neg = self._mix_hard(users, neg, rng)
        return neg

    def _fill_from_complement(
        self, users: np.ndarray, neg: np.ndarray, bad: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Users who like almost every item: draw from their explicit complement.

        Only reached after ``max_rounds`` of rejection, so the loop is over a handful of
        users, never over samples.
        """
        for u in np.unique(users[bad]):
            lo, hi = np.searchsorted(self.pos_keys, [u * self.n_items, (u + 1) * self.n_items])
            free = np.setdiff1d(np.arange(self.n_items), self.pos_keys[lo:hi] - u * self.n_items)
            if len(free):  # a user who likes everything has no negative; keep the draw
                idx = bad[users[bad] == u]
                neg[idx] = rng.choice(free, size=len(idx))

    def _mix_hard(self, users: np.ndarray, neg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        inside = users < len(self.hard_ptr) - 1
        lo = np.zeros_like(users)
        cnt = np.zeros_like(users)
        lo[inside] = self.hard_ptr[users[inside]]
        cnt[inside] = self.hard_ptr[users[inside] + 1] - lo[inside]
        take = (cnt > 0) & (rng.random(len(users)) < self.hard_ratio)
        pick = lo[take] + (rng.random(int(take.sum())) * cnt[take]).astype(np.int64)
        neg = neg.copy()
        neg[take] = self.hard_items[pick]
        return neg
