"""Names and paths → Dataset: the registry, the local-data loaders, splits and the per-process cache."""

from __future__ import annotations

import difflib
import functools
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autocnn.data._arrays import class_names_from_labels, prepare_images, prepare_labels, read_only
from autocnn.data._builtin import BUILTINS, RawData
from autocnn.data._dataset import Dataset, fingerprint_arrays
from autocnn.data._folder import load_image_folder
from autocnn.data._idx import find_idx_files, load_idx_folder
from autocnn.data._npz import load_npz
from autocnn.data._splits import stratified_split
from autocnn.errors import ConfigError, DataError

__all__ = ["TEST_FRACTION", "TEST_SPLIT_SEED", "DatasetInfo", "list_datasets", "load_dataset"]

#: Data without its own test split gets this stratified fraction held out as test, always with
#: the same seed, so that studies with different seeds are evaluated on the same test images.
TEST_FRACTION = 0.2
TEST_SPLIT_SEED = 0

_LOCAL_FORMATS = (
    "an .npz file with x_train, y_train, x_test, y_test (the keras.datasets layout), a folder of IDX "
    "files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...), or a folder of "
    "class sub-folders of images (optionally under train/ and test/)"
)


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset: what it is, its size, and whether it loads offline right now.

    Attributes:
        image_shape: (height, width, channels) of one image.
        train_size: Training images before the validation split is carved out.
        available_offline: Checked when :func:`list_datasets` is called: bundled, installed
            system-wide, or already in the Keras cache.
        where: Where it is read from, or where it will be downloaded to.

    """

    name: str
    description: str
    image_shape: tuple[int, int, int]
    train_size: int
    test_size: int
    num_classes: int
    available_offline: bool
    where: str


def list_datasets() -> list[DatasetInfo]:
    """Return the registered datasets with their sizes and whether each loads offline now."""
    infos = []
    for item in BUILTINS.values():
        offline, where = item.offline()
        infos.append(
            DatasetInfo(
                name=item.name,
                description=item.description,
                image_shape=item.image_shape,
                train_size=item.train_size,
                test_size=item.test_size,
                num_classes=item.num_classes,
                available_offline=offline,
                where=where,
            )
        )
    return infos


def load_dataset(
    name_or_path: str | os.PathLike[str], *, validation_fraction: float = 0.1, seed: int = 0
) -> Dataset:
    """Load a registered dataset or local data, split into train, validation and test.

    ``name_or_path`` is a registered name (see :func:`list_datasets`; ``Fashion-MNIST`` works
    for ``fashion_mnist``) or a path to an ``.npz`` file, a folder of IDX files or a folder of
    class sub-folders of images (a registered name wins over a folder of the same name: write
    ``./mnist`` for the folder). The validation split is a stratified, seeded
    ``validation_fraction`` of the training data; data without its own test split gets a fixed,
    stratified 20% test split first. Results are cached per process (arrays are read-only).

    Raises:
        DataError: the data cannot be found, downloaded or read, or is inconsistent.
        ConfigError: ``validation_fraction`` or ``seed`` is invalid.

    Example:
        >>> data = load_dataset("digits")
        >>> data.input_shape, data.num_classes
        ((8, 8, 1), 10)

    """
    if (
        isinstance(validation_fraction, bool)
        or not isinstance(validation_fraction, numbers.Real)
        or not 0 < validation_fraction < 1
    ):
        raise ConfigError(
            f"The 'validation_fraction' parameter must be a float in the open range (0, 1); "
            f"got {validation_fraction!r} instead."
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"The 'seed' parameter must be a non-negative int; got {seed!r} instead.")
    key, signature = _resolve(os.fspath(name_or_path))
    return _prepare(key, signature, float(validation_fraction), int(seed))


def dataset_location(name_or_path: str | os.PathLike[str]) -> str:
    """Return what loads the same data from any folder: the registered name, or the absolute path.

    Example:
        >>> dataset_location("Fashion-MNIST")
        'fashion_mnist'

    """
    return _resolve(os.fspath(name_or_path))[0]


def _resolve(name_or_path: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """Return a cache key (registered name or absolute path) and the files' stat signature."""
    if name_or_path in BUILTINS:
        return name_or_path, ()
    path = Path(name_or_path).expanduser()
    if path.exists():
        resolved = path.resolve()
        return str(resolved), _signature(resolved)
    normalized = _normalize(name_or_path)
    for name in BUILTINS:
        if _normalize(name) == normalized:
            return name, ()
    close = difflib.get_close_matches(name_or_path.lower(), list(BUILTINS), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DataError(
        f"dataset {name_or_path!r} is neither a registered name ({', '.join(BUILTINS)}) nor an existing "
        f"file or folder.{hint} A path may be {_LOCAL_FORMATS}; `autocnn datasets list` shows which "
        "registered datasets work offline."
    )


def _normalize(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Return (relative path, size, mtime) of the file or of every file under the folder.

    Part of the cache key, so that data changed on disk is read again.
    """
    if path.is_file():
        stat = path.stat()
        return (("", stat.st_size, stat.st_mtime_ns),)
    entries = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            file = Path(root, name)
            try:
                stat = file.stat()
            except OSError:
                continue
            entries.append((str(file.relative_to(path)), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


@functools.lru_cache(maxsize=4)
def _read_raw(key: str, signature: tuple[tuple[str, int, int], ...]) -> RawData:
    """Read a registered dataset or a path, as is; cached per process (``signature`` tracks changes)."""
    if key in BUILTINS:
        return BUILTINS[key].load()
    path = Path(key)
    if path.is_file():
        if path.suffix.lower() != ".npz":
            hint = (
                " (for IDX files, give the folder that holds all four)" if "idx" in path.name.lower() else ""
            )
            raise DataError(f"{path}: not a dataset file{hint}; a dataset path must be {_LOCAL_FORMATS}")
        arrays, class_names = load_npz(path)
        return RawData(arrays, class_names, str(path))
    if find_idx_files(path) is not None:
        return RawData(load_idx_folder(path), None, str(path))
    arrays, class_names = load_image_folder(path)
    return RawData(arrays, class_names, str(path))


@functools.lru_cache(maxsize=2)
def _prepare(
    key: str, signature: tuple[tuple[str, int, int], ...], validation_fraction: float, seed: int
) -> Dataset:
    name = key if key in BUILTINS else Path(key).stem or Path(key).name
    return _split(_read_raw(key, signature), name=name, validation_fraction=validation_fraction, seed=seed)


def dataset_from_arrays(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    name: str = "arrays",
    class_names: Sequence[str] | None = None,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> Dataset:
    """Make a Dataset from numpy arrays you already have (uint8 0..255 or floats 0..1, NHW or NHWC).

    Without a test split, a fixed stratified 20% of the training data becomes the test split.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 255, size=(60, 8, 8), dtype=np.uint8)
        >>> data = dataset_from_arrays(x, np.arange(60) % 3, name="toy")
        >>> data.input_shape, data.num_classes
        ((8, 8, 1), 3)

    """
    if not 0 < validation_fraction < 1:
        raise ConfigError(
            f"The 'validation_fraction' parameter must be between 0 and 1; got {validation_fraction!r} instead."
        )
    if (x_test is None) != (y_test is None):
        raise ConfigError("give both x_test and y_test, or neither")
    arrays = {"x_train": np.asarray(x_train), "y_train": np.asarray(y_train)}
    if x_test is not None and y_test is not None:
        arrays.update({"x_test": np.asarray(x_test), "y_test": np.asarray(y_test)})
    raw = RawData(arrays, None if class_names is None else tuple(class_names), f"arrays ({name})")
    return _split(raw, name=name, validation_fraction=validation_fraction, seed=seed)


def _split(raw: RawData, *, name: str, validation_fraction: float, seed: int) -> Dataset:
    """Check and scale raw arrays, carve the test (if absent) and validation splits, fingerprint them."""
    where = raw.source
    known = len(raw.class_names) if raw.class_names is not None else None
    x_train = prepare_images(raw.arrays["x_train"], where=f"{where} (training images)")
    y_train = prepare_labels(
        raw.arrays["y_train"], count=len(x_train), num_classes=known, where=f"{where} (training labels)"
    )
    if "x_test" in raw.arrays:
        x_test = prepare_images(raw.arrays["x_test"], where=f"{where} (test images)")
        y_test = prepare_labels(
            raw.arrays["y_test"], count=len(x_test), num_classes=known, where=f"{where} (test labels)"
        )
        if x_train.shape[1:] != x_test.shape[1:]:
            raise DataError(
                f"{where}: training images are {x_train.shape[1:]} but test images are {x_test.shape[1:]} "
                "(height, width, channels); all images must have one size"
            )
    else:
        keep, hold = stratified_split(y_train, fraction=TEST_FRACTION, seed=TEST_SPLIT_SEED)
        x_train, y_train, x_test, y_test = x_train[keep], y_train[keep], x_train[hold], y_train[hold]
    class_names = raw.class_names or class_names_from_labels(np.concatenate([y_train, y_test]), where=where)
    unseen = sorted(set(np.unique(y_test).tolist()) - set(np.unique(y_train).tolist()))
    if unseen:
        shown = ", ".join(
            str(label) if raw.class_names is None else f"{label} ({class_names[label]})"
            for label in unseen[:5]
        )
        raise DataError(
            f"{where}: class {shown} has test images but no training images; every class needs training "
            "images (are the train and test labels numbered alike?)"
        )
    if len(class_names) < 2:
        raise DataError(
            f"{where}: found {len(class_names)} class ({', '.join(class_names)}); classification needs at least two"
        )
    keep, hold = stratified_split(y_train, fraction=validation_fraction, seed=seed)
    if len(hold) == 0 or len(keep) == 0:
        raise DataError(
            f"{where}: too few training images ({len(y_train)}) to hold out a validation split; "
            "every class needs at least two training images"
        )
    x_val, y_val, x_train, y_train = x_train[hold], y_train[hold], x_train[keep], y_train[keep]
    for array in (x_train, y_train, x_val, y_val, x_test, y_test):
        read_only(array)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(class_names),
        fingerprint=fingerprint_arrays(
            x_train,
            y_train,
            x_val,
            y_val,
            x_test,
            y_test,
            extra=f"validation_fraction={validation_fraction!r};seed={seed}",
        ),
        source=where,
    )
