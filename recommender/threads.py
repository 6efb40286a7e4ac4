"""torch's thread count, kept within OMP_THREAD_LIMIT.

libgomp caps every parallel region at OMP_THREAD_LIMIT threads, but torch still splits the
work for torch.get_num_threads() threads; with the limit below that count the chunks of the
threads that never start are not computed at all (rows of the sparse graph product came back
as zeros, so a model trained after OCR work in the same process was garbage: the OCR sets
OMP_THREAD_LIMIT=1 for Tesseract). Every module that runs torch work calls `fit()` first.
"""

from __future__ import annotations

import os

import torch


def omp_limit() -> int | None:
    try:
        limit = int(os.environ.get("OMP_THREAD_LIMIT", ""))
    except ValueError:
        return None
    return limit if limit > 0 else None


def set_threads(n: int) -> int:
    """Use up to `n` threads (at least 1, at most the OpenMP limit); returns the count set."""
    limit = omp_limit()
    n = max(1, n if limit is None else min(n, limit))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def fit() -> int:
    """Lower the current thread count to the OpenMP limit when it is above it."""
    return set_threads(torch.get_num_threads())
