"""Datasets of different shapes made from the data available offline (digits, Fashion-MNIST).

Each is what a stranger might bring: small grayscale data upscaled, colour images of 64 px, an
image folder with 3 look-alike classes, one with 100 classes, and unbalanced classes. Every one
is seeded, so two runs compare on the same images; ``scale`` shrinks the image counts (smoke runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autocnn.data import Dataset, dataset_from_arrays, load_dataset

SEED = 0


@dataclass(frozen=True)
class ShapedDataset:
    """A named benchmark dataset and what it stands for."""

    name: str
    stands_for: str
    make: Callable[[Path, float], Dataset]


def _count(count: float, scale: float) -> int:
    return max(2, round(count * scale))


def _per_class(labels: np.ndarray, counts: dict[int, int], rng: np.random.Generator) -> np.ndarray:
    """Return indices of ``counts[c]`` random examples of each class ``c``."""
    chosen = [rng.choice(np.flatnonzero(labels == c), size=n, replace=False) for c, n in counts.items()]
    return rng.permutation(np.concatenate(chosen))


def _resize(images: np.ndarray, side: int) -> np.ndarray:
    """Return NHWC float images resized (bilinear) to ``side`` x ``side``."""
    import tensorflow as tf

    return np.concatenate(
        [
            tf.image.resize(images[start : start + 1000], (side, side)).numpy()
            for start in range(0, len(images), 1000)
        ]
    ).clip(0.0, 1.0)


def _fashion() -> Dataset:
    return load_dataset("fashion_mnist", validation_fraction=0.1, seed=SEED)


def _write_folder(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
    """Write uint8 images as PNG files under ``folder/split/<class name>/``."""
    from PIL import Image

    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        target = folder / split / names[int(label)]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.squeeze(-1)).save(target / f"{index:05d}.png")


def digits_32px(root: Path, scale: float) -> Dataset:
    """scikit-learn's 1,797 8x8 digits upscaled to 32x32: little data, blurry large images."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(digits.target))[: _count(len(digits.target), scale)]
    images = _resize(digits.images[order, :, :, None].astype(np.float32) / 16.0, 32)
    labels = digits.target[order]
    cut = len(order) * 3 // 4
    return dataset_from_arrays(images[:cut], labels[:cut], images[cut:], labels[cut:], name="digits_32px")


def fashion_colour_64px(root: Path, scale: float) -> Dataset:
    """Fashion-MNIST upscaled to 64x64 and coloured at random (colour says nothing about the class)."""
    fashion = _fashion()
    rng = np.random.default_rng(SEED)

    def coloured(images: np.ndarray, labels: np.ndarray, per_class: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = _per_class(labels, dict.fromkeys(range(10), per_class), rng)
        large = _resize(images[chosen], 64)
        foreground = rng.uniform(0.3, 1.0, size=(len(chosen), 1, 1, 3)).astype(np.float32)
        background = rng.uniform(0.0, 0.4, size=(len(chosen), 1, 1, 3)).astype(np.float32)
        return (large * foreground + (1.0 - large) * background).clip(0.0, 1.0), labels[chosen]

    x_train, y_train = coloured(fashion.x_train, fashion.y_train, _count(300, scale))
    x_test, y_test = coloured(fashion.x_test, fashion.y_test, _count(100, scale))
    return dataset_from_arrays(
        x_train, y_train, x_test, y_test, name="fashion_colour_64px", class_names=fashion.class_names
    )


def folder_3_classes(root: Path, scale: float) -> Dataset:
    """An image folder of three look-alike classes (T-shirt, pullover, shirt), PNG files."""
    fashion = _fashion()
    rng = np.random.default_rng(SEED)
    classes = {0: "t_shirt", 2: "pullover", 6: "shirt"}
    folder = root / "folder_3_classes"
    for split, images, labels, per_class in (
        ("train", fashion.x_train, fashion.y_train, _count(800, scale)),
        ("test", fashion.x_test, fashion.y_test, _count(300, scale)),
    ):
        chosen = _per_class(labels, dict.fromkeys(classes, per_class), rng)
        names = [classes.get(c, "") for c in range(10)]
        _write_folder(folder, split, (images[chosen] * 255).round().astype(np.uint8), labels[chosen], names)
    return load_dataset(folder, validation_fraction=0.1, seed=SEED)


def folder_100_classes(root: Path, scale: float) -> Dataset:
    """An image folder of 100 classes: two handwritten digits side by side read as 00..99, 32x32 PNGs."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(SEED)
    pools = np.array_split(
        rng.permutation(len(digits.target)), 2
    )  # train and test digits never share a drawing
    folder = root / "folder_100_classes"
    names = [f"n{number:02d}" for number in range(100)]
    for split, pool, per_class in (
        ("train", pools[0], _count(30, scale)),
        ("test", pools[1], _count(10, scale)),
    ):
        by_digit = [pool[digits.target[pool] == digit] for digit in range(10)]
        images, labels = [], []
        for number in range(100):
            for _ in range(per_class):
                canvas = np.zeros((16, 16), np.float32)
                canvas[4:12, 0:8] = digits.images[rng.choice(by_digit[number // 10])]
                canvas[4:12, 8:16] = digits.images[rng.choice(by_digit[number % 10])]
                images.append(np.kron(canvas, np.ones((2, 2), np.float32)))
                labels.append(number)
        pixels = (np.stack(images)[..., None] / 16.0 * 255).round().astype(np.uint8)
        _write_folder(folder, split, pixels, np.array(labels), names)
    return load_dataset(folder, validation_fraction=0.1, seed=SEED)


def fashion_unbalanced(root: Path, scale: float) -> Dataset:
    """Fashion-MNIST with unbalanced training classes (2,000 images of the first down to 62 of the last)."""
    fashion = _fashion()
    rng = np.random.default_rng(SEED)
    train = _per_class(fashion.y_train, {c: _count(2000 * 0.68**c, scale) for c in range(10)}, rng)
    test = _per_class(fashion.y_test, dict.fromkeys(range(10), _count(200, scale)), rng)
    return dataset_from_arrays(
        fashion.x_train[train],
        fashion.y_train[train],
        fashion.x_test[test],
        fashion.y_test[test],
        name="fashion_unbalanced",
        class_names=fashion.class_names,
    )


SHAPED_DATASETS = tuple(
    ShapedDataset(make.__name__, (make.__doc__ or "").splitlines()[0], make)
    for make in (digits_32px, fashion_colour_64px, folder_3_classes, folder_100_classes, fashion_unbalanced)
)
