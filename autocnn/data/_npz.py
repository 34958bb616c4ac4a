"""A keras.datasets-style ``.npz`` file: x_train, y_train, x_test, y_test (and class_names)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from autocnn.errors import DataError

__all__ = ["NPZ_KEYS", "load_npz"]

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path: Path) -> tuple[dict[str, np.ndarray], tuple[str, ...] | None]:
    """Return the four arrays of an ``.npz`` file and its optional ``class_names``.

    Raises:
        DataError: naming the file, when it is not a readable ``.npz`` archive or lacks a key.

    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: missing key(s) {', '.join(missing)}; an .npz dataset needs the keys "
                    f"{', '.join(NPZ_KEYS)} (the keras.datasets layout, e.g. np.savez(path, x_train=..., "
                    f"y_train=..., x_test=..., y_test=...)); it has {', '.join(archive.files) or 'no arrays'}"
                )
            arrays = {key: np.asarray(archive[key]) for key in NPZ_KEYS}
            names = np.asarray(archive["class_names"]) if "class_names" in archive.files else None
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as error:
        raise DataError(
            f"{path}: cannot be read as an .npz archive ({error}); the file is truncated, corrupt or "
            "not made by numpy.savez (pickled object arrays are refused)"
        ) from None
    if names is None:
        return arrays, None
    if names.ndim != 1 or names.dtype.kind not in "UST":
        raise DataError(
            f"{path}: class_names must be a 1-D array of strings; got {names.dtype} {names.shape}"
        )
    decoded = tuple(name.decode() if isinstance(name, bytes) else str(name) for name in names.tolist())
    return arrays, decoded
