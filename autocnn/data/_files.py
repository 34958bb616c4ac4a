"""Local data a user already has: an .npz file, or a folder of class sub-folders of images."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from autocnn.errors import DataError

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Return the four arrays of a keras.datasets-style .npz file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: missing key(s) {', '.join(missing)}; an .npz dataset needs "
                    f"{', '.join(NPZ_KEYS)} (the keras.datasets layout); it has {', '.join(archive.files) or 'none'}"
                )
            return {key: np.asarray(archive[key]) for key in NPZ_KEYS}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise DataError(f"{path}: cannot be read as .npz ({error})") from None


def load_image_folder(folder: Path) -> tuple[dict[str, np.ndarray], tuple[str, ...], bool]:
    """Read ``folder/<class>/*.png`` (or ``folder/train/<class>`` and ``folder/test/<class>``).

    Returns the arrays (x_test/y_test absent when there is no test folder), the class names, and
    whether a test split was present.
    """
    train_dir, test_dir = folder / "train", folder / "test"
    has_test = train_dir.is_dir() and test_dir.is_dir()
    classes = _class_names(train_dir if has_test else folder)
    arrays: dict[str, np.ndarray] = {}
    arrays["x_train"], arrays["y_train"] = _read_classes(train_dir if has_test else folder, classes)
    if has_test:
        if _class_names(test_dir) != classes:
            raise DataError(f"{test_dir}: its class folders differ from those in {train_dir}")
        arrays["x_test"], arrays["y_test"] = _read_classes(test_dir, classes)
        if arrays["x_test"].shape[1:] != arrays["x_train"].shape[1:]:
            raise DataError(
                f"{folder}: test images are {arrays['x_test'].shape[1:]} but train images are "
                f"{arrays['x_train'].shape[1:]}; all images must have one size"
            )
    return arrays, classes, has_test


def _class_names(folder: Path) -> tuple[str, ...]:
    names = tuple(
        sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    )
    if len(names) < 2:
        raise DataError(
            f"{folder}: an image-folder dataset needs one sub-folder per class (at least 2); found {len(names)}"
        )
    return names


def _read_classes(folder: Path, classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    images: list[np.ndarray] = []
    labels: list[int] = []
    first_shape: tuple[int, ...] | None = None
    first_file: Path | None = None
    for label, name in enumerate(classes):
        for file in sorted((folder / name).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(file) as image:
                    mode = "L" if image.mode in ("1", "L", "I;16", "I", "LA") else "RGB"
                    pixels = np.asarray(image.convert(mode))
            except (UnidentifiedImageError, OSError) as error:
                raise DataError(f"{file}: cannot be read as an image ({error})") from None
            if first_shape is None:
                first_shape, first_file = pixels.shape, file
            elif pixels.shape != first_shape:
                raise DataError(
                    f"{file}: is {_size(pixels.shape)} but {first_file} is {_size(first_shape)}; "
                    "all images must have one size (resize them first)"
                )
            images.append(pixels)
            labels.append(label)
    if not images:
        raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
    return np.stack(images), np.asarray(labels, dtype="int64")


def _size(shape: tuple[int, ...]) -> str:
    channels = shape[2] if len(shape) == 3 else 1
    return f"{shape[1]}x{shape[0]} with {channels} channel(s)"
