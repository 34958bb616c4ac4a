"""What `autocnn datasets info` shows: shapes, classes and class balance per split."""

from __future__ import annotations

from typing import Any

import numpy as np

from autocnn.data._dataset import Dataset


def dataset_summary(dataset: Dataset) -> dict[str, Any]:
    """Return the dataset's shapes, classes and per-split class counts, JSON-ready."""
    splits = {"train": dataset.y_train, "validation": dataset.y_val, "test": dataset.y_test}
    return {
        "name": dataset.name,
        "source": dataset.source,
        "input_shape": list(dataset.input_shape),
        "num_classes": dataset.num_classes,
        "class_names": list(dataset.class_names),
        "sizes": {split: len(labels) for split, labels in splits.items()},
        "class_counts": {
            split: np.bincount(labels, minlength=dataset.num_classes).astype(int).tolist()
            for split, labels in splits.items()
        },
        "fingerprint": dataset.fingerprint,
    }
