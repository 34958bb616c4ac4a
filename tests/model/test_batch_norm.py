import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from autocnn.config import TrialConfig
from autocnn.model import FusedBatchNormalization, build_model, with_keras_batch_norm

BN_CONFIG = TrialConfig.from_dict(
    {
        "model": {"blocks": [{"filters": 8, "batch_norm": True}, {"filters": 4, "batch_norm": True}]},
        "training": {"epochs": 1},
    }
)


def paired_layers(shape: tuple[int, ...]) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    stock = keras.layers.BatchNormalization(momentum=0.9)
    fused = FusedBatchNormalization(momentum=0.9)
    stock.build(shape)
    fused.build(shape)
    rng = np.random.default_rng(3)
    weights = [rng.normal(1.0, 0.3, size=w.shape).astype("float32") for w in stock.get_weights()]
    weights[3] = np.abs(weights[3])  # a variance
    stock.set_weights(weights)
    fused.set_weights(weights)
    return stock, fused


@pytest.mark.parametrize("shape", [(16, 7, 7, 5), (1, 2, 2, 3)])
def test_fused_training_step_matches_keras_outputs_gradients_and_moving_statistics(shape):
    stock, fused = paired_layers(shape)
    rng = np.random.default_rng(1)
    images = tf.constant(rng.normal(2.0, 3.0, size=shape).astype("float32"))
    upstream = tf.constant(rng.normal(size=shape).astype("float32"))
    gradients = []
    outputs = []
    for layer in (stock, fused):
        with tf.GradientTape() as tape:
            tape.watch(images)
            output = layer(images, training=True)
            loss = tf.reduce_sum(output * upstream)
        outputs.append(output.numpy())
        gradients.append([g.numpy() for g in tape.gradient(loss, [images, *layer.trainable_weights])])
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)
    for fused_gradient, stock_gradient in zip(gradients[1], gradients[0], strict=True):
        np.testing.assert_allclose(fused_gradient, stock_gradient, rtol=1e-4, atol=1e-4)
    for fused_value, stock_value in zip(fused.get_weights(), stock.get_weights(), strict=True):
        np.testing.assert_allclose(fused_value, stock_value, rtol=1e-5, atol=1e-6)
    assert not np.allclose(fused.get_weights()[2], 1.0)  # the moving mean did move


def test_fused_layer_runs_the_fused_kernel_in_training_only():
    _, fused = paired_layers((4, 3, 3, 2))
    images = tf.zeros((4, 3, 3, 2))
    training_ops = {
        op.type
        for op in tf.function(lambda x: fused(x, training=True))
        .get_concrete_function(images)
        .graph.get_operations()
    }
    inference_ops = {
        op.type
        for op in tf.function(lambda x: fused(x, training=False))
        .get_concrete_function(images)
        .graph.get_operations()
    }
    assert "FusedBatchNormV3" in training_ops
    assert "FusedBatchNormV3" not in inference_ops


def test_with_keras_batch_norm_gives_stock_layers_with_the_same_weights_and_predictions(tmp_path):
    fused_model = build_model(BN_CONFIG, input_shape=(8, 8, 1), num_classes=3, fused_batch_norm=True)
    assert sum(isinstance(layer, FusedBatchNormalization) for layer in fused_model.layers) == 2
    images = np.random.default_rng(0).random((32, 8, 8, 1), dtype=np.float32)
    fused_model(images, training=True)  # move the statistics away from their start
    stock_model = with_keras_batch_norm(fused_model)
    kinds = [type(layer) for layer in stock_model.layers]
    assert kinds.count(keras.layers.BatchNormalization) == 2 and FusedBatchNormalization not in kinds
    for fused_value, stock_value in zip(fused_model.get_weights(), stock_model.get_weights(), strict=True):
        np.testing.assert_array_equal(fused_value, stock_value)
    np.testing.assert_allclose(stock_model.predict(images, verbose=0), fused_model.predict(images, verbose=0))
    path = tmp_path / "model.keras"
    stock_model.save(path)
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))
    text = json.dumps(saved)
    assert "BatchNormalization" in text
    assert "Fused" not in text and "autocnn>" not in text


def test_with_keras_batch_norm_returns_a_model_without_fused_layers_unchanged():
    model = build_model(BN_CONFIG, input_shape=(8, 8, 1), num_classes=3)
    assert with_keras_batch_norm(model) is model


def test_fit_config_hands_out_a_compiled_stock_model(tmp_path):
    from autocnn.data import load_dataset
    from autocnn.training import fit_config

    digits = load_dataset("digits")
    weights = tmp_path / "trial.weights.h5"
    result = fit_config(BN_CONFIG, digits, seed=0, save_weights_to=weights)
    kinds = [type(layer) for layer in result.model.layers]
    assert kinds.count(keras.layers.BatchNormalization) == 2 and FusedBatchNormalization not in kinds
    assert result.model.compiled
    evaluated = result.model.evaluate(digits.x_val, digits.y_val, verbose=0, return_dict=True)
    assert evaluated["accuracy"] == pytest.approx(result.metrics["val_accuracy"], abs=1e-6)
    continued = fit_config(BN_CONFIG, digits, epochs=2, seed=0, initial_weights=str(weights), initial_epoch=1)
    assert [record.epoch for record in continued.curve] == [2]
