"""Splits: stratified, seeded, deterministic, disjoint from test; the fingerprint follows them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autocnn.data import _registry, fingerprint_arrays, load_dataset, stratified_split
from autocnn.errors import ConfigError
from tests.data.writers import image_ids, unique_images, write_npz, write_png

# Imbalanced on purpose: 50, 30, 17 and 3 training images.
SIZES = (50, 30, 17, 3)


def imbalanced(tmp_path: Path, name: str = "imbalanced.npz", **overrides: object) -> Path:
    labels = np.repeat(np.arange(len(SIZES)), SIZES).astype(np.uint8)
    order = np.random.default_rng(5).permutation(len(labels))  # classes interleaved, as in real data
    arrays: dict[str, object] = {
        "x_train": unique_images(len(labels)),
        "y_train": labels[order],
        "x_test": unique_images(20, offset=500),
        "y_test": (np.arange(20) % 4).astype(np.uint8),
    }
    arrays.update(overrides)
    return write_npz(tmp_path / name, **arrays)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_validation_split_is_stratified(tmp_path: Path, fraction: float) -> None:
    data = load_dataset(imbalanced(tmp_path), validation_fraction=fraction, seed=3)
    val_counts = np.bincount(data.y_val, minlength=4)
    train_counts = np.bincount(data.y_train, minlength=4)
    for label, total in enumerate(SIZES):
        assert train_counts[label] + val_counts[label] == total
        assert abs(val_counts[label] - fraction * total) <= 1, (label, val_counts[label], fraction * total)
        assert val_counts[label] >= 1 and train_counts[label] >= 1


def test_split_is_deterministic_for_a_seed(tmp_path: Path, fresh_cache: None) -> None:
    path = imbalanced(tmp_path)
    first = load_dataset(path, seed=7)
    _registry._read_raw.cache_clear()  # read and split again from scratch
    _registry._prepare.cache_clear()
    second = load_dataset(path, seed=7)
    assert first is not second
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes(), name
    assert first.fingerprint == second.fingerprint


def test_another_seed_gives_another_split(tmp_path: Path) -> None:
    path = imbalanced(tmp_path)
    one, other = load_dataset(path, seed=0), load_dataset(path, seed=1)
    assert image_ids(one.x_val) != image_ids(other.x_val)
    assert np.bincount(one.y_val).tolist() == np.bincount(other.y_val).tolist()  # same stratification
    assert image_ids(one.x_test) == image_ids(other.x_test)  # the test split never moves


def test_splits_are_disjoint_and_cover_the_data(tmp_path: Path) -> None:
    data = load_dataset(imbalanced(tmp_path), seed=2)
    train, val, test = image_ids(data.x_train), image_ids(data.x_val), image_ids(data.x_test)
    assert len(train) == len(data.x_train) and len(val) == len(data.x_val)  # no duplicated rows
    assert not train & val and not train & test and not val & test
    assert train | val == set(range(sum(SIZES)))


def test_carved_test_split_is_stratified_disjoint_and_fixed(tmp_path: Path) -> None:
    """Data without a test split (an image folder) gets a fixed 20% test split, whatever the seed."""
    images = unique_images(60)
    for index, pixels in enumerate(images):
        write_png(tmp_path / "folder" / f"class{index % 3}" / f"{index:02d}.png", pixels)
    one, other = load_dataset(tmp_path / "folder", seed=0), load_dataset(tmp_path / "folder", seed=9)
    assert np.bincount(one.y_test).tolist() == [4, 4, 4]
    test = image_ids(one.x_test)
    assert test == image_ids(other.x_test)
    assert image_ids(one.x_val) != image_ids(other.x_val)
    assert not test & (image_ids(one.x_train) | image_ids(one.x_val))
    assert test | image_ids(one.x_train) | image_ids(one.x_val) == set(range(60))


def test_fingerprint_is_stable_and_sensitive(tmp_path: Path) -> None:
    path = imbalanced(tmp_path)
    base = load_dataset(path, seed=0, validation_fraction=0.2)
    assert base.fingerprint == load_dataset(str(path), seed=0, validation_fraction=0.2).fingerprint
    assert base.fingerprint != load_dataset(path, seed=1, validation_fraction=0.2).fingerprint
    assert base.fingerprint != load_dataset(path, seed=0, validation_fraction=0.25).fingerprint
    changed_images = unique_images(sum(SIZES))
    changed_images[10, 3, 3] ^= 1  # one pixel, one bit
    changed = imbalanced(tmp_path, "changed.npz", x_train=changed_images)
    assert base.fingerprint != load_dataset(changed, seed=0, validation_fraction=0.2).fingerprint


def test_fingerprint_arrays_covers_shape_and_dtype() -> None:
    flat = np.zeros(12, np.float32)
    assert fingerprint_arrays(flat) == fingerprint_arrays(flat.copy())
    assert fingerprint_arrays(flat) != fingerprint_arrays(flat.reshape(3, 4))
    assert fingerprint_arrays(flat) != fingerprint_arrays(flat.view(np.int32))
    assert fingerprint_arrays(flat) != fingerprint_arrays(flat, extra="seed=1")


def test_stratified_split_keeps_singletons_in_training() -> None:
    labels = np.array([0, 0, 0, 0, 1, 2, 2])
    kept, held = stratified_split(labels, fraction=0.5, seed=0)
    assert 4 in kept and 4 not in held  # class 1 has one example
    assert np.bincount(labels[held], minlength=3).tolist() == [2, 0, 1]
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(7))


def test_subset_is_a_stratified_fraction_of_training_only(tmp_path: Path) -> None:
    data = load_dataset(imbalanced(tmp_path), seed=0)
    half = data.subset(0.5, seed=1)
    counts, full = np.bincount(half.y_train, minlength=4), np.bincount(data.y_train, minlength=4)
    for label in range(4):
        assert abs(counts[label] - full[label] / 2) <= 1 and counts[label] >= 1
    assert image_ids(half.x_train) <= image_ids(data.x_train)
    assert half.x_val is data.x_val and half.x_test is data.x_test
    assert half.fingerprint == data.fingerprint and half.class_names == data.class_names
    assert image_ids(data.subset(0.5, seed=1).x_train) == image_ids(half.x_train)
    assert image_ids(data.subset(0.5, seed=2).x_train) != image_ids(half.x_train)
    assert data.subset(1.0, seed=0) is data
    with pytest.raises(ConfigError, match="The 'fraction' parameter must be a float in \\(0, 1\\]; got 0"):
        data.subset(0, seed=0)
