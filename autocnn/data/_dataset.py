"""The Dataset every trial reads: train, validation and test splits, classes and a fingerprint."""

from __future__ import annotations

import hashlib
import numbers
from dataclasses import dataclass

import numpy as np

from autocnn.data._splits import stratified_split
from autocnn.errors import ConfigError

__all__ = ["Dataset", "fingerprint_arrays"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images (float32, NHWC, scaled to [0, 1]) and int64 labels 0..n-1, split three ways.

    The validation split is carved from the training data, stratified and seeded, so every trial
    of a study sees the same split; the test split is disjoint from both and only evaluates the
    final model. Arrays of datasets returned by :func:`load_dataset` are read-only because they
    are shared through a per-process cache.

    Attributes:
        name: The registered name, or the file or folder name for local data.
        class_names: One name per class; label ``i`` is ``class_names[i]``.
        fingerprint: sha256 hex digest of the six arrays and the split parameters; it changes
            whenever the data, the validation fraction or the split seed change.
        source: Where the data was read from (a path, "scikit-learn", the Keras cache...).

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
        """Return the dataset with a stratified, seeded ``fraction`` of its training split.

        A cheap fidelity for early trials: validation and test splits are unchanged, every class
        keeps at least one training example, and the fingerprint stays the parent's (the study's
        data is the same; only how much of it a trial trains on changes).
        """
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction <= 1:
            raise ConfigError(
                f"The 'fraction' parameter must be a float in (0, 1]; got {fraction!r} instead."
            )
        if fraction == 1:
            return self
        keep, _ = stratified_split(self.y_train, fraction=1 - float(fraction), seed=seed)
        x_train, y_train = self.x_train[keep], self.y_train[keep]
        x_train.setflags(write=False)
        y_train.setflags(write=False)
        return Dataset(
            name=self.name,
            x_train=x_train,
            y_train=y_train,
            x_val=self.x_val,
            y_val=self.y_val,
            x_test=self.x_test,
            y_test=self.y_test,
            class_names=self.class_names,
            fingerprint=self.fingerprint,
            source=self.source,
        )

    def __repr__(self) -> str:
        """Return a one-line summary (the arrays themselves are too long to print)."""
        return (
            f"Dataset(name={self.name!r}, input_shape={self.input_shape}, num_classes={self.num_classes}, "
            f"train={len(self.y_train)}, val={len(self.y_val)}, test={len(self.y_test)}, "
            f"fingerprint={self.fingerprint[:12]!r}, source={self.source!r})"
        )


def fingerprint_arrays(*arrays: np.ndarray, extra: str = "") -> str:
    """Return a sha256 hex digest of the arrays' shapes, dtypes and bytes, plus ``extra``."""
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.shape}|{contiguous.dtype.str}|".encode())
        digest.update(contiguous.data)
    digest.update(extra.encode())
    return digest.hexdigest()
