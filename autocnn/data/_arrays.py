"""Turn raw image and label arrays into the form trials use, checking them on the way."""

from __future__ import annotations

import numpy as np

from autocnn.errors import DataError


def prepare_images(images: np.ndarray, *, where: str) -> np.ndarray:
    """Return float32 NHWC images in [0, 1]; grayscale (N, H, W) gets a channel axis."""
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise DataError(f"{where}: images must have shape (N, H, W) or (N, H, W, C); got {images.shape}")
    if len(images) == 0:
        raise DataError(f"{where}: holds no images")
    scaled = images.astype("float32")
    if images.dtype == np.uint8 or float(scaled.max(initial=0.0)) > 1.0:
        scaled /= 255.0
    return scaled


def prepare_labels(labels: np.ndarray, *, count: int, num_classes: int | None, where: str) -> np.ndarray:
    """Return int64 1-D labels, checking their count and range 0..num_classes-1."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(f"{where}: labels must be one integer per image; got shape {labels.shape}")
    if len(labels) != count:
        raise DataError(f"{where}: {len(labels)} labels for {count} images; the counts must match")
    if not np.issubdtype(labels.dtype, np.integer) and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise DataError(f"{where}: labels must be whole numbers; got {labels.dtype} values")
    as_int = labels.astype("int64")
    low, high = int(as_int.min(initial=0)), int(as_int.max(initial=0))
    if low < 0 or (num_classes is not None and high >= num_classes):
        limit = f"0..{num_classes - 1}" if num_classes is not None else ">= 0"
        raise DataError(f"{where}: labels must be in {limit}; found {low if low < 0 else high}")
    return as_int
