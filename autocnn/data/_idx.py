"""MNIST's own IDX format (gzipped or not): read one file, or find the four files in a folder."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

from autocnn.errors import DataError

_DTYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_PATTERNS = {
    "x_train": re.compile(r"^train-images[-.]idx3-ubyte(\.gz)?$"),
    "y_train": re.compile(r"^train-labels[-.]idx1-ubyte(\.gz)?$"),
    "x_test": re.compile(r"^(t10k|test)-images[-.]idx3-ubyte(\.gz)?$"),
    "y_test": re.compile(r"^(t10k|test)-labels[-.]idx1-ubyte(\.gz)?$"),
}


def read_idx(path: Path) -> np.ndarray:
    """Return the array stored in an IDX file; DataError names the file and what is wrong."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, OSError, zlib.error) as error:
        raise DataError(
            f"{path}: cannot be read as gzip ({error}); the file is truncated or corrupt"
        ) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        magic = raw[:4].hex() if len(raw) >= 4 else "(file too short)"
        raise DataError(f"{path}: wrong magic number {magic}; this is not an IDX file (expected 0000 08 0N)")
    dims = raw[3]
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(f"{path}: the header is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: holds {len(raw) - header} bytes of data but its header promises {expected} "
            f"for shape {shape}; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def find_idx_files(folder: Path) -> dict[str, Path] | None:
    """Return the train/test image/label files of an IDX folder, or None if the folder has none."""
    found: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        for key, pattern in _PATTERNS.items():
            if pattern.match(file.name) and key not in found:
                found[key] = file
    if not found:
        return None
    missing = sorted(set(_PATTERNS) - set(found))
    if missing:
        names = {
            "x_train": "train-images-idx3-ubyte",
            "y_train": "train-labels-idx1-ubyte",
            "x_test": "t10k-images-idx3-ubyte",
            "y_test": "t10k-labels-idx1-ubyte",
        }
        raise DataError(f"{folder}: IDX folder lacks " + ", ".join(names[key] + "[.gz]" for key in missing))
    return found


def load_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """Return x_train, y_train, x_test, y_test from an IDX folder."""
    files = find_idx_files(folder)
    if files is None:
        raise DataError(f"{folder}: no IDX files (train-images-idx3-ubyte[.gz] ...) found")
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels):
            raise DataError(
                f"{files[f'y_{split}']}: {len(labels)} labels for {len(images)} images in "
                f"{files[f'x_{split}'].name}; the counts must match"
            )
    return arrays
