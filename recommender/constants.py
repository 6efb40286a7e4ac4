"""Torch-free constants, so the CLI can reject bad arguments without importing torch."""

MODELS = ("lightgcn", "ease", "itemknn", "bprmf", "pop")
# Validation metric that picks the kept state of a torch model (`--set MODEL.select=...`).
SELECT = ("recall", "ndcg")
