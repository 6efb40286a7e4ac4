"""Torch-free constants, so the CLI can reject bad arguments without importing torch."""

MODELS = ("lightgcn", "ease", "itemknn", "bprmf", "pop")
