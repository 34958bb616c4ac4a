"""Named datasets and paths → Dataset. Offline-friendly: failures say where to put files by hand."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autocnn.data._arrays import prepare_images, prepare_labels
from autocnn.data._dataset import Dataset, fingerprint_arrays
from autocnn.data._files import load_image_folder, load_npz
from autocnn.data._idx import find_idx_files, load_idx_folder
from autocnn.data._splits import stratified_split
from autocnn.errors import ConfigError, DataError

FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
TEST_SPLIT_SEED = 0
TEST_FRACTION = 0.2

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR100_CLASSES = tuple(
    [
        "apple",
        "aquarium_fish",
        "baby",
        "bear",
        "beaver",
        "bed",
        "bee",
        "beetle",
        "bicycle",
        "bottle",
        "bowl",
        "boy",
        "bridge",
        "bus",
        "butterfly",
        "camel",
        "can",
        "castle",
        "caterpillar",
        "cattle",
        "chair",
        "chimpanzee",
        "clock",
        "cloud",
        "cockroach",
        "couch",
        "crab",
        "crocodile",
        "cup",
        "dinosaur",
        "dolphin",
        "elephant",
        "flatfish",
        "forest",
        "fox",
        "girl",
        "hamster",
        "house",
        "kangaroo",
        "keyboard",
        "lamp",
        "lawn_mower",
        "leopard",
        "lion",
        "lizard",
        "lobster",
        "man",
        "maple_tree",
        "motorcycle",
        "mountain",
        "mouse",
        "mushroom",
        "oak_tree",
        "orange",
        "orchid",
        "otter",
        "palm_tree",
        "pear",
        "pickup_truck",
        "pine_tree",
        "plain",
        "plate",
        "poppy",
        "porcupine",
        "possum",
        "rabbit",
        "raccoon",
        "ray",
        "road",
        "rocket",
        "rose",
        "sea",
        "seal",
        "shark",
        "shrew",
        "skunk",
        "skyscraper",
        "snail",
        "snake",
        "spider",
        "squirrel",
        "streetcar",
        "sunflower",
        "sweet_pepper",
        "table",
        "tank",
        "telephone",
        "television",
        "tiger",
        "tractor",
        "train",
        "trout",
        "tulip",
        "turtle",
        "wardrobe",
        "whale",
        "willow_tree",
        "wolf",
        "woman",
        "worm",
    ]
)


@dataclass(frozen=True)
class RawData:
    """Arrays as read, before scaling and splitting."""

    arrays: dict[str, np.ndarray]
    class_names: tuple[str, ...] | None
    source: str


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset: what it is, its size, and whether it can be loaded offline right now."""

    name: str
    description: str
    image_shape: tuple[int, int, int]
    train_size: int
    test_size: int
    num_classes: int
    available_offline: bool
    where: str


