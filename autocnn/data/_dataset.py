"""The Dataset every trial reads: train, validation and test splits, classes and a fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from autocnn.data._splits import stratified_split


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images (float32, NHWC, scaled to [0, 1]) and int64 labels, split three ways.

    The validation split is carved from the training data, stratified and seeded, so every trial
    of a study sees the same split; the test split is used only to evaluate the final model.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    fingerprint: str
    source: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one image: (height, width, channels)."""
        height, width, channels = self.x_train.shape[1:]
        return int(height), int(width), int(channels)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def subset(self, fraction: float, *, seed: int) -> Dataset:
        """Return the same dataset with a stratified fraction of the training split (a cheap fidelity)."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1]; got {fraction}")
        if fraction == 1:
            return self
        keep, _ = stratified_split(self.y_train, fraction=1 - fraction, seed=seed)
        return Dataset(
            name=self.name,
            x_train=self.x_train[keep],
            y_train=self.y_train[keep],
            x_val=self.x_val,
            y_val=self.y_val,
            x_test=self.x_test,
            y_test=self.y_test,
            class_names=self.class_names,
            fingerprint=self.fingerprint,
            source=self.source,
        )


def fingerprint_arrays(*arrays: np.ndarray, extra: str = "") -> str:
    """Return a sha256 hex digest of the arrays' shapes, dtypes and bytes, plus ``extra``."""
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.shape}{contiguous.dtype}".encode())
        digest.update(contiguous.tobytes())
    digest.update(extra.encode())
    return digest.hexdigest()
