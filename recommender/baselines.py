"""Baselines sharing the evaluation harness: popularity, ItemKNN (cosine), EASE, BPR-MF.

Non-neural baselines take a scipy CSR user-item matrix in ``fit`` and return dense
[len(users), n_items] numpy scores from ``score``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from recommender import threads


class Popularity:
    """Scores every item by its number of training interactions."""

    def fit(self, x: sp.csr_matrix) -> Popularity:
        self.counts = np.asarray(x.sum(axis=0), dtype=np.float32).ravel()
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(users), len(self.counts)))


class ItemKNN:
    """Item-item cosine similarity, pruned to each item's ``k`` nearest neighbours."""

    def __init__(self, k: int = 100, shrink: float = 0.0) -> None:
        self.k, self.shrink = k, shrink

    def fit(self, x: sp.csr_matrix) -> ItemKNN:
        x = x.tocsc().astype(np.float32)
        x.data[:] = 1.0
        norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
        co = (x.T @ x).tocsr()
        co.setdiag(0.0)
        co.eliminate_zeros()
        rows = np.repeat(np.arange(co.shape[0]), np.diff(co.indptr))
        co.data = co.data / (norms[rows] * norms[co.indices] + self.shrink + 1e-12)
        self.sim = _top_k_per_row(co, self.k).T.tocsr()  # column j: neighbours of item j
        self.x = x.tocsr()
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self.x[users] @ self.sim).todense(), dtype=np.float32)


def _top_k_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of every row (vectorised over rows)."""
    counts = np.diff(m.indptr)
    if counts.max(initial=0) <= k:
        return m
    rows = np.repeat(np.arange(m.shape[0]), counts)
    # Sort by (row, -value) then keep each row's first k entries.
    order = np.lexsort((-m.data, rows))
    rank = np.arange(len(order)) - np.repeat(m.indptr[:-1], counts)
    keep = order[rank < k]
    return sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape)


class EASE:
    """EASE^R (Steck, 2019): closed-form item-item weights with a zero diagonal.

    Only items with at least one training interaction enter the Gram matrix: the others have
    an all-zero row and column in the full solution, so the result is identical and the
    matrix to invert is smaller.
    """

    def __init__(self, lam: float = 500.0) -> None:
        self.lam = lam

    def fit(self, x: sp.csr_matrix) -> EASE:
        x = x.astype(np.float32)
        self.n_items = x.shape[1]
        self.active = np.flatnonzero(np.asarray(x.sum(axis=0)).ravel() > 0)
        xa = x[:, self.active]
        g = torch.from_numpy((xa.T @ xa).toarray().astype(np.float32))
        g.diagonal().add_(self.lam)
        # Cholesky-based inverse: G is symmetric positive definite and this is ~2x cheaper
        # than a general inverse.
        p = torch.cholesky_inverse(torch.linalg.cholesky(g))
        del g
        b = p / (-p.diagonal())
        b.fill_diagonal_(0.0)
        self.b = b.numpy()
        self.xa = xa.tocsr()
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), self.n_items), np.float32)
        out[:, self.active] = self.xa[users] @ self.b
        return out


class BPRMF(nn.Module):
    """Matrix factorisation trained with BPR (Rendle et al., 2009); same interface."""

    def __init__(self, n_users: int, n_items: int, dim: int = 64, reg: float = 1e-4) -> None:
        super().__init__()
        threads.fit()
        self.n_users, self.n_items, self.reg = n_users, n_items, reg
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        nn.init.normal_(self.user.weight, std=0.1)
        nn.init.normal_(self.item.weight, std=0.1)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user.weight, self.item.weight

    def calculate_loss(
        self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor
    ) -> torch.Tensor:
        """BPR loss; ``neg`` is [B] or [B, m] (m negatives per positive, averaged)."""
        b = len(users)
        neg = neg.reshape(b, -1)
        u, p, n = self.user(users), self.item(pos), self.item(neg)
        diff = (u * p).sum(1, keepdim=True) - torch.einsum("bd,bmd->bm", u, n)
        bpr = -F.logsigmoid(diff).mean()
        l2 = (u.pow(2).sum() + p.pow(2).sum() + n.pow(2).sum()) / (2 * b)
        return bpr + self.reg * l2

    @torch.no_grad()
    def full_sort_predict(self, users: torch.Tensor) -> torch.Tensor:
        return self.user.weight[users] @ self.item.weight.T

    @torch.no_grad()
    def export(self) -> tuple[np.ndarray, np.ndarray]:
        return self.user.weight.numpy().copy(), self.item.weight.numpy().copy()
