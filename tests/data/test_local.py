"""Local data: .npz files, IDX folders (gzipped or plain) and folders of class folders of images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from autocnn.data import load_dataset
from tests.data.writers import (
    balanced_labels,
    image_ids,
    unique_images,
    write_idx_folder,
    write_image_folder,
    write_npz,
    write_png,
)


def test_npz_in_the_keras_datasets_layout(tmp_path: Path) -> None:
    path = write_npz(
        tmp_path / "toy.npz", y_train=balanced_labels(40, 4).reshape(-1, 1)
    )  # CIFAR-style (N, 1)
    data = load_dataset(path)
    assert data.name == "toy" and data.source == str(path.resolve())
    assert data.input_shape == (6, 6, 1)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64 and data.y_train.ndim == 1
    assert len(data.y_train) + len(data.y_val) == 40 and len(data.y_test) == 20
    assert data.class_names == ("0", "1", "2", "3")
    expected = unique_images(20, offset=40)[..., np.newaxis] / 255.0
    np.testing.assert_allclose(data.x_test, expected, atol=1e-7)
    assert image_ids(data.x_train) | image_ids(data.x_val) == set(range(40))


def test_npz_class_names_and_float_images_kept_in_range(tmp_path: Path) -> None:
    x_train = unique_images(40).astype(np.float32) / 255.0
    x_test = unique_images(20, offset=40).astype(np.float32) / 255.0
    path = write_npz(
        tmp_path / "named.npz", x_train=x_train, x_test=x_test, class_names=np.array(["a", "b", "c", "d"])
    )
    data = load_dataset(str(path))
    assert data.class_names == ("a", "b", "c", "d")
    np.testing.assert_array_equal(data.x_test[..., 0], x_test)  # already in [0, 1]: not divided again


def test_npz_colour_images_keep_three_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = write_npz(
        tmp_path / "rgb.npz",
        x_train=rng.integers(0, 256, (40, 5, 7, 3), dtype=np.uint8),
        x_test=rng.integers(0, 256, (20, 5, 7, 3), dtype=np.uint8),
    )
    assert load_dataset(path).input_shape == (5, 7, 3)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_idx_folder(tmp_path: Path, gz: bool) -> None:
    written = write_idx_folder(tmp_path / "idx", gz=gz)
    data = load_dataset(tmp_path / "idx")
    assert data.name == "idx" and data.input_shape == (6, 6, 1)
    np.testing.assert_allclose(data.x_test[..., 0], written["x_test"] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(data.y_test, written["y_test"])
    assert image_ids(data.x_train) | image_ids(data.x_val) == set(range(40))
    assert data.class_names == ("0", "1", "2", "3")


def test_idx_folder_accepts_test_prefix_and_dot_names(tmp_path: Path) -> None:
    folder = tmp_path / "mirror"
    write_idx_folder(folder, gz=False)
    for old, new in [
        ("t10k-images-idx3-ubyte", "test-images.idx3-ubyte"),
        ("t10k-labels-idx1-ubyte", "test-labels.idx1-ubyte"),
    ]:
        (folder / old).rename(folder / new)
    assert len(load_dataset(folder).y_test) == 20


def test_image_folder_carves_a_stratified_test_split(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "pets", per_class=10)
    (tmp_path / "pets" / "cat" / "notes.txt").write_text("not an image, ignored")
    data = load_dataset(tmp_path / "pets")
    assert data.class_names == ("cat", "dog", "owl")
    assert data.input_shape == (6, 6, 3)
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]  # 20% of each class
    assert np.bincount(data.y_val).tolist() == [1, 1, 1]
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 30


def test_image_folder_with_train_and_test_subfolders(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "set" / "train", classes=("a", "b"), per_class=6)
    write_image_folder(tmp_path / "set" / "test", classes=("a", "b"), per_class=3)
    data = load_dataset(tmp_path / "set")
    assert data.class_names == ("a", "b")
    assert len(data.y_test) == 6 and len(data.y_train) + len(data.y_val) == 12


def test_grayscale_pngs_give_one_channel(tmp_path: Path) -> None:
    for label in ("zero", "one"):
        for index in range(4):
            write_png(tmp_path / "gray" / label / f"{index}.png", unique_images(1, offset=index)[0])
    data = load_dataset(tmp_path / "gray")
    assert data.input_shape == (6, 6, 1)
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0


def test_a_file_changed_on_disk_is_read_again(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "changing.npz")
    first = load_dataset(path)
    write_npz(path, x_test=unique_images(20, offset=100))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # even on coarse clocks
    second = load_dataset(path)
    assert first.fingerprint != second.fingerprint
    assert image_ids(second.x_test) == set(range(100, 120))
