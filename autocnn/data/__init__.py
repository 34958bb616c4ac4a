"""Datasets and the input pipeline: real image data in, clean train/validation/test splits out."""

from autocnn.data._dataset import Dataset, fingerprint_arrays
from autocnn.data._pipeline import build_augmentation, make_pipeline
from autocnn.data._registry import (
    FASHION_MNIST_SYSTEM_DIR,
    DatasetInfo,
    keras_cache_dir,
    list_datasets,
    load_dataset,
)
from autocnn.data._splits import stratified_split
from autocnn.data._summary import dataset_summary

__all__ = [
    "FASHION_MNIST_SYSTEM_DIR",
    "Dataset",
    "DatasetInfo",
    "build_augmentation",
    "dataset_summary",
    "fingerprint_arrays",
    "keras_cache_dir",
    "list_datasets",
    "load_dataset",
    "make_pipeline",
    "stratified_split",
]
