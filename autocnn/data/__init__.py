"""Datasets and the input pipeline: real image data in, clean train/validation/test splits out.

``load_dataset("digits")`` (or ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"``,
or a path to an ``.npz`` file, an IDX folder or a folder of class folders of images) returns a
:class:`Dataset`; :func:`make_pipeline` turns its arrays into a ``tf.data.Dataset`` for training.
"""

from __future__ import annotations

from autocnn.data._augment import FLIP_MODES, build_augmentation
from autocnn.data._builtin import FASHION_MNIST_SYSTEM_DIR, keras_cache_dir
from autocnn.data._dataset import Dataset, fingerprint_arrays
from autocnn.data._pipeline import make_pipeline
from autocnn.data._registry import (
    DatasetInfo,
    dataset_from_arrays,
    dataset_location,
    list_datasets,
    load_dataset,
)
from autocnn.data._splits import stratified_split
from autocnn.data._summary import dataset_summary
from autocnn.data._weights import balanced_accuracy, class_balancing_weights

__all__ = [
    "FASHION_MNIST_SYSTEM_DIR",
    "FLIP_MODES",
    "Dataset",
    "DatasetInfo",
    "balanced_accuracy",
    "build_augmentation",
    "class_balancing_weights",
    "dataset_from_arrays",
    "dataset_location",
    "dataset_summary",
    "fingerprint_arrays",
    "keras_cache_dir",
    "list_datasets",
    "load_dataset",
    "make_pipeline",
    "stratified_split",
]
