"""LightGCN (He et al., SIGIR 2020) with optional LightGCN++ scaling (Lee et al., RecSys 2024).

Graph nodes are users, items and (optionally) tags. Users connect to the items they
interacted with; items connect to their tags. Tag nodes let an item without any interaction
receive an embedding from the items sharing its tags (cold-start catalogue).

Propagation per layer: ``E_{k+1} = D^-alpha A D^-beta f(E_k)`` where f is identity
(plain LightGCN, alpha = beta = 0.5) or row L2-normalisation (LightGCN++). The final
embedding is the plain mean of the layers (gamma=None) or ``gamma*E_0 + (1-gamma)*mean(E_1..K)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from recommender import threads


def _to_torch_csr(m: sp.csr_matrix) -> torch.Tensor:
    m = m.tocsr().astype(np.float32)
    m.sort_indices()
    with warnings.catch_warnings():
        # "CSR support is in beta": expected, and noise on every CLI run.
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data),
            size=m.shape,
        )


class _SpMM(torch.autograd.Function):
    """A @ X with a precomputed A^T for the backward pass.

    A is fixed, so both orientations are built once; forward + backward of one layer on
    lastfm measured ~3x faster than ``torch.sparse.mm``'s own autograd (CSR or COO).
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor, a_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.a_t = a_t
        return torch.sparse.mm(a, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return None, None, torch.sparse.mm(ctx.a_t, grad)


def build_graph(
    n_users: int,
    n_items: int,
    ui: np.ndarray,
    ui_weight: np.ndarray | None = None,
    n_tags: int = 0,
    it: np.ndarray | None = None,
    tag_weight: float = 1.0,
) -> sp.csr_matrix:
    """Symmetric (unnormalised) adjacency over users + items + tags."""
    n = n_users + n_items + n_tags
    ui = np.asarray(ui, dtype=np.int64).reshape(-1, 2)
    w = np.ones(len(ui), np.float32) if ui_weight is None else np.asarray(ui_weight, np.float32)
    rows = [ui[:, 0], n_users + ui[:, 1]]
    cols = [n_users + ui[:, 1], ui[:, 0]]
    vals = [w, w]
    if n_tags and it is not None and len(it):
        it = np.asarray(it, dtype=np.int64).reshape(-1, 2)
        tw = np.full(len(it), tag_weight, np.float32)
        rows += [n_users + it[:, 0], n_users + n_items + it[:, 1]]
        cols += [n_users + n_items + it[:, 1], n_users + it[:, 0]]
        vals += [tw, tw]
    a = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    a.sum_duplicates()  # callers pass unique pairs; this only merges the CSR layout
    return a


def normalize_graph(a: sp.csr_matrix, alpha: float = 0.5, beta: float = 0.5) -> sp.csr_matrix:
    """D^-alpha A D^-beta with zero-degree nodes left at zero."""
    deg = np.asarray(a.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        left = np.where(deg > 0, deg**-alpha, 0.0)
        right = np.where(deg > 0, deg**-beta, 0.0)
    return (sp.diags(left) @ a @ sp.diags(right)).tocsr()


class LightGCN(nn.Module):
    """LightGCN over a user-item(-tag) graph, trained with BPR.

    Interface in the style of RecBole: ``forward`` returns all user and item embeddings,
    ``calculate_loss`` the BPR loss of a (user, positive, negative) batch, and
    ``full_sort_predict`` scores of every item for a batch of users.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        ui: np.ndarray,
        ui_weight: np.ndarray | None = None,
        n_tags: int = 0,
        it: np.ndarray | None = None,
        dim: int = 64,
        n_layers: int = 3,
        reg: float = 1e-4,
        alpha: float = 0.5,
        beta: float = 0.5,
        gamma: float | None = None,
        norm_emb: bool = False,
        tag_weight: float = 1.0,
        loss: str = "bpr",
        temperature: float = 0.2,
        shared_neg: int = 2048,
        dns: bool = False,
    ) -> None:
        super().__init__()
        threads.fit()
        if loss not in ("bpr", "softmax"):
            raise ValueError(f"unknown loss {loss!r}")
        self.loss, self.temperature, self.shared_neg = loss, temperature, shared_neg
        self.dns = dns
        self.n_users, self.n_items, self.n_tags = n_users, n_items, n_tags
        self.n_layers, self.reg = n_layers, reg
        self.gamma, self.norm_emb = gamma, norm_emb
        adj = normalize_graph(
            build_graph(n_users, n_items, ui, ui_weight, n_tags, it, tag_weight), alpha, beta
        )
        self.adj = _to_torch_csr(adj)
        self.adj_t = self.adj if alpha == beta else _to_torch_csr(adj.T.tocsr())
        self.embedding = nn.Embedding(n_users + n_items + n_tags, dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        # Items without interactions never get a training signal on their own ego embedding,
        # so it would stay random noise; zero it and let them be described by their tags.
        has_ui = np.zeros(n_items, bool)
        has_ui[np.asarray(ui, dtype=np.int64).reshape(-1, 2)[:, 1]] = True
        mask = np.ones(n_users + n_items + n_tags, np.float32)
        mask[n_users : n_users + n_items] = has_ui
        self.register_buffer("ego_mask", torch.from_numpy(mask)[:, None], persistent=False)
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def train(self, mode: bool = True) -> LightGCN:
        self._cache = None  # embeddings change while training
        return super().train(mode)

    def propagate(self) -> torch.Tensor:
        """Final embedding of every node [n_users + n_items + n_tags, dim]."""
        ego = self.embedding.weight * self.ego_mask
        if self.n_layers == 0:
            return ego
        x, acc = ego, None
        for _ in range(self.n_layers):
            if self.norm_emb:
                x = F.normalize(x, dim=1)
            x = _SpMM.apply(self.adj, self.adj_t, x)
            acc = x if acc is None else acc + x  # running sum: no stacked [K, N, d] copy
        assert acc is not None
        if self.gamma is None:
            return (ego + acc) / (self.n_layers + 1)
        return self.gamma * ego + (1.0 - self.gamma) / self.n_layers * acc

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.propagate()
        return out[: self.n_users], out[self.n_users : self.n_users + self.n_items]

    def calculate_loss(
        self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor
    ) -> torch.Tensor:
        """BPR (default) or sampled-softmax loss plus L2 on the batch's ego embeddings.

        ``neg`` is [B] or [B, m]; BPR averages over the m negatives of each positive, or with
        ``dns`` trains on the highest-scored of them only. The
        softmax variant scores every positive against one pool of the batch's first
        ``shared_neg`` negatives with cosine similarity / temperature, which matches serving
        with L2-normalised embeddings.
        """
        b = len(users)
        neg = neg.reshape(b, -1)
        if self.loss == "softmax":
            neg = neg[: self.shared_neg, :1].reshape(-1, 1)
        out = self.propagate()
        if self.dns and neg.shape[1] > 1:
            # Dynamic negative sampling (Zhang et al., SIGIR 2013): of the m drawn negatives,
            # train on the one the model currently ranks highest for the user.
            with torch.no_grad():
                cand = out[neg + self.n_users]  # [B, m, d]
                pick = torch.einsum("bd,bmd->bm", out[users], cand).argmax(dim=1)
                neg = neg.gather(1, pick[:, None])
        # One gather for users, positives and negatives: a single index backward instead of 3.
        idx = torch.cat([users, pos + self.n_users, neg.reshape(-1) + self.n_users])
        e = out[idx]
        u, p = e[:b], e[b : 2 * b]
        if self.loss == "softmax":
            u, p, n = F.normalize(u, dim=1), F.normalize(p, dim=1), F.normalize(e[2 * b :], dim=1)
            logits = torch.cat([(u * p).sum(1, keepdim=True), u @ n.T], dim=1) / self.temperature
            main = F.cross_entropy(logits, torch.zeros(b, dtype=torch.long))
        else:
            n = e[2 * b :].reshape(b, neg.shape[1], -1)
            diff = (u * p).sum(1, keepdim=True) - torch.einsum("bd,bmd->bm", u, n)
            main = -F.logsigmoid(diff).mean()
        # L2 on the batch's ego embeddings only, as in the LightGCN paper.
        l2 = self.embedding.weight[idx].pow(2).sum() / (2 * b)
        return main + self.reg * l2

    @torch.no_grad()
    def full_sort_predict(self, users: torch.Tensor) -> torch.Tensor:
        if self._cache is None or self.training:
            self._cache = self.forward()
        user_all, item_all = self._cache
        if self.loss == "softmax":  # trained on cosine similarity, so rank by it
            return F.normalize(user_all[users], dim=1) @ F.normalize(item_all, dim=1).T
        return user_all[users] @ item_all.T

    @torch.no_grad()
    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """(user_emb, item_emb) as float32 numpy arrays."""
        user_all, item_all = self.forward()
        return user_all.numpy().astype(np.float32), item_all.numpy().astype(np.float32)
