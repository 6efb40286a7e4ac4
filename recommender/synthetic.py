"""Small planted-community data for tests and smoke runs (no real data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def planted_communities(
    n_users: int = 200,
    n_items: int = 160,
    n_comm: int = 4,
    per_user: int = 16,
    p_in: float = 0.9,
    tags_per_comm: int = 2,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Users and items split into communities; users mostly pick items of their own.

    Item popularity within a community is Zipf-like, so a popularity ranker is a real (but
    beatable) baseline. Each item carries its community's tags. Returns ``pairs`` [N, 2]
    (user, item), ``user_comm``, ``item_comm`` and ``it`` [T, 2] (item, tag).
    """
    rng = np.random.default_rng(seed)
    user_comm = np.arange(n_users) % n_comm
    item_comm = np.arange(n_items) % n_comm
    weight = 1.0 / np.arange(1, n_items + 1) ** 0.5
    rng.shuffle(weight)
    pairs = []
    for u in range(n_users):
        own = item_comm == user_comm[u]
        p = np.where(own, p_in / own.sum(), (1 - p_in) / (~own).sum()) * weight
        items = rng.choice(n_items, size=per_user, replace=False, p=p / p.sum())
        pairs.append(np.column_stack([np.full(per_user, u), items]))
    it = np.array(
        [
            (i, item_comm[i] * tags_per_comm + t)
            for i in range(n_items)
            for t in range(tags_per_comm)
        ],
        dtype=np.int64,
    )
    return {
        "pairs": np.concatenate(pairs).astype(np.int64),
        "user_comm": user_comm,
        "item_comm": item_comm,
        "it": it,
    }


def split_pairs(
    pairs: np.ndarray, seed: int = 0, valid: float = 0.1, test: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random per-pair split into train / valid / test."""
    rng = np.random.default_rng(seed)
    r = rng.random(len(pairs))
    return pairs[r >= valid + test], pairs[(r >= test) & (r < valid + test)], pairs[r < test]


def write_split_dir(directory: str | Path, n_users: int, splits: dict[str, np.ndarray]) -> Path:
    """Write {name}.txt files in the ``user_id item_id ...`` line format."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for name, pairs in splits.items():
        lines = []
        for u in range(n_users):
            items = pairs[pairs[:, 0] == u, 1]
            lines.append(" ".join(str(x) for x in [u, *items.tolist()]))
        (d / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d
