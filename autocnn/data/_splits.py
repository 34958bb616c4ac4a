"""Stratified, seeded splits: the same seed gives the same split, byte for byte."""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_split"]


def stratified_split(labels: np.ndarray, *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (kept, held-out) index arrays holding out ``fraction`` of every class.

    Each class with at least two examples gives ``round(count * fraction)`` of them, at least one
    and at most ``count - 1``, so class proportions in both parts are within one example of
    exact. A class with a single example stays in the kept part. The split depends only on
    ``labels``, ``fraction`` and ``seed``.
    """
    generator = np.random.default_rng(seed)
    kept: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    held: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)
        generator.shuffle(indices)
        count = min(max(round(len(indices) * fraction), 1), len(indices) - 1) if len(indices) > 1 else 0
        held.append(indices[:count])
        kept.append(indices[count:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held))
