"""MNIST's own IDX format, gzipped or not: read one file, or find the four files in a folder."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

from autocnn.errors import DataError

__all__ = ["IDX_FILE_NAMES", "find_idx_files", "load_idx_folder", "read_idx"]

_GZIP_MAGIC = b"\x1f\x8b"
_DTYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
#: The conventional file names (MNIST, Fashion-MNIST); each may end in ``.gz``.
IDX_FILE_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# Also accept "train-images.idx3-ubyte" (the dot variant some mirrors use) and "test-" for "t10k-".
_PATTERNS = {
    "x_train": re.compile(r"^train-images[-.]idx3-ubyte(\.gz)?$", re.IGNORECASE),
    "y_train": re.compile(r"^train-labels[-.]idx1-ubyte(\.gz)?$", re.IGNORECASE),
    "x_test": re.compile(r"^(t10k|test)-images[-.]idx3-ubyte(\.gz)?$", re.IGNORECASE),
    "y_test": re.compile(r"^(t10k|test)-labels[-.]idx1-ubyte(\.gz)?$", re.IGNORECASE),
}
_EXPECTED_DIMS = {"x": (3, 4), "y": (1,)}


def read_idx(path: Path) -> np.ndarray:
    """Return the array stored in an IDX file (gzip detected by content, not by name).

    Raises:
        DataError: naming the file, for a truncated or corrupt gzip stream, a wrong magic number,
            or a data size that does not match the header.

    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise DataError(
                f"{path}: the gzip data is truncated or corrupt ({error}); download or copy the file again"
            ) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES or not 1 <= raw[3] <= 4:
        magic = "0x" + raw[:4].hex() if len(raw) >= 4 else f"{len(raw)} byte(s) only"
        raise DataError(
            f"{path}: wrong magic number ({magic}); an IDX file starts with 0x00 0x00, a type byte "
            "(0x08 for unsigned bytes) and the number of dimensions, e.g. 0x00000803 for images and "
            "0x00000801 for labels; this file is not in IDX format"
        )
    dtype = np.dtype(_DTYPES[raw[2]])
    dims = raw[3]
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(f"{path}: the IDX header is truncated ({len(raw)} bytes); copy the file again")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        state = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise DataError(
            f"{path}: the file is {state}: it holds {len(raw) - header} bytes of data but its header "
            f"promises {expected} for shape {shape}; download or copy the file again"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="), copy=False)
    )


def find_idx_files(folder: Path) -> dict[str, Path] | None:
    """Return the train/test image/label files of an IDX folder, or None if it holds none.

    Raises:
        DataError: if only some of the four files are there.

    """
    found: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        for key, pattern in _PATTERNS.items():
            if key not in found and file.is_file() and pattern.match(file.name):
                found[key] = file
    if not found:
        return None
    missing = [key for key in IDX_FILE_NAMES if key not in found]
    if missing:
        raise DataError(
            f"{folder}: this IDX folder lacks {', '.join(IDX_FILE_NAMES[key] + '[.gz]' for key in missing)}; "
            f"it needs all four of {', '.join(IDX_FILE_NAMES.values())} (each may be gzipped)"
        )
    return found


def load_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """Return x_train, y_train, x_test and y_test read from the IDX files in ``folder``."""
    files = find_idx_files(folder)
    if files is None:
        raise DataError(
            f"{folder}: no IDX files found; expected {', '.join(IDX_FILE_NAMES.values())} (each may be gzipped)"
        )
    arrays: dict[str, np.ndarray] = {}
    for key, path in files.items():
        array = read_idx(path)
        if array.ndim not in _EXPECTED_DIMS[key[0]]:
            kind = "images (N, height, width)" if key[0] == "x" else "labels (N,)"
            raise DataError(
                f"{path}: holds an array of shape {array.shape} but this file should hold {kind}; "
                "are the image and label files swapped?"
            )
        arrays[key] = array
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels):
            raise DataError(
                f"{files[f'y_{split}']}: {len(labels)} labels for {len(images)} images in "
                f"{files[f'x_{split}'].name}; the counts must match"
            )
    return arrays