def keras_cache_dir() -> Path:
    """Return the folder where keras.datasets keeps its downloads."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _digits() -> RawData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype("float32")
    return RawData(
        {"x": images, "y": bunch.target.astype("int64")}, tuple(str(d) for d in range(10)), "scikit-learn"
    )


def _keras(name: str) -> Callable[[], RawData]:
    def load() -> RawData:
        if name == "fashion_mnist" and (FASHION_MNIST_SYSTEM_DIR / "train-images-idx3-ubyte.gz").exists():
            return RawData(
                load_idx_folder(FASHION_MNIST_SYSTEM_DIR), FASHION_CLASSES, str(FASHION_MNIST_SYSTEM_DIR)
            )
        import keras

        module = getattr(keras.datasets, name)
        try:
            (x_train, y_train), (x_test, y_test) = module.load_data()
        except Exception as error:  # keras raises a plain Exception("URL fetch failure ...") offline
            raise DataError(_download_failed(name, error)) from None
        classes = {"fashion_mnist": FASHION_CLASSES, "cifar10": CIFAR10_CLASSES, "cifar100": CIFAR100_CLASSES}
        return RawData(
            {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test},
            classes.get(name, tuple(str(d) for d in range(10))),
            f"keras.datasets cache ({keras_cache_dir()})",
        )

    return load


def _download_failed(name: str, error: BaseException) -> str:
    cache = keras_cache_dir()
    where = {
        "mnist": f"{cache / 'mnist.npz'}",
        "fashion_mnist": f"{FASHION_MNIST_SYSTEM_DIR} (Debian package dataset-fashion-mnist) "
        f"or {cache / 'fashion-mnist'}",
        "cifar10": f"{cache / 'cifar-10-batches-py'}",
        "cifar100": f"{cache / 'cifar-100-python'}",
    }[name]
    offline = ", ".join(info.name for info in list_datasets() if info.available_offline)
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"dataset {name!r} could not be downloaded ({detail}). autocnn looked in {where}. "
        f"Put the file there by hand (keras.datasets layout), or pass a local copy with --dataset PATH "
        f"(.npz, an IDX folder or a folder of class sub-folders). Available offline now: {offline}"
    )


_REGISTRY: dict[str, tuple[str, Callable[[], RawData], tuple[int, int, int], int, int, int]] = {
    "digits": ("scikit-learn's 8x8 handwritten digits (bundled)", _digits, (8, 8, 1), 1437, 360, 10),
    "mnist": ("handwritten digits 28x28 (keras.datasets)", _keras("mnist"), (28, 28, 1), 60000, 10000, 10),
    "fashion_mnist": (
        "Zalando clothing 28x28 (system copy or keras.datasets)",
        _keras("fashion_mnist"),
        (28, 28, 1),
        60000,
        10000,
        10,
    ),
    "cifar10": (
        "colour images 32x32, 10 classes (keras.datasets)",
        _keras("cifar10"),
        (32, 32, 3),
        50000,
        10000,
        10,
    ),
    "cifar100": (
        "colour images 32x32, 100 classes (keras.datasets)",
        _keras("cifar100"),
        (32, 32, 3),
        50000,
        10000,
        100,
    ),
}


def _available_offline(name: str) -> tuple[bool, str]:
    cache = keras_cache_dir()
    if name == "digits":
        return True, "bundled with scikit-learn"
    if name == "fashion_mnist" and (FASHION_MNIST_SYSTEM_DIR / "train-images-idx3-ubyte.gz").exists():
        return True, str(FASHION_MNIST_SYSTEM_DIR)
    path = {
        "mnist": cache / "mnist.npz",
        "fashion_mnist": cache / "fashion-mnist" / "train-images-idx3-ubyte.gz",
        "cifar10": cache / "cifar-10-batches-py",
        "cifar100": cache / "cifar-100-python",
    }[name]
    return path.exists(), str(path if path.exists() else f"download to {path}")


def list_datasets() -> list[DatasetInfo]:
    """Return the registered datasets with their sizes and whether they load offline now."""
    infos = []
    for name, (description, _, shape, train, test, classes) in _REGISTRY.items():
        offline, where = _available_offline(name)
        infos.append(DatasetInfo(name, description, shape, train, test, classes, offline, where))
    return infos


@functools.lru_cache(maxsize=4)
def _read_raw(key: str, modified: float) -> RawData:
    if key in _REGISTRY:
        return _REGISTRY[key][1]()
    path = Path(key)
    if path.is_file() and path.suffix == ".npz":
        return RawData(load_npz(path), None, str(path))
    if path.is_dir():
        if find_idx_files(path) is not None:
            return RawData(load_idx_folder(path), None, str(path))
        arrays, classes, _ = load_image_folder(path)
        return RawData(arrays, classes, str(path))
    raise DataError(
        f"{path}: not a dataset; give an .npz file, a folder of IDX files or a folder of class folders"
    )


def _raw(name_or_path: str) -> RawData:
    if name_or_path in _REGISTRY:
        return _read_raw(name_or_path, 0.0)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        names = ", ".join(_REGISTRY)
        raise DataError(
            f"dataset {name_or_path!r} is neither a registered name ({names}) nor an existing path"
        )
    return _read_raw(str(path.resolve()), path.stat().st_mtime)


def load_dataset(name_or_path: str, *, validation_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """Load a registered dataset or local data, split into train, validation and test.

    The validation split is a stratified, seeded ``validation_fraction`` of the training data;
    data without a test split gets a fixed stratified 20% test split.

    Example:
        >>> data = load_dataset("digits")
        >>> data.input_shape, data.num_classes
        ((8, 8, 1), 10)

    """
    if not 0 < validation_fraction < 1:
        raise ConfigError(f"validation_fraction must be between 0 and 1; got {validation_fraction}")
    return _prepare(name_or_path, validation_fraction, seed)


@functools.lru_cache(maxsize=4)
def _prepare(name_or_path: str, validation_fraction: float, seed: int) -> Dataset:
    raw = _raw(name_or_path)
    where = raw.source
    arrays = dict(raw.arrays)
    if "x" in arrays:
        x_all = prepare_images(arrays["x"], where=where)
        y_all = prepare_labels(arrays["y"], count=len(x_all), num_classes=None, where=where)
        train_index, test_index = stratified_split(y_all, fraction=TEST_FRACTION, seed=TEST_SPLIT_SEED)
        x_train, y_train, x_test, y_test = (
            x_all[train_index],
            y_all[train_index],
            x_all[test_index],
            y_all[test_index],
        )
    elif "x_test" not in arrays:
        x_all = prepare_images(arrays["x_train"], where=where)
        y_all = prepare_labels(arrays["y_train"], count=len(x_all), num_classes=None, where=where)
        train_index, test_index = stratified_split(y_all, fraction=TEST_FRACTION, seed=TEST_SPLIT_SEED)
        x_train, y_train, x_test, y_test = (
            x_all[train_index],
            y_all[train_index],
            x_all[test_index],
            y_all[test_index],
        )
    else:
        x_train = prepare_images(arrays["x_train"], where=f"{where} (train)")
        x_test = prepare_images(arrays["x_test"], where=f"{where} (test)")
        if x_train.shape[1:] != x_test.shape[1:]:
            raise DataError(
                f"{where}: train images are {x_train.shape[1:]} but test images are {x_test.shape[1:]}; "
                "all images must have one size"
            )
        y_train = prepare_labels(
            arrays["y_train"], count=len(x_train), num_classes=None, where=f"{where} (train labels)"
        )
        y_test = prepare_labels(
            arrays["y_test"], count=len(x_test), num_classes=None, where=f"{where} (test labels)"
        )
    class_names = raw.class_names or _derived_class_names(np.concatenate([y_train, y_test]), where=where)
    for split, labels in (("train", y_train), ("test", y_test)):
        if int(labels.max()) >= len(class_names):
            raise DataError(
                f"{where}: {split} labels go up to {int(labels.max())} but there are {len(class_names)} classes"
            )
    keep, hold = stratified_split(y_train, fraction=validation_fraction, seed=seed)
    x_val, y_val = x_train[hold], y_train[hold]
    x_train, y_train = x_train[keep], y_train[keep]
    name = name_or_path if name_or_path in _REGISTRY else Path(name_or_path).stem or Path(name_or_path).name
    fingerprint = fingerprint_arrays(
        x_train, y_train, x_val, y_val, x_test, y_test, extra=f"val={validation_fraction};seed={seed}"
    )
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(class_names),
        fingerprint=fingerprint,
        source=where,
    )


def _derived_class_names(labels: np.ndarray, *, where: str) -> tuple[str, ...]:
    """Return "0".."n-1" for labels that are exactly the classes 0..n-1; DataError otherwise."""
    present = np.unique(labels)
    expected = np.arange(len(present))
    if not np.array_equal(present, expected):
        outside = sorted(set(present.tolist()) - set(expected.tolist()))
        raise DataError(
            f"{where}: labels must be 0..n-1 for n = {len(present)} classes; found label(s) "
            f"{', '.join(str(label) for label in outside[:5])} outside that range (renumber the classes)"
        )
    return tuple(str(label) for label in present.tolist())
