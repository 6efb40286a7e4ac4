"""`evaluate` CLI and `python -m recommender train` on tiny generated data."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender.cli import evaluate_main, main
from recommender.scoring import evaluate_embeddings
from recommender.synthetic import planted_communities, split_pairs, write_split_dir

KEYS = {
    "dataset",
    "model",
    "recall@20",
    "ndcg@20",
    "valid_recall@20",
    "train_s",
    "epochs",
    "params",
}
FAST = [
    *("--set", "lightgcn.dim=8", "--set", "lightgcn.epochs=3", "--set", "bprmf.epochs=3"),
    *("--set", "lightgcn.batch_size=256", "--set", "bprmf.batch_size=256"),
    *("--set", "ease.lam=[10.0,100.0]", "--set", "itemknn.k=[5,20]"),
    *("--threads", "1", "--no-progress"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = planted_communities(60, 40, n_comm=2, per_user=8, seed=0)
    train, valid, test = split_pairs(d["pairs"], seed=0)
    out = write_split_dir(
        tmp_path_factory.mktemp("tiny"), 60, {"train": train, "valid": valid, "test": test}
    )
    # A user line with only the id, as the format allows.
    with (out / "test.txt").open("a") as fh:
        fh.write("60\n")
    return out


def test_evaluate_json_lines(data_dir: Path, capsys) -> None:
    code = evaluate_main(["--data", str(data_dir), "--json", "--seed", "1", *FAST])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["model"] for r in rows] == ["lightgcn", "ease", "itemknn", "bprmf", "pop"]
    for r in rows:
        assert KEYS <= set(r)
        assert 0.0 <= r["recall@20"] <= 1.0 and 0.0 <= r["ndcg@20"] <= 1.0
        assert r["dataset"] == data_dir.name
    assert isinstance(rows[0]["epochs"], int) and rows[1]["epochs"] is None


def test_evaluate_table(data_dir: Path, capsys) -> None:
    assert evaluate_main(["--data", str(data_dir), "--models", "pop,ease"]) == 0
    out = capsys.readouterr().out
    assert "recall@20" in out and "ease" in out and "pop" in out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_dir", "data directory not found"),
        ("missing_file", "missing file"),
        ("bad_token", "non-integer token 'x7'"),
        ("bad_model", "unknown model"),
        ("bad_select", "lightgcn.select must be one of ('recall', 'ndcg'), got 'map'"),
        ("bad_preset", "unknown preset 'ml-20m'; choose from ('ml-1m',)"),
    ],
)
def test_evaluate_bad_input(
    tmp_path: Path, data_dir: Path, capsys, setup: str, message: str
) -> None:
    args = ["--data", str(tmp_path / "nope")]
    if setup != "missing_dir":
        for name in ("train", "valid", "test"):
            (tmp_path / f"{name}.txt").write_text("0 1 2\n1 2\n")
        args = ["--data", str(tmp_path)]
    if setup == "missing_file":
        (tmp_path / "valid.txt").unlink()
    if setup == "bad_token":
        (tmp_path / "train.txt").write_text("0 1 x7\n")
    if setup == "bad_model":
        args += ["--models", "lightgcn,magic"]
    if setup == "bad_select":
        args += ["--set", "lightgcn.select=map"]
    if setup == "bad_preset":
        args += ["--preset", "ml-20m"]
    assert evaluate_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("select", ["recall", "ndcg"])
def test_evaluate_keeps_the_state_best_on_the_selected_metric(
    data_dir: Path, capsys, select: str
) -> None:
    """The reported validation figures are the curve's best on `select`, with its other metric."""
    args = ["--data", str(data_dir), "--models", "lightgcn", "--json", "--curve", *FAST]
    args += ["--set", "lightgcn.epochs=8"]  # a later --set wins
    assert evaluate_main([*args, "--set", f"lightgcn.select={select}", "--seed", "3"]) == 0
    row = json.loads(capsys.readouterr().out)
    curve = row["curve"]
    assert [c["epoch"] for c in curve] == list(range(1, 9))
    best = max(curve, key=lambda c: c[f"{select}@20"])  # first of equals, as the trainer keeps
    assert row["epochs"] == best["epoch"]
    assert row["valid_recall@20"] == pytest.approx(best["recall@20"], abs=1e-5)
    assert row["valid_ndcg@20"] == pytest.approx(best["ndcg@20"], abs=1e-5)


