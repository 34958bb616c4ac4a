"""What `autocnn datasets info` shows: shapes, classes and class balance per split."""

from __future__ import annotations

from typing import Any

import numpy as np

from autocnn.data._dataset import Dataset

__all__ = ["dataset_summary"]


def dataset_summary(dataset: Dataset) -> dict[str, Any]:
    """Return the dataset's shapes, classes and per-split class counts, JSON-ready.

    ``class_counts[split][i]`` is the number of images of class ``class_names[i]`` in the split;
    ``imbalance[split]`` is the largest class count divided by the smallest (1.0 is balanced).
    """
    splits = {"train": dataset.y_train, "validation": dataset.y_val, "test": dataset.y_test}
    counts = {
        split: np.bincount(labels, minlength=dataset.num_classes).astype(int).tolist()
        for split, labels in splits.items()
    }
    return {
        "name": dataset.name,
        "source": dataset.source,
        "input_shape": list(dataset.input_shape),
        "dtype": str(dataset.x_train.dtype),
        "num_classes": dataset.num_classes,
        "class_names": list(dataset.class_names),
        "sizes": {split: len(labels) for split, labels in splits.items()},
        "class_counts": counts,
        "imbalance": {
            split: (round(max(values) / min(values), 3) if min(values) > 0 else None)
            for split, values in counts.items()
        },
        "fingerprint": dataset.fingerprint,
    }
