"""LightGCN / baselines on small planted-community graphs."""

import os
from collections.abc import Callable

import numpy as np
import pytest
import torch

from recommender.baselines import BPRMF, EASE, ItemKNN, Popularity
from recommender.data import to_csr
from recommender.lightgcn import LightGCN, build_graph, normalize_graph
from recommender.sampling import NegativeSampler
from recommender.scoring import evaluate_scores_fn
from recommender.synthetic import planted_communities, split_pairs
from recommender.trainer import TrainConfig, fit_bpr, seed_everything

N_USERS, N_ITEMS = 200, 160


@pytest.fixture(scope="module")
def planted() -> dict[str, np.ndarray]:
    data = planted_communities(N_USERS, N_ITEMS, n_comm=4, per_user=16, seed=1)
    train, valid, test = split_pairs(data["pairs"], seed=1)
    return {**data, "train": train, "valid": valid, "test": test}


def _fit_lightgcn(
    train: np.ndarray, valid: np.ndarray, seed: int = 0, epochs: int = 40, **kw
) -> LightGCN:
    seed_everything(seed)
    model = LightGCN(N_USERS, N_ITEMS, train, dim=16, n_layers=2, **kw)
    cfg = TrainConfig(epochs=epochs, batch_size=512, lr=0.02, patience=5, seed=seed, progress=False)

    def valid_fn(m: torch.nn.Module) -> float:
        return evaluate_scores_fn(_scores(m), N_ITEMS, valid, train)["recall@20"]

    fit_bpr(model, train, N_ITEMS, cfg, valid_fn)
    return model