def test_preset_applies_before_set(data_dir: Path, capsys) -> None:
    """`--preset ml-1m` sets the ml-1m hyper-parameters; a `--set` of the same key still wins."""
    from recommender.constants import PRESETS

    args = ["--data", str(data_dir), "--models", "lightgcn", "--json", *FAST]
    assert evaluate_main([*args, "--preset", "ml-1m"]) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    preset = PRESETS["ml-1m"]["lightgcn"]
    assert params["lr"] == preset["lr"] == 0.005 and params["decays"] == preset["decays"]
    assert params["alpha"] == 0.5 and params["gamma"] == 0.0
    assert params["batch_size"] == 256  # from FAST's --set, over the preset's 8192


def test_module_entry_point_bad_input(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "recommender", "evaluate", "--data", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("tys evaluate: error: data directory not found")


def test_tys_evaluate_passes_options_through(data_dir: Path, capsys) -> None:
    """`tys evaluate --data DIR` (options first, as the README writes it) reaches the harness."""
    from bot.cli import main as tys

    assert tys(["evaluate", "--data", str(data_dir), "--models", "pop", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [r["model"] for r in rows] == ["pop"]
    assert 0.0 <= rows[0]["recall@20"] <= 1.0


def _graph(path: Path, holdout: bool = True) -> dict[str, np.ndarray]:
    d = planted_communities(80, 60, n_comm=2, per_user=10, seed=2)
    train, _, test = split_pairs(d["pairs"], seed=2, valid=0.0, test=0.2)
    g = {
        "n_users": np.int64(80),
        "n_items": np.int64(62),
        "n_tags": np.int64(4),
        "ui": train,
        "ui_weight": np.ones(len(train), np.float32),
        # Items 60 and 61 are new to the catalogue: tags only.
        "it": np.concatenate([d["it"], [[60, 0], [60, 1], [61, 2], [61, 3]]]),
        "neg": np.array([[0, 1], [1, 2]], np.int64),
    }
    if holdout:
        g["holdout"] = test
    np.savez(path, **g)
    return g


def test_train_writes_normalised_embeddings(tmp_path: Path, capsys) -> None:
    g = _graph(tmp_path / "graph.npz")
    out = tmp_path / "emb.npz"
    code = main(
        [
            "train",
            "--input",
            str(tmp_path / "graph.npz"),
            "--output",
            str(out),
            "--dim",
            "16",
            "--seed",
            "1",
            "--time-limit",
            "60",
        ]
    )
    assert code == 0
    with np.load(out) as z:
        item, user = z["item_emb"], z["user_emb"]
        metrics = json.loads(str(z["metrics_json"]))
    assert item.shape == (62, 16) and user.shape == (80, 16) and item.dtype == np.float32
    assert np.allclose(np.linalg.norm(item, axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(user, axis=1), 1.0, atol=1e-5)
    assert {"recall@20", "ndcg@20", "epochs", "train_s", "params"} <= set(metrics)
    # The recorded metric is what the numpy scorer computes on the written embeddings.
    again = evaluate_embeddings(user, item, g["holdout"], g["ui"])
    assert metrics["recall@20"] == pytest.approx(again["recall@20"])
    assert metrics["recall@20"] > 0.3
    # New items sit with their tag-mates: 60 has community-0 tags, 61 community-1 tags.
    comm = np.arange(60) % 2
    assert (item[:60][comm == 0] @ item[60]).mean() > (item[:60][comm == 1] @ item[60]).mean()
    assert (item[:60][comm == 1] @ item[61]).mean() > (item[:60][comm == 0] @ item[61]).mean()


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("no_file", "input file not found"),
        ("no_ui", "missing array 'ui'"),
        ("out_of_range", "'ui' has ids out of range"),
        ("float_ui", "'ui' must be an integer array"),
    ],
)
def test_train_bad_input(tmp_path: Path, capsys, broken: str, message: str) -> None:
    src = tmp_path / "graph.npz"
    if broken != "no_file":
        g = {
            "n_users": np.int64(2),
            "n_items": np.int64(2),
            "n_tags": np.int64(0),
            "ui": np.array([[0, 0], [1, 1]]),
        }
        if broken == "no_ui":
            del g["ui"]
        if broken == "out_of_range":
            g["ui"] = np.array([[0, 5]])
        if broken == "float_ui":
            g["ui"] = np.array([[0.0, 1.0]])
        np.savez(src, **g)
    out = tmp_path / "emb.npz"
    assert main(["train", "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()
