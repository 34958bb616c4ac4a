"""Stratified, seeded splits: the same seed gives the same split, byte for byte."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (kept, held-out) index arrays; ``fraction`` of every class is held out (at least one).

    Classes with a single example stay entirely in the kept part.
    """
    generator = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)
        generator.shuffle(indices)
        count = round(len(indices) * fraction)
        count = min(max(count, 1), len(indices) - 1) if len(indices) > 1 else 0
        held.append(indices[:count])
        kept.append(indices[count:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held))
