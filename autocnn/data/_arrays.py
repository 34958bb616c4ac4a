"""Turn raw image and label arrays into the form trials use, checking them on the way."""

from __future__ import annotations

import numpy as np

from autocnn.errors import DataError

__all__ = ["class_names_from_labels", "prepare_images", "prepare_labels", "read_only"]


def prepare_images(images: np.ndarray, *, where: str) -> np.ndarray:
    """Return float32 NHWC images in [0, 1]; grayscale (N, H, W) gets a channel axis.

    uint8 images, and any images whose maximum exceeds 1, are divided by 255.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise DataError(
            f"{where}: images must be an array of shape (N, height, width) or (N, height, width, "
            f"channels); got shape {images.shape}"
        )
    if len(images) == 0 or images.size == 0:
        raise DataError(f"{where}: holds no images (shape {images.shape}); the dataset is empty")
    if not (np.issubdtype(images.dtype, np.number) and not np.issubdtype(images.dtype, np.complexfloating)):
        raise DataError(f"{where}: images must be numbers; got dtype {images.dtype}")
    scaled = images.astype(np.float32)
    if not np.isfinite(scaled).all():
        raise DataError(f"{where}: images contain NaN or infinite values; clean or drop those images")
    low, high = float(scaled.min()), float(scaled.max())
    if images.dtype == np.uint8 or high > 1.0:
        scaled /= np.float32(255.0)
        low, high = low / 255.0, high / 255.0
    if low < 0.0 or high > 1.0:
        raise DataError(
            f"{where}: pixel values span {low:g}..{high:g} after scaling; expected uint8 0..255 or floats "
            "in 0..1 (rescale the images first)"
        )
    return scaled


def prepare_labels(labels: np.ndarray, *, count: int, num_classes: int | None, where: str) -> np.ndarray:
    """Return int64 1-D labels, checking their count and range 0..num_classes-1.

    Labels of shape (N, 1), as in keras.datasets' CIFAR, are squeezed to (N,).
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(
            f"{where}: labels must be one integer per image, shape (N,); got shape {labels.shape}"
        )
    if len(labels) != count:
        raise DataError(f"{where}: {len(labels)} labels for {count} images; the counts must match")
    if len(labels) == 0:
        raise DataError(f"{where}: holds no labels; the dataset is empty")
    whole = np.issubdtype(labels.dtype, np.integer) or (
        np.issubdtype(labels.dtype, np.floating) and bool(np.all(np.mod(labels, 1) == 0))
    )
    if not whole:
        raise DataError(
            f"{where}: labels must be whole numbers 0..n-1 (class indices); got dtype {labels.dtype}"
        )
    as_int = labels.astype(np.int64)
    low, high = int(as_int.min()), int(as_int.max())
    if low < 0:
        raise DataError(f"{where}: label {low} is negative; labels must be class indices 0..n-1")
    if num_classes is not None and high >= num_classes:
        raise DataError(
            f"{where}: label {high} is outside 0..{num_classes - 1} ({num_classes} classes); "
            "labels must be class indices 0..n-1"
        )
    return as_int


def class_names_from_labels(labels: np.ndarray, *, where: str) -> tuple[str, ...]:
    """Return "0".."n-1" for labels that use exactly the classes 0..n-1; DataError otherwise.

    A gap (a class index with no example) usually means 1-based or renumbered labels.
    """
    present = np.unique(labels)
    expected = np.arange(len(present))
    if not np.array_equal(present, expected):
        outside = [int(label) for label in present if label >= len(present)]
        raise DataError(
            f"{where}: labels must be 0..n-1 for the n = {len(present)} classes present; found "
            f"{', '.join(str(label) for label in outside[:5])} outside 0..{len(present) - 1} "
            "(1-based labels? renumber the classes from 0 without gaps)"
        )
    return tuple(str(label) for label in present.tolist())


def read_only(array: np.ndarray) -> np.ndarray:
    """Return ``array`` marked read-only, so a cached dataset cannot be changed by accident."""
    array.setflags(write=False)
    return array
