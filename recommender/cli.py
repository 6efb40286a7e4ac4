"""Command line: ``evaluate`` (benchmark harness) and ``train`` (product embeddings).

``tys evaluate`` is wired to :func:`evaluate_main`; ``python -m recommender evaluate|train``
goes through :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

from recommender.data import DataError

# Must be set before torch (OpenMP) is first imported. With the default spin-waiting, a
# 2-thread run on a 2-core machine that also hosts the bot/database slows down ~5x whenever
# another process takes a core (measured: 10 s vs 2 s per lastfm epoch).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit code 2, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _set_threads(n: int) -> None:
    from recommender.threads import set_threads

    # The target machine has 2 cores; more threads than cores only adds contention.
    set_threads(n)


def _parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``--set lightgcn.lr=0.01`` -> {"lightgcn": {"lr": 0.01}} (values parsed as JSON)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        model, dot, name = key.partition(".")
        if not sep or not dot or not name:
            raise DataError(f"--set expects MODEL.KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(model, {})[name] = value
    return out


def _merge(
    base: dict[str, dict[str, Any]], over: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per-model union of two override sets; keys in `over` win."""
    out = {model: dict(kv) for model, kv in base.items()}
    for model, kv in over.items():
        out.setdefault(model, {}).update(kv)
    return out


def _format_table(rows: list[dict[str, Any]]) -> str:
    head = (
        "dataset",
        "model",
        "recall@20",
        "ndcg@20",
        "valid_r@20",
        "train_s",
        "s/epoch",
        "epochs",
    )
    lines = ["{:<10} {:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>6}".format(*head)]
    for r in rows:
        spe = r.get("s_per_epoch")
        lines.append(
            "{:<10} {:<9} {:>9.4f} {:>9.4f} {:>10.4f} {:>9.1f} {:>8} {:>6}".format(
                r["dataset"][:10],
                r["model"],
                r["recall@20"],
                r["ndcg@20"],
                r["valid_recall@20"],
                r["train_s"],
                "-" if spe is None else f"{spe:.3f}",
                "-" if r["epochs"] is None else r["epochs"],
            )
        )
    return "\n".join(lines)


def evaluate_main(argv: list[str]) -> int:
    """``evaluate --data DIR [--models a,b] [--json] [--seed N] [--max-seconds S]``."""
    from recommender.constants import MODELS, PRESETS, SELECT

    p = _Parser(
        prog="tys evaluate", description="Benchmark recommenders on DIR/{train,valid,test}.txt"
    )
    p.add_argument("--data", required=True, help="directory with train.txt, valid.txt, test.txt")
    p.add_argument("--models", default=",".join(MODELS), help=f"comma list of {','.join(MODELS)}")
    p.add_argument("--json", action="store_true", help="one JSON object per model per line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="training budget per model; the best state so far is kept",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="override a default hyper-parameter, e.g. lightgcn.lr=0.01",
    )
    p.add_argument(
        "--preset",
        default=None,
        help=f"named hyper-parameters ({', '.join(PRESETS)}), applied before --set",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--curve", action="store_true", help="add every validation's recall/NDCG to the JSON"
    )
    args = p.parse_args(argv)
    try:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        unknown = [m for m in models if m not in MODELS]
        if unknown or not models:
            raise DataError(f"unknown model(s) {unknown or args.models!r}; choose from {MODELS}")
        if args.preset is not None and args.preset not in PRESETS:
            raise DataError(f"unknown preset {args.preset!r}; choose from {tuple(PRESETS)}")
        overrides = _merge(PRESETS.get(args.preset, {}), _parse_overrides(args.set))
        for model, kv in overrides.items():
            if "select" in kv and kv["select"] not in SELECT:
                raise DataError(f"{model}.select must be one of {SELECT}, got {kv['select']!r}")
        from recommender.data import load_dataset

        ds = load_dataset(args.data)
    except DataError as exc:
        print(f"tys evaluate: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"tys evaluate: error: cannot read {args.data}: {exc}", file=sys.stderr)
        return 2
    _set_threads(args.threads)
    from recommender.harness import Harness

    harness = Harness(ds, curve=args.curve)
    rows = []
    for model in models:
        row = harness.run(
            model,
            seed=args.seed,
            max_seconds=args.max_seconds,
            overrides=overrides.get(model),
            progress=not args.no_progress,
        )
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
    if not args.json:
        print(_format_table(rows))
    return 0


def train_main(argv: list[str]) -> int:
    """``train --input graph.npz --output emb.npz [--time-limit S] [--seed N] [--dim D]``."""
    p = _Parser(prog="recommender train", description="Train product embeddings (LightGCN)")
    p.add_argument(
        "--input", required=True, help="graph .npz (n_users, n_items, n_tags, ui, it...)"
    )
    p.add_argument("--output", required=True, help="output .npz (item_emb, user_emb, metrics_json)")
    p.add_argument("--time-limit", type=float, default=None, help="wall-clock seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--progress", action="store_true", help="tqdm bar on stderr")
    args = p.parse_args(argv)
    from recommender.product import GraphError, load_graph, train_embeddings, write_embeddings

    try:
        graph = load_graph(args.input)
    except GraphError as exc:
        print(f"recommender train: error: {exc}", file=sys.stderr)
        return 2
    _set_threads(args.threads)
    try:
        result = train_embeddings(
            graph,
            dim=args.dim,
            seed=args.seed,
            time_limit=args.time_limit,
            progress=args.progress,
        )
        write_embeddings(args.output, result)
    except Exception as exc:  # the parent process only sees the exit code and this line
        print(f"recommender train: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(result.metrics_json)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"evaluate": evaluate_main, "train": train_main}
    if not argv or argv[0] not in commands:
        print("usage: python -m recommender {evaluate,train} [options]", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])
