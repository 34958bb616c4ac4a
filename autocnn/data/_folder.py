"""A folder of class sub-folders of images, optionally split into ``train/`` and ``test/``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autocnn.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "load_image_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")


def load_image_folder(folder: Path) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Read ``folder/<class>/<image>`` or ``folder/train/<class>/...`` and ``folder/test/<class>/...``.

    Labels follow the sorted class folder names. Grayscale images give one channel, others three
    (RGB; transparency is dropped). Returns the arrays, with ``x_test`` and ``y_test`` only when
    the folder has ``train/`` and ``test/``, and the class names.

    Raises:
        DataError: naming the file or folder, for fewer than two class folders, a class folder
            without images, an unreadable image, or images of different sizes.

    """
    train_dir, test_dir = folder / "train", folder / "test"
    has_test = train_dir.is_dir() and test_dir.is_dir()
    classes = _class_names(train_dir if has_test else folder)
    arrays: dict[str, np.ndarray] = {}
    reference: list[tuple[tuple[int, ...], Path]] = []  # the first image read: (shape, file)
    arrays["x_train"], arrays["y_train"] = _read_classes(
        train_dir if has_test else folder, classes, reference
    )
    if has_test:
        test_classes = _class_names(test_dir)
        if test_classes != classes:
            raise DataError(
                f"{test_dir}: its class folders ({', '.join(test_classes)}) differ from those in "
                f"{train_dir} ({', '.join(classes)}); train/ and test/ need the same class folders"
            )
        arrays["x_test"], arrays["y_test"] = _read_classes(test_dir, classes, reference)
    return arrays, classes


def _class_names(folder: Path) -> tuple[str, ...]:
    names = tuple(
        sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    )
    if len(names) < 2:
        raise DataError(
            f"{folder}: an image-folder dataset needs one sub-folder per class, at least two (e.g. "
            f"{folder}/cat/1.png and {folder}/dog/1.png); found {len(names)}"
        )
    return names


def _read_classes(
    folder: Path, classes: tuple[str, ...], reference: list[tuple[tuple[int, ...], Path]]
) -> tuple[np.ndarray, np.ndarray]:
    """Read every image of ``folder/<class>``, checking each against the first image read."""
    from PIL import Image, UnidentifiedImageError

    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        files = [
            file
            for file in sorted((folder / name).iterdir())
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES and not file.name.startswith(".")
        ]
        if not files:
            raise DataError(
                f"{folder / name}: this class folder holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                "add images or remove the folder"
            )
        for file in files:
            try:
                with Image.open(file) as image:
                    mode = "L" if image.mode in _GRAYSCALE_MODES else "RGB"
                    pixels = np.asarray(image.convert(mode), dtype=np.uint8)
            except Image.DecompressionBombError as error:
                raise DataError(
                    f"{file}: refused, it claims more pixels than is safe to decode ({error}); "
                    "resize or remove it"
                ) from None
            except (UnidentifiedImageError, OSError, ValueError) as error:
                raise DataError(f"{file}: cannot be read as an image ({error}); fix or remove it") from None
            if not reference:
                reference.append((pixels.shape, file))
            elif pixels.shape != reference[0][0]:
                first_shape, first_file = reference[0]
                raise DataError(
                    f"{file}: is {_describe(pixels.shape)} but {first_file} is {_describe(first_shape)}; "
                    "all images must have the same size and colour mode (resize or convert them first)"
                )
            images.append(pixels)
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _describe(shape: tuple[int, ...]) -> str:
    colour = "RGB" if len(shape) == 3 else "grayscale"
    return f"{shape[1]}x{shape[0]} {colour}"
