"""predict_outputs: the model's outputs batch by batch, without Keras' tf.data adapter."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autocnn.config import TrialConfig
from autocnn.errors import ConfigError
from autocnn.model import build_model
from autocnn.training import predict_outputs


@pytest.fixture(scope="module")
def model() -> keras.Model:
    """A small batch-normalised network with moving statistics away from their initial values."""
    plain = TrialConfig()
    blocks = [block.model_copy(update={"batch_norm": True}) for block in plain.model.blocks]
    config = plain.model_copy(update={"model": plain.model.model_copy(update={"blocks": blocks})})
    network = build_model(config, input_shape=(8, 8, 1), num_classes=4)
    normalising = [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert normalising, "the fixture needs a batch-normalised network"
    for layer in normalising:
        for variable in layer.non_trainable_variables:
            variable.assign(np.full(variable.shape, 0.7, dtype="float32"))
    return network


@pytest.mark.parametrize(("count", "batch_size"), [(10, 4), (3, 256), (8, 8), (1, 2)])
def test_outputs_match_the_model_called_on_all_images_at_once(model, count, batch_size):
    images = np.random.default_rng(count).random((count, 8, 8, 1), dtype=np.float32)
    expected = np.asarray(model(images, training=False))
    outputs = predict_outputs(model, images, batch_size=batch_size)
    assert outputs.shape == (count, 4)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def test_no_images_give_no_rows(model):
    assert predict_outputs(model, np.zeros((0, 8, 8, 1), dtype=np.float32)).shape == (0, 4)


def test_predicting_builds_no_tf_data_iterator(model, monkeypatch):
    """Keras' predict on arrays makes an iterator whose end waits for tf.data's autotuner."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("model.predict was called")

    monkeypatch.setattr(type(model), "predict", refuse)
    images = np.ones((5, 8, 8, 1), dtype=np.float32)
    assert predict_outputs(model, images, batch_size=2).shape == (5, 4)


@pytest.mark.parametrize("batch_size", [0, -1, True, 2.5])
def test_a_bad_batch_size_is_refused_by_name(model, batch_size):
    with pytest.raises(ConfigError, match="'batch_size' parameter must be a positive int"):
        predict_outputs(model, np.ones((2, 8, 8, 1), dtype=np.float32), batch_size=batch_size)
