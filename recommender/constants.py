"""Torch-free constants, so the CLI can reject bad arguments without importing torch."""

MODELS = ("lightgcn", "ease", "itemknn", "bprmf", "pop")
# Validation metric that picks the kept state of a torch model (`--set MODEL.select=...`).
SELECT = ("recall", "ndcg")

# Named hyper-parameter sets for `tys evaluate --preset NAME`; `--set` given after still wins.
# The defaults are tuned on lastfm; ml-1m has ~3x the training interactions per user (98 vs 34)
# and does better with a smaller learning rate, plain LightGCN norms and lr decay on plateaus
# (runs in recommender/BENCHMARKS.md).
PRESETS: dict[str, dict[str, dict[str, object]]] = {
    "ml-1m": {
        "lightgcn": {
            "batch_size": 8192,
            "lr": 0.005,
            "alpha": 0.5,
            "beta": 0.0,
            "gamma": 0.0,
            "eval_every": 2,
            "patience": 4,
            "decays": 3,
            "select": "ndcg",
        }
    },
}
