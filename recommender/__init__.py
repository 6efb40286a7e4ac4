"""Recommender models and evaluation for Tune Your Shop.

The only package that imports torch. ``recommender.metrics`` and ``recommender.scoring`` are
numpy-only so the bot can import them; this ``__init__`` imports nothing heavy on purpose.
"""
