"""Small synthetic datasets written to disk in every format autocnn reads."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def unique_images(count: int, *, size: int = 6, offset: int = 0) -> np.ndarray:
    """Return ``count`` uint8 images, each different: pixels (0,0) and (0,1) encode the index."""
    rng = np.random.default_rng(offset)
    images = rng.integers(0, 256, size=(count, size, size), dtype=np.uint8)
    index = np.arange(offset, offset + count)
    images[:, 0, 0] = index % 256
    images[:, 0, 1] = index // 256
    return images


def image_ids(images: np.ndarray) -> set[int]:
    """Return the indices encoded by :func:`unique_images`, from float images in [0, 1]."""
    pixels = np.rint(np.asarray(images)[:, 0, :2, 0] * 255).astype(int)
    return {int(low + 256 * high) for low, high in pixels}


def balanced_labels(count: int, classes: int) -> np.ndarray:
    return (np.arange(count) % classes).astype(np.uint8)


def idx_bytes(array: np.ndarray) -> bytes:
    """Return ``array`` (uint8) in IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_folder(
    folder: Path, *, gz: bool, train: int = 40, test: int = 20, classes: int = 4, size: int = 6
) -> dict[str, np.ndarray]:
    """Write the four IDX files (gzipped or not) and return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": unique_images(train, size=size),
        "y_train": balanced_labels(train, classes),
        "x_test": unique_images(test, size=size, offset=train),
        "y_test": balanced_labels(test, classes),
    }
    for key, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (folder / f"{IDX_NAMES[key]}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / IDX_NAMES[key]).write_bytes(data)
    return arrays


def write_npz(path: Path, **overrides: object) -> Path:
    """Write a keras.datasets-style .npz (40 train, 20 test, 4 classes); overrides replace or drop keys."""
    arrays: dict[str, object] = {
        "x_train": unique_images(40),
        "y_train": balanced_labels(40, 4),
        "x_test": unique_images(20, offset=40),
        "y_test": balanced_labels(20, 4),
    }
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def write_png(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def write_image_folder(
    folder: Path, *, classes: tuple[str, ...] = ("cat", "dog", "owl"), per_class: int = 10, size: int = 6
) -> None:
    """Write ``folder/<class>/<i>.png``: RGB images, each different."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(classes):
        for index in range(per_class):
            pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
            pixels[0, 0] = (label, index, 7)
            write_png(folder / name / f"{index:03d}.png", pixels)
