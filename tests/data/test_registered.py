"""Registered datasets: digits end to end, Fashion-MNIST from Debian's copy, offline errors."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import numpy as np
import pytest

from autocnn.data import FASHION_MNIST_SYSTEM_DIR, _builtin, dataset_summary, list_datasets, load_dataset
from autocnn.errors import ConfigError, DataError
from tests.data.writers import write_idx_folder

FASHION_READY = all(
    (FASHION_MNIST_SYSTEM_DIR / f"{name}.gz").is_file()
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
)


def test_digits_end_to_end() -> None:
    data = load_dataset("digits")
    assert data.name == "digits"
    assert data.input_shape == (8, 8, 1)
    assert data.num_classes == 10 and data.class_names == tuple("0123456789")
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 1797
    for x, y in ((data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.ndim == 4 and x.shape[1:] == (8, 8, 1) and y.shape == (len(x),)
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert set(np.unique(y)) == set(range(10))
    assert data.x_train.max() == 1.0  # 16/16: scaled by 16, not by 255
    assert abs(len(data.y_test) / 1797 - 0.2) < 0.01
    assert abs(len(data.y_val) / (len(data.y_train) + len(data.y_val)) - 0.1) < 0.01
    assert len(data.fingerprint) == 64 and int(data.fingerprint, 16) >= 0
    assert "scikit-learn" in data.source


def test_digits_arrays_are_read_only_because_they_are_shared() -> None:
    data = load_dataset("digits")
    assert load_dataset("digits") is data
    with pytest.raises(ValueError, match="read-only"):
        data.x_train[0, 0, 0, 0] = 0.5


def test_list_datasets_sizes_match_what_loads() -> None:
    infos = {info.name: info for info in list_datasets()}
    assert list(infos) == ["digits", "mnist", "fashion_mnist", "cifar10", "cifar100"]
    digits = infos["digits"]
    data = load_dataset("digits")
    assert digits.available_offline
    assert digits.train_size == len(data.y_train) + len(data.y_val)
    assert digits.test_size == len(data.y_test)
    assert digits.image_shape == data.input_shape and digits.num_classes == data.num_classes
    assert infos["cifar100"].num_classes == 100 and infos["cifar10"].image_shape == (32, 32, 3)
    assert infos["fashion_mnist"].available_offline == FASHION_READY


def test_list_datasets_checks_the_keras_cache_now(empty_keras_cache: Path) -> None:
    before = {info.name: info for info in list_datasets()}
    assert not before["mnist"].available_offline
    assert str(empty_keras_cache / "mnist.npz") in before["mnist"].where
    empty_keras_cache.mkdir(parents=True, exist_ok=True)
    (empty_keras_cache / "mnist.npz").write_bytes(b"placed by hand")
    after = {info.name: info for info in list_datasets()}
    assert after["mnist"].available_offline
    assert after["mnist"].where == str(empty_keras_cache / "mnist.npz")


def test_dataset_summary_counts_classes_per_split() -> None:
    data = load_dataset("digits")
    summary = dataset_summary(data)
    assert summary["input_shape"] == [8, 8, 1] and summary["num_classes"] == 10
    assert summary["sizes"] == {
        "train": len(data.y_train),
        "validation": len(data.y_val),
        "test": len(data.y_test),
    }
    assert summary["class_counts"]["validation"] == np.bincount(data.y_val, minlength=10).tolist()
    assert sum(summary["class_counts"]["train"]) == len(data.y_train)
    assert 1.0 <= summary["imbalance"]["test"] < 1.2
    assert summary["fingerprint"] == data.fingerprint


@pytest.mark.skipif(
    not FASHION_READY,
    reason=f"Fashion-MNIST system copy absent: {FASHION_MNIST_SYSTEM_DIR} "
    "(apt-get install dataset-fashion-mnist; CI installs it)",
)
def test_fashion_mnist_loads_from_the_system_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    def no_download() -> None:
        raise AssertionError("the system copy must be used, not keras.datasets")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", no_download)
    data = load_dataset("fashion-mnist")  # spelling variants resolve to the registered name
    assert data.name == "fashion_mnist"
    assert data.source == str(FASHION_MNIST_SYSTEM_DIR)
    assert data.x_train.shape == (54000, 28, 28, 1) and data.x_val.shape == (6000, 28, 28, 1)
    assert data.x_test.shape == (10000, 28, 28, 1)
    assert data.x_train.dtype == np.float32 and data.x_test.min() >= 0.0 and data.x_test.max() <= 1.0
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert np.bincount(data.y_val).tolist() == [600] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10


def test_fashion_mnist_system_folder_is_read_without_keras(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    """Runs everywhere: a synthetic copy stands in for /usr/share/datasets/fashion-mnist."""
    import keras

    write_idx_folder(tmp_path / "system", gz=True, classes=10, train=60, test=30)
    monkeypatch.setattr(_builtin, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "system")
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: pytest.fail("must not download"))
    info = {item.name: item for item in list_datasets()}["fashion_mnist"]
    assert info.available_offline and info.where == str(tmp_path / "system")
    data = load_dataset("fashion_mnist")
    assert data.source == str(tmp_path / "system") and len(data.y_test) == 30
    assert data.class_names[:2] == ("T-shirt/top", "Trouser")


def test_corrupt_fashion_mnist_system_copy_says_how_to_repair_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    write_idx_folder(tmp_path / "system", gz=True, classes=10, train=60, test=30)
    bad = tmp_path / "system" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:12])
    monkeypatch.setattr(_builtin, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "system")
    with pytest.raises(DataError) as caught:
        load_dataset("fashion_mnist")
    message = str(caught.value)
    assert str(bad) in message and "truncated or corrupt" in message
    assert "apt-get install --reinstall dataset-fashion-mnist" in message


OFFLINE_CASES = {
    "mnist": "mnist.npz",
    "cifar10": "cifar-10-batches-py-target_archive",
    "cifar100": "cifar-100-python-target_archive",
    "fashion_mnist": "fashion-mnist",
}


@pytest.mark.parametrize("name", list(OFFLINE_CASES))
def test_download_failure_is_one_data_error_saying_where_to_put_the_file(
    name: str, empty_keras_cache: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None, tmp_path: Path
) -> None:
    import keras

    calls: list[str] = []

    def offline() -> None:
        calls.append(name)
        raise Exception(  # what keras.utils.get_file raises without network
            "URL fetch failure on https://example.invalid/data: None -- [Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(getattr(keras.datasets, name), "load_data", offline)
    monkeypatch.setattr(_builtin, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "no-system-copy")
    with pytest.raises(DataError) as caught:
        load_dataset(name)
    message = str(caught.value)
    assert calls == [name]
    assert f"dataset {name!r}" in message and "could not be downloaded" in message
    assert "URL fetch failure" in message
    assert str(empty_keras_cache / OFFLINE_CASES[name]) in message  # where it looked / where to put it
    assert "as the `dataset` path (an .npz file" in message  # the CLI shows it as --dataset
    assert message.rstrip().endswith("Datasets available offline now: digits.")
    if name == "fashion_mnist":
        assert str(tmp_path / "no-system-copy") in message
        assert "apt-get install dataset-fashion-mnist" in message
    assert "\n" not in message


def test_real_keras_download_failure_without_network(
    empty_keras_cache: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    """No mock of load_data: Keras itself tries to download into the empty cache and fails."""
    from keras.src.utils import file_utils

    attempts: list[str] = []

    def no_network(url: str, *args: object, **kwargs: object) -> None:
        attempts.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    with pytest.raises(
        DataError, match=r"dataset 'mnist' is not on this machine and could not be downloaded"
    ):
        load_dataset("mnist")
    assert attempts and attempts[0].endswith("mnist.npz")


def test_unknown_name_lists_the_registered_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as caught:
        load_dataset("mnsit")
    message = str(caught.value)
    assert "'mnsit'" in message and "neither a registered name" in message
    assert "digits, mnist, fashion_mnist, cifar10, cifar100" in message
    assert "Did you mean 'mnist'?" in message


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"validation_fraction": "0.1"}, "validation_fraction"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], parameter: str) -> None:
    with pytest.raises(ConfigError, match=f"The '{parameter}' parameter must be"):
        load_dataset("digits", **options)  # type: ignore[arg-type]
