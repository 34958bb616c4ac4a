"""A model that averages views of each image: the right views, shared weights, and a file anyone can load."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autocnn.config import PredictionViews, TrialConfig
from autocnn.model import build_model, network_of, view_count, with_views


def _moved(images: np.ndarray, *, rows: int = 0, columns: int = 0) -> np.ndarray:
    """Return ``images`` moved down by ``rows`` and right by ``columns`` (negative: up, left), black border."""
    out = np.zeros_like(images)
    height, width = images.shape[1:3]
    target_rows = slice(max(rows, 0), height + min(rows, 0))
    source_rows = slice(max(-rows, 0), height + min(-rows, 0))
    target_columns = slice(max(columns, 0), width + min(columns, 0))
    source_columns = slice(max(-columns, 0), width + min(-columns, 0))
    out[:, target_rows, target_columns] = images[:, source_rows, source_columns]
    return out


@pytest.fixture(scope="module")
def network():
    return build_model(TrialConfig(), input_shape=(9, 7, 2), num_classes=3)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((6, 9, 7, 2)).astype("float32")


@pytest.mark.parametrize(
    ("views", "expected_views"),
    [
        (
            PredictionViews(shift=2),
            lambda x: [x, _moved(x, rows=2), _moved(x, rows=-2), _moved(x, columns=2), _moved(x, columns=-2)],
        ),
        (PredictionViews(flip="horizontal"), lambda x: [x, x[:, :, ::-1]]),
        (PredictionViews(flip="vertical"), lambda x: [x, x[:, ::-1]]),
        (
            PredictionViews(shift=1, flip="horizontal"),
            lambda x: [
                x,
                _moved(x, rows=1),
                _moved(x, rows=-1),
                _moved(x, columns=1),
                _moved(x, columns=-1),
                x[:, :, ::-1],
            ],
        ),
    ],
)
def test_the_model_averages_the_networks_predictions_over_each_view(network, images, views, expected_views):
    averaged = with_views(network, views)
    expected = np.mean([network.predict_on_batch(view) for view in expected_views(images)], axis=0)
    assert np.abs(averaged.predict_on_batch(images) - expected).max() < 1e-6
    assert view_count(averaged) == views.count == len(expected_views(images))
    inner = network_of(averaged)
    assert inner is not network  # a copy: the network stays free to be compiled and trained on its own
    assert [layer.name for layer in inner.layers] == [layer.name for layer in network.layers]
    assert all(np.array_equal(a, b) for a, b in zip(inner.get_weights(), network.get_weights(), strict=True))


def test_the_image_alone_is_the_network_itself(network):
    assert with_views(network, PredictionViews()) is network
    assert view_count(network) == 1
    assert network_of(network) is network


def test_the_saved_model_loads_in_safe_mode_without_autocnn(network, images, tmp_path):
    averaged = with_views(network, PredictionViews(shift=1, flip="horizontal"))
    path = tmp_path / "views.keras"
    averaged.save(path)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "expected.npy", averaged.predict_on_batch(images))
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import keras
        model = keras.models.load_model({str(path)!r}, compile=False, safe_mode=True)
        got = model.predict_on_batch(np.load({str(tmp_path / "images.npy")!r}))
        assert not any(name.startswith("autocnn") for name in sys.modules), "autocnn was imported"
        print(float(np.abs(got - np.load({str(tmp_path / "expected.npy")!r})).max()))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 1e-6


def test_a_loaded_model_still_says_its_network_and_views(network, tmp_path):
    import keras

    path = tmp_path / "views.keras"
    with_views(network, PredictionViews(shift=1)).save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert view_count(loaded) == 5
    assert [layer.name for layer in network_of(loaded).layers] == [layer.name for layer in network.layers]
