"""Reading interaction splits (``user_id item_id item_id ...`` per line) into pair arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp


class DataError(ValueError):
    """Input data is missing or malformed; the message is meant for the user."""


def read_pairs(path: Path) -> np.ndarray:
    """[N, 2] int64 (user, item) pairs of one split file; duplicates removed."""
    return _read_split(path)[0]


def _read_split(path: Path) -> tuple[np.ndarray, int]:
    """Pairs plus the largest user id seen (a user line may list no items)."""
    if not path.is_file():
        raise DataError(f"missing file: {path}")
    users: list[int] = []
    items: list[int] = []
    max_user = -1
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            tokens = line.split()
            if not tokens:
                continue
            try:
                ids = [int(t) for t in tokens]
            except ValueError:
                bad = next(t for t in tokens if not t.lstrip("-").isdigit())
                raise DataError(f"{path}:{lineno}: non-integer token {bad!r}") from None
            if min(ids) < 0:
                raise DataError(f"{path}:{lineno}: negative id")
            max_user = max(max_user, ids[0])
            users.extend([ids[0]] * (len(ids) - 1))
            items.extend(ids[1:])
    pairs = np.column_stack([np.asarray(users, np.int64), np.asarray(items, np.int64)])
    return np.unique(pairs.reshape(-1, 2), axis=0), max_user


@dataclass
class Dataset:
    name: str
    n_users: int
    n_items: int
    train: np.ndarray  # [N, 2] int64 (user, item)
    valid: np.ndarray
    test: np.ndarray

    def train_matrix(self) -> sp.csr_matrix:
        return to_csr(self.train, self.n_users, self.n_items)


def to_csr(
    pairs: np.ndarray, n_users: int, n_items: int, weights: np.ndarray | None = None
) -> sp.csr_matrix:
    data = np.ones(len(pairs), np.float32) if weights is None else weights.astype(np.float32)
    m = sp.csr_matrix((data, (pairs[:, 0], pairs[:, 1])), shape=(n_users, n_items))
    m.sum_duplicates()
    return m


def load_dataset(directory: str | Path) -> Dataset:
    """Load DIR/{train,valid,test}.txt; ids are dense from 0, sizes are the max id + 1."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"data directory not found: {d}")
    splits = [_read_split(d / f"{s}.txt") for s in ("train", "valid", "test")]
    (train, _), (valid, _), (test, _) = splits
    if len(train) == 0:
        raise DataError(f"{d / 'train.txt'}: no interactions")
    n_users = 1 + max(m for _, m in splits)
    n_items = 1 + max(int(p[:, 1].max()) for p, _ in splits if len(p))
    return Dataset(d.resolve().name, n_users, n_items, train, valid, test)