def _scores(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    return lambda users: model.full_sort_predict(torch.from_numpy(users)).numpy()


def test_graph_normalisation_is_symmetric() -> None:
    a = normalize_graph(build_graph(2, 3, np.array([[0, 0], [0, 1], [1, 1]])))
    dense = a.toarray()
    assert np.allclose(dense, dense.T)
    # Edge user0-item1: degrees 2 and 2 -> 1/sqrt(2*2).
    assert dense[0, 2 + 1] == pytest.approx(0.5)


def test_sampler_never_returns_positives() -> None:
    pos = np.array([[0, i] for i in range(9)])  # user 0 likes 9 of 10 items
    sampler = NegativeSampler(10, pos)
    neg = sampler.sample(np.zeros(1000, np.int64), np.random.default_rng(0))
    assert set(neg.tolist()) == {9}


def test_sampler_hard_negatives() -> None:
    sampler = NegativeSampler(50, np.array([[0, 0]]), hard=np.array([[0, 7]]), hard_ratio=1.0)
    neg = sampler.sample(np.zeros(100, np.int64), np.random.default_rng(0))
    assert (neg == 7).all()


def test_lightgcn_beats_popularity(planted) -> None:
    train, valid, test = planted["train"], planted["valid"], planted["test"]
    seen = np.concatenate([train, valid])
    model = _fit_lightgcn(train, valid)
    lgcn = evaluate_scores_fn(_scores(model), N_ITEMS, test, seen)["recall@20"]
    x = to_csr(train, N_USERS, N_ITEMS)
    pop = evaluate_scores_fn(Popularity().fit(x).score, N_ITEMS, test, seen)["recall@20"]
    assert lgcn > pop + 0.1, (lgcn, pop)


def test_baselines_beat_popularity(planted) -> None:
    train, test = planted["train"], planted["test"]
    seen = np.concatenate([train, planted["valid"]])
    x = to_csr(train, N_USERS, N_ITEMS)
    pop = evaluate_scores_fn(Popularity().fit(x).score, N_ITEMS, test, seen)["recall@20"]
    for m in (EASE(lam=50.0), ItemKNN(k=50)):
        r = evaluate_scores_fn(m.fit(x).score, N_ITEMS, test, seen)["recall@20"]
        assert r > pop + 0.1, (type(m).__name__, r, pop)
    seed_everything(0)
    mf = BPRMF(N_USERS, N_ITEMS, dim=16)
    fit_bpr(mf, train, N_ITEMS, TrainConfig(epochs=30, batch_size=256, lr=0.02, progress=False))
    r = evaluate_scores_fn(_scores(mf), N_ITEMS, test, seen)["recall@20"]
    assert r > pop + 0.05, (r, pop)


def test_dns_trains_on_the_highest_scored_negative() -> None:
    torch.manual_seed(0)
    ui = np.array([[0, 0], [1, 1], [1, 2], [0, 3]])
    model = LightGCN(2, 4, ui, dim=8, n_layers=1, dns=True)
    users, pos = torch.tensor([0, 1]), torch.tensor([0, 1])
    negs = torch.tensor([[2, 3], [0, 3]])
    with torch.no_grad():
        user_all, item_all = model.forward()
    scores = (user_all[users][:, None, :] * item_all[negs]).sum(-1)
    hardest = negs.gather(1, scores.argmax(1, keepdim=True))
    easiest = negs.gather(1, scores.argmin(1, keepdim=True))
    got = model.calculate_loss(users, pos, negs)
    model.dns = False
    assert torch.allclose(got, model.calculate_loss(users, pos, hardest.squeeze(1)))
    assert not torch.allclose(got, model.calculate_loss(users, pos, easiest.squeeze(1)))


def test_plateau_lowers_the_rate_from_the_best_state(planted) -> None:
    train = planted["train"]
    seed_everything(0)
    model = LightGCN(N_USERS, N_ITEMS, train, dim=16, n_layers=2)
    seen: list[float] = []

    def valid_fn(m: torch.nn.Module) -> float:
        # Improves twice, then never again: a plateau after epoch 2.
        seen.append(float(len(seen) < 2) * len(seen))
        return seen[-1]

    cfg = TrainConfig(epochs=50, batch_size=512, lr=0.02, patience=2, decays=2, progress=False)
    res = fit_bpr(model, train, N_ITEMS, cfg, valid_fn)
    # 2 improving epochs, then 2 bad evaluations per phase: the first plateau and two decays.
    assert (res.decays, res.stopped, res.epochs, res.best_epoch) == (2, "early_stop", 8, 2)


def test_same_seed_same_model(planted) -> None:
    train, valid = planted["train"], planted["valid"]
    # LightGCN++ options on, so the asymmetric-normalisation path is covered too.
    kw = {"epochs": 8, "alpha": 0.6, "beta": -0.1, "gamma": 0.2, "norm_emb": True}
    a = _fit_lightgcn(train, valid, seed=3, **kw).export()[1]
    b = _fit_lightgcn(train, valid, seed=3, **kw).export()[1]
    c = _fit_lightgcn(train, valid, seed=4, **kw).export()[1]
    assert np.allclose(a, b, atol=1e-6)
    assert not np.allclose(a, c, atol=1e-3)


def test_tags_give_cold_items_a_meaningful_embedding(planted) -> None:
    item_comm, it = planted["item_comm"], planted["it"]
    cold = np.array([0, 1, 2, 3])  # one item per community loses all interactions
    train = planted["train"][~np.isin(planted["train"][:, 1], cold)]
    seed_everything(0)
    model = LightGCN(N_USERS, N_ITEMS, train, n_tags=8, it=it, dim=16, n_layers=2)
    fit_bpr(model, train, N_ITEMS, TrainConfig(epochs=30, batch_size=512, lr=0.02, progress=False))
    emb = model.export()[1]
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    warm = np.setdiff1d(np.arange(N_ITEMS), cold)
    for c in cold:
        sims = emb[warm] @ emb[c]
        same = sims[item_comm[warm] == item_comm[c]].mean()
        other = sims[item_comm[warm] != item_comm[c]].mean()
        assert same > other + 0.3, (c, same, other)


def test_training_under_an_openmp_thread_limit(tmp_path) -> None:
    """OMP_THREAD_LIMIT below torch's thread count (the OCR sets it to 1 for Tesseract) made
    the graph product skip whole row ranges: cold items came back as zero vectors. Run in a
    fresh interpreter, since libgomp reads the limit when torch loads it."""
    import subprocess
    import sys

    script = (
        "import numpy as np, torch\n"
        "from recommender.lightgcn import LightGCN\n"
        "torch.set_num_threads(2)\n"
        "rng = np.random.default_rng(0)\n"
        "ui = np.unique(np.stack([rng.integers(0, 300, 4000), rng.integers(0, 400, 4000)], 1), axis=0)\n"
        "it = np.stack([np.arange(400), np.arange(400) % 8], 1)\n"
        "m = LightGCN(300, 400, ui, n_tags=8, it=it, dim=16)\n"
        "users, items = m.export()\n"
        "print(torch.get_num_threads(), int((np.abs(items).sum(1) == 0).sum()),"
        " int((np.abs(users).sum(1) == 0).sum()))\n"
    )
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1", "0", "0"]  # one thread, and every user and item embedded
