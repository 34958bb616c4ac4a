"""The registered datasets: how each is read, where it lives, and what to do when it cannot be."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autocnn.data._idx import IDX_FILE_NAMES, load_idx_folder
from autocnn.errors import DataError

__all__ = ["BUILTINS", "FASHION_MNIST_SYSTEM_DIR", "Builtin", "RawData", "keras_cache_dir"]

#: Where Debian's ``dataset-fashion-mnist`` package installs the original gzipped IDX files.
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FASHION_FILES = tuple(f"{name}.gz" for name in IDX_FILE_NAMES.values())

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# fmt: off
CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle",
    "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon",
    "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail",
    "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
    "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
    "willow_tree", "wolf", "woman", "worm",
)
# fmt: on
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True)
class RawData:
    """Arrays as read, before checks, scaling and splitting.

    ``arrays`` holds x_train and y_train, plus x_test and y_test when the source has a test split.
    """

    arrays: dict[str, np.ndarray]
    class_names: tuple[str, ...] | None
    source: str


@dataclass(frozen=True)
class Builtin:
    """A registered dataset: facts shown by ``autocnn datasets list`` and how to read it."""

    name: str
    description: str
    image_shape: tuple[int, int, int]
    train_size: int
    test_size: int
    num_classes: int
    load: Callable[[], RawData]
    offline: Callable[[], tuple[bool, str]]


def keras_cache_dir() -> Path:
    """Return the folder where ``keras.datasets`` keeps its downloads (``~/.keras/datasets``).

    Follows Keras: ``$KERAS_HOME`` (read when Keras is imported) or ``~/.keras``, and
    ``/tmp/.keras`` when that folder is not writable.
    """
    home: str | None = None
    if "keras" in sys.modules:  # Keras fixed its home when it was imported; ask it
        try:
            from keras.src.backend import config

            home = str(config.keras_home())
        except (ImportError, AttributeError):
            home = None
    if home is None:
        home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    base = Path(home).expanduser()
    if base.exists() and not os.access(base, os.W_OK):
        base = Path("/tmp/.keras")
    return base / "datasets"


def _digits() -> RawData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (np.asarray(bunch.images) / 16.0).astype(np.float32)
    return RawData(
        {"x_train": images, "y_train": np.asarray(bunch.target)},
        DIGIT_CLASSES,
        "scikit-learn (sklearn.datasets.load_digits, bundled)",
    )


def _system_fashion_ready() -> bool:
    return all((FASHION_MNIST_SYSTEM_DIR / name).is_file() for name in _FASHION_FILES)


@dataclass(frozen=True)
class _KerasDataset:
    """A dataset of ``keras.datasets``: where Keras caches it and where it comes from."""

    name: str
    cache_entry: str  # relative to the Keras cache folder
    cache_files: tuple[str, ...]  # inside cache_entry when it is a folder; Keras skips downloading these
    hand_copy: str  # how to place the files by hand; "{cache}" stands for the Keras cache folder
    class_names: tuple[str, ...]

    def cached(self) -> Path:
        """Return the file (or folder) Keras keeps this dataset in."""
        return keras_cache_dir() / self.cache_entry

    def is_cached(self) -> bool:
        """Return whether Keras would load this dataset without downloading."""
        path = self.cached()
        return (
            all((path / name).is_file() for name in self.cache_files) if self.cache_files else path.is_file()
        )

    def offline(self) -> tuple[bool, str]:
        """Return whether the dataset loads without internet now, and from where."""
        if self.name == "fashion_mnist" and _system_fashion_ready():
            return True, str(FASHION_MNIST_SYSTEM_DIR)
        if self.is_cached():
            return True, str(self.cached())
        return False, f"downloads to {self.cached()} on first use"

    def load(self) -> RawData:
        """Read the system copy (Fashion-MNIST) or call ``keras.datasets.<name>.load_data()``."""
        if self.name == "fashion_mnist" and _system_fashion_ready():
            try:
                arrays = load_idx_folder(FASHION_MNIST_SYSTEM_DIR)
            except DataError as error:
                raise DataError(
                    f"{error} (this is Debian's system copy: apt-get install --reinstall dataset-fashion-mnist)"
                ) from None
            return RawData(arrays, self.class_names, str(FASHION_MNIST_SYSTEM_DIR))
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, self.name).load_data()
        except Exception as error:  # offline, Keras raises a plain Exception("URL fetch failure on ...")
            raise DataError(self._failure(error)) from None
        return RawData(
            {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test},
            self.class_names,
            f"keras.datasets cache ({self.cached()})",
        )

    def _failure(self, error: BaseException) -> str:
        """One message: what failed, where autocnn looked, how to fix it, what works offline now."""
        text = " ".join(str(error).split()) or type(error).__name__
        download_failed = "URL fetch failure" in text or "urlopen" in text.lower()
        path = self.cached()
        looked = f"the Keras cache {path} ({'present but unusable' if self.is_cached() else 'missing'})"
        if self.name == "fashion_mnist":
            system = (
                f"{FASHION_MNIST_SYSTEM_DIR} (Debian package dataset-fashion-mnist; missing or incomplete)"
            )
            looked = f"{system} and {looked}"
        if download_failed:
            what = f"dataset {self.name!r} is not on this machine and could not be downloaded ({text})"
        else:
            what = (
                f"dataset {self.name!r} could not be read by keras.datasets ({type(error).__name__}: {text})"
            )
            if self.is_cached():
                what += f"; delete {path} so that Keras downloads it again"
        offline = ", ".join(item.name for item in BUILTINS.values() if item.offline()[0])
        return (
            f"{what}. autocnn looked in {looked}. To use it offline, "
            f"{self.hand_copy.format(cache=keras_cache_dir())}, or pass a local copy as "
            f"the `dataset` path (an .npz file with x_train, y_train, x_test, y_test, a folder "
            f"of IDX files, or a folder of class sub-folders of images). Datasets available offline now: "
            f"{offline or 'none'}."
        )


_KERAS = {
    "mnist": _KerasDataset(
        "mnist",
        "mnist.npz",
        (),
        f"download {_KERAS_ORIGIN}mnist.npz on a connected machine and copy it to {{cache}}/mnist.npz",
        DIGIT_CLASSES,
    ),
    "fashion_mnist": _KerasDataset(
        "fashion_mnist",
        "fashion-mnist",
        _FASHION_FILES,
        f"install Debian's copy (apt-get install dataset-fashion-mnist), or download "
        f"{', '.join(_FASHION_FILES)} from {_KERAS_ORIGIN} and copy them into {{cache}}/fashion-mnist/",
        FASHION_CLASSES,
    ),
    "cifar10": _KerasDataset(
        "cifar10",
        "cifar-10-batches-py-target_archive",
        (),
        "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and copy it, renamed, to "
        "{cache}/cifar-10-batches-py-target_archive (Keras extracts it)",
        CIFAR10_CLASSES,
    ),
    "cifar100": _KerasDataset(
        "cifar100",
        "cifar-100-python-target_archive",
        (),
        "download https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz and copy it, renamed, to "
        "{cache}/cifar-100-python-target_archive (Keras extracts it)",
        CIFAR100_CLASSES,
    ),
}


#: Registered datasets by name, in the order ``autocnn datasets list`` shows them.
BUILTINS: dict[str, Builtin] = {
    "digits": Builtin(
        "digits",
        "scikit-learn's 8x8 handwritten digits, bundled (1,797 images; a fixed 20% test split)",
        (8, 8, 1),
        1438,
        359,
        10,
        _digits,
        lambda: (True, "bundled with scikit-learn"),
    ),
    "mnist": Builtin(
        "mnist",
        "handwritten digits, 28x28 grayscale",
        (28, 28, 1),
        60000,
        10000,
        10,
        _KERAS["mnist"].load,
        _KERAS["mnist"].offline,
    ),
    "fashion_mnist": Builtin(
        "fashion_mnist",
        "Zalando's clothing images, 28x28 grayscale (Debian's system copy first, else keras.datasets)",
        (28, 28, 1),
        60000,
        10000,
        10,
        _KERAS["fashion_mnist"].load,
        _KERAS["fashion_mnist"].offline,
    ),
    "cifar10": Builtin(
        "cifar10",
        "colour photos, 32x32, 10 classes",
        (32, 32, 3),
        50000,
        10000,
        10,
        _KERAS["cifar10"].load,
        _KERAS["cifar10"].offline,
    ),
    "cifar100": Builtin(
        "cifar100",
        "colour photos, 32x32, 100 fine classes",
        (32, 32, 3),
        50000,
        10000,
        100,
        _KERAS["cifar100"].load,
        _KERAS["cifar100"].offline,
    ),
}
