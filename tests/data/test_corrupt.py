"""Every kind of broken input gives one DataError that names the file and says what is wrong."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from autocnn.data import load_dataset
from autocnn.errors import DataError
from tests.data.writers import (
    IDX_NAMES,
    balanced_labels,
    idx_bytes,
    unique_images,
    write_idx_folder,
    write_image_folder,
    write_npz,
    write_png,
)


def error_of(path: Path | str) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(path)
    message = str(caught.value)
    assert "\n" not in message  # one message, no traceback needed
    return message


# IDX -------------------------------------------------------------------------------------------


def test_idx_wrong_magic_number(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=False)
    bad = tmp_path / IDX_NAMES["x_train"]
    bad.write_bytes(b"\x12\x34\x56\x78" + bad.read_bytes()[4:])
    message = error_of(tmp_path)
    assert (
        str(bad) in message
        and "wrong magic number (0x12345678)" in message
        and "not in IDX format" in message
    )


def test_idx_wrong_magic_number_inside_gzip(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=True)
    bad = tmp_path / f"{IDX_NAMES['y_test']}.gz"
    bad.write_bytes(gzip.compress(b"PK\x03\x04 not idx at all"))
    message = error_of(tmp_path)
    assert str(bad) in message and "wrong magic number" in message


def test_idx_truncated_gzip(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=True)
    bad = tmp_path / f"{IDX_NAMES['x_train']}.gz"
    bad.write_bytes(bad.read_bytes()[:-30])
    message = error_of(tmp_path)
    assert str(bad) in message and "gzip data is truncated or corrupt" in message


def test_idx_truncated_plain_file(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=False)
    bad = tmp_path / IDX_NAMES["x_test"]
    bad.write_bytes(bad.read_bytes()[:-10])
    message = error_of(tmp_path)
    assert str(bad) in message and "truncated" in message
    assert "promises 720 for shape (20, 6, 6)" in message and "holds 710 bytes" in message


def test_idx_labels_count_differs_from_images_count(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=True)
    labels = tmp_path / f"{IDX_NAMES['y_train']}.gz"
    labels.write_bytes(gzip.compress(idx_bytes(balanced_labels(39, 4))))
    message = error_of(tmp_path)
    assert str(labels) in message and "39 labels for 40 images" in message


def test_idx_folder_missing_a_file(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / IDX_NAMES["y_test"]).unlink()
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "lacks t10k-labels-idx1-ubyte[.gz]" in message


def test_idx_image_and_label_files_swapped(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=False)
    images, labels = tmp_path / IDX_NAMES["x_train"], tmp_path / IDX_NAMES["y_train"]
    images_bytes, labels_bytes = images.read_bytes(), labels.read_bytes()
    images.write_bytes(labels_bytes)
    labels.write_bytes(images_bytes)
    message = error_of(tmp_path)
    assert "swapped" in message and (str(images) in message or str(labels) in message)


def test_idx_labels_outside_range(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / IDX_NAMES["y_train"]).write_bytes(idx_bytes(balanced_labels(40, 4) + 1))  # 1..4: 1-based
    (tmp_path / IDX_NAMES["y_test"]).write_bytes(idx_bytes(balanced_labels(20, 4) + 1))
    message = error_of(tmp_path)
    assert str(tmp_path) in message
    assert "labels must be 0..n-1" in message and "found 4 outside 0..3" in message


def test_idx_test_label_never_seen_in_training(tmp_path: Path) -> None:
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / IDX_NAMES["y_test"]).write_bytes(idx_bytes(balanced_labels(20, 5)))  # class 4 only in test
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "class 4" in message and "no training images" in message


# .npz ------------------------------------------------------------------------------------------


def test_npz_missing_keys(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "half.npz", y_test=None, x_test=None)
    message = error_of(path)
    assert str(path.resolve()) in message and "missing key(s) x_test, y_test" in message
    assert "it has x_train, y_train" in message


def test_npz_that_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "broken.npz"
    path.write_bytes(b"this is not a zip archive")
    message = error_of(path)
    assert str(path.resolve()) in message and "cannot be read as an .npz archive" in message


def test_npz_truncated(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "cut.npz")
    path.write_bytes(path.read_bytes()[:200])
    assert "cannot be read as an .npz archive" in error_of(path)


def test_npz_label_count_mismatch(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "count.npz", y_test=balanced_labels(19, 4))
    message = error_of(path)
    assert (
        str(path.resolve()) in message and "19 labels for 20 images" in message and "test labels" in message
    )


def test_npz_negative_labels(tmp_path: Path) -> None:
    labels = balanced_labels(40, 4).astype(np.int64)
    labels[3] = -1
    message = error_of(write_npz(tmp_path / "negative.npz", y_train=labels))
    assert "label -1 is negative" in message and "training labels" in message


def test_npz_labels_beyond_class_names(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "names.npz", class_names=np.array(["a", "b", "c"]))
    message = error_of(path)
    assert "label 3 is outside 0..2 (3 classes)" in message


def test_npz_fractional_labels(tmp_path: Path) -> None:
    message = error_of(write_npz(tmp_path / "frac.npz", y_train=np.linspace(0, 3, 40)))
    assert "labels must be whole numbers" in message


def test_npz_empty_dataset(tmp_path: Path) -> None:
    path = write_npz(
        tmp_path / "empty.npz",
        x_train=np.zeros((0, 6, 6), np.uint8),
        y_train=np.zeros(0, np.uint8),
    )
    message = error_of(path)
    assert str(path.resolve()) in message and "holds no images" in message and "empty" in message


def test_npz_train_and_test_of_different_sizes(tmp_path: Path) -> None:
    message = error_of(write_npz(tmp_path / "sizes.npz", x_test=unique_images(20, size=7)))
    assert "training images are (6, 6, 1) but test images are (7, 7, 1)" in message


def test_npz_images_with_nan(tmp_path: Path) -> None:
    images = unique_images(40).astype(np.float32) / 255
    images[0, 1, 1] = np.nan
    assert "NaN or infinite" in error_of(write_npz(tmp_path / "nan.npz", x_train=images))


def test_npz_single_class(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "one.npz", y_train=np.zeros(40, np.uint8), y_test=np.zeros(20, np.uint8))
    assert "needs at least two" in error_of(path)


# image folders ---------------------------------------------------------------------------------


def test_image_folder_mixed_sizes(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=3, size=6)
    odd = tmp_path / "owl" / "999.png"
    write_png(odd, np.zeros((6, 9, 3), np.uint8))
    message = error_of(tmp_path)
    assert str(odd) in message and "is 9x6 RGB" in message and "6x6 RGB" in message
    assert "same size" in message


def test_image_folder_mixed_grayscale_and_colour(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=3, size=6)
    gray = tmp_path / "dog" / "gray.png"
    write_png(gray, np.zeros((6, 6), np.uint8))
    message = error_of(tmp_path)
    assert str(gray) in message and "6x6 grayscale" in message and "colour mode" in message


def test_image_folder_empty_class(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=3)
    (tmp_path / "zebra").mkdir()
    message = error_of(tmp_path)
    assert str(tmp_path / "zebra") in message and "holds no images" in message


def test_image_folder_unreadable_image(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=3)
    bad = tmp_path / "cat" / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    message = error_of(tmp_path)
    assert str(bad) in message and "cannot be read as an image" in message


def test_image_folder_decompression_bomb_is_refused(tmp_path: Path) -> None:
    from benchmarks._bad_inputs import png_header_only

    write_image_folder(tmp_path, per_class=3)
    bomb = tmp_path / "cat" / "bomb.png"
    bomb.write_bytes(png_header_only(20_000, 20_000))
    message = error_of(tmp_path)
    assert str(bomb) in message and "claims more pixels than is safe to decode" in message


def test_folder_without_class_folders(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    write_png(tmp_path / "only" / "a.png", np.zeros((4, 4), np.uint8))
    message = error_of(tmp_path)
    assert "needs one sub-folder per class" in message and "found 1" in message


def test_train_and_test_folders_with_different_classes(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "train", classes=("a", "b"), per_class=3)
    write_image_folder(tmp_path / "test", classes=("a", "c"), per_class=2)
    message = error_of(tmp_path)
    assert str(tmp_path / "test") in message and "differ" in message and "(a, c)" in message


def test_a_file_that_is_no_dataset(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"x")
    message = error_of(path)
    assert "not a dataset file" in message and "give the folder that holds all four" in message
