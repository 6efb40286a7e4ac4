"""Metrics and the numpy-only scorer against hand-computed cases."""

import math
import subprocess
import sys

import numpy as np
import pytest

from recommender.metrics import (
    hit_matrix,
    ndcg_at_k,
    pair_keys,
    recall_and_ndcg,
    recall_at_k,
    recall_ndcg_from_hits,
)
from recommender.scoring import evaluate_embeddings, topk_masked


def test_recall_hand_computed() -> None:
    # 2 of the 3 relevant items are in the top 3.
    assert recall_at_k([5, 1, 7, 2], {1, 2, 7}, k=3) == pytest.approx(2 / 3)
    assert recall_at_k([5, 1], set(), k=3) == 0.0


def test_ndcg_hand_computed() -> None:
    # Hits at ranks 2 and 3; ideal has 2 hits at ranks 1-2 (min(|rel|=2, k=3)).
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k([9, 4, 6], {4, 6}, k=3) == pytest.approx(dcg / idcg)
    assert ndcg_at_k([4, 6, 9], {4, 6}, k=3) == pytest.approx(1.0)
    # IDCG is capped at k positions even when the user has more relevant items.
    assert ndcg_at_k([1, 2], {1, 2, 3, 4}, k=2) == pytest.approx(1.0)


def test_vectorised_matches_scalar() -> None:
    rng = np.random.default_rng(0)
    n_items, k = 30, 5
    topk = np.stack([rng.permutation(n_items)[:k] for _ in range(4)])
    truth = [rng.choice(n_items, size=s, replace=False) for s in (1, 3, 7, 12)]
    users = np.arange(4)
    keys = pair_keys(np.array([(u, i) for u in users for i in truth[u]]), n_items)
    hits = hit_matrix(topk, users, keys, n_items)
    r, n = recall_ndcg_from_hits(hits, np.array([len(t) for t in truth]))
    for u in users:
        assert r[u] == pytest.approx(recall_at_k(topk[u], truth[u], k))
        assert n[u] == pytest.approx(ndcg_at_k(topk[u], truth[u], k))


def test_recall_and_ndcg_lists() -> None:
    out = recall_and_ndcg([[3, 1, 2], [0, 1, 2]], [{1}, set()], k=2)
    assert out == {
        "recall@2": pytest.approx(1.0),
        "ndcg@2": pytest.approx(1 / math.log2(3)),
        "n_users": 1,
    }


def test_topk_masks_pairs() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]], np.float32)
    mask = pair_keys(np.array([[0, 0], [1, 3]]), 4)
    top = topk_masked(scores, np.array([0, 1]), mask, 4, 2)
    assert top.tolist() == [[1, 3], [2, 1]]


def test_evaluate_embeddings_hand_case() -> None:
    item = np.eye(3, dtype=np.float32)
    user = np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 1.0]], np.float32)
    # User 0: item 0 is a training pair (masked) so the ranking is [1, 2, ...].
    res = evaluate_embeddings(
        user, item, holdout=np.array([[0, 1], [1, 0]]), exclude=np.array([[0, 0]]), k=1
    )
    # User 0 hits (item 1 ranked first); user 1 ranks item 2 first and misses item 0.
    assert res["recall@1"] == pytest.approx(0.5)
    assert res["ndcg@1"] == pytest.approx(0.5)
    assert res["n_users"] == 2


def test_numpy_modules_do_not_import_torch() -> None:
    code = (
        "import sys, recommender.metrics, recommender.scoring; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
