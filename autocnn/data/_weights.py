"""Per-class weights under which every class counts as much as any other, however many images it has."""

from __future__ import annotations

import numpy as np

__all__ = ["balanced_accuracy", "class_balancing_weights"]


def class_balancing_weights(labels: np.ndarray, *, num_classes: int) -> np.ndarray:
    """Return one float32 weight per class: ``images / (classes present * images of the class)``.

    Weighted this way each class present in ``labels`` sums to the same total, and the weights
    average 1 over the images, so a weighted loss keeps the scale of an unweighted one. A class
    absent from ``labels`` weighs 0.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    present = int(np.count_nonzero(counts))
    weights = np.zeros(num_classes, dtype=np.float64)
    weights[counts > 0] = counts.sum() / (present * counts[counts > 0])
    return weights.astype(np.float32)


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Return the mean over the classes present in ``labels`` of the share of their images predicted right."""
    labels = np.asarray(labels)
    right = np.asarray(predicted) == labels
    classes = np.unique(labels)
    if not len(classes):
        return float("nan")
    return float(np.mean([right[labels == label].mean() for label in classes]))
