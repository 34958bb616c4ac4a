"""Each optimizer, schedule and regulariser a space can choose changes what training does."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import pytest

import autocnn.training._fit as fit_module
from autocnn.config import TrialConfig
from autocnn.data import load_dataset
from autocnn.training import fit_config

EPOCHS = 3
BATCH_SIZE = 64


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _train(digits, monkeypatch, **training: Any) -> tuple[keras.Model, float]:
    """Train a small network; return the model that trained (with its optimizer) and the last loss."""
    trained: list[keras.Model] = []
    compile_for_training = fit_module.compile_for_training

    def recording(model: keras.Model, *args: Any, **kwargs: Any) -> None:
        trained.append(model)
        compile_for_training(model, *args, **kwargs)

    monkeypatch.setattr(fit_module, "compile_for_training", recording)
    config = TrialConfig.from_dict(
        {
            "model": {"blocks": [{"filters": 8, "pooling": "none"}], "head": {"dense_units": []}},
            "training": {"batch_size": BATCH_SIZE, "epochs": EPOCHS, **training},
        }
    )
    result = fit_config(config, digits, seed=0)
    return trained[0], result.curve[-1].loss


def _kernel_values(model: keras.Model, *, layer_class: type = keras.layers.Layer) -> np.ndarray:
    kernels = [
        layer.kernel.numpy()
        for layer in model.layers
        if isinstance(layer, layer_class) and hasattr(layer, "kernel")
    ]
    return np.concatenate([np.ravel(kernel) for kernel in kernels])


@pytest.mark.parametrize(
    ("optimizer", "keras_class"),
    [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW"), ("rmsprop", "RMSprop")],
)
def test_the_chosen_optimizer_takes_every_step(digits, monkeypatch, optimizer, keras_class):
    model, _ = _train(digits, monkeypatch, optimizer=optimizer, learning_rate=3e-3)
    assert type(model.optimizer).__name__ == keras_class
    assert int(model.optimizer.iterations) == EPOCHS * math.ceil(len(digits.x_train) / BATCH_SIZE)


def test_cosine_decays_the_learning_rate_to_near_zero_and_constant_keeps_it(digits, monkeypatch):
    cosine, _ = _train(digits, monkeypatch, learning_rate=0.01, lr_schedule="cosine")
    constant, _ = _train(digits, monkeypatch, learning_rate=0.01, lr_schedule="constant")
    assert float(cosine.optimizer.learning_rate) < 0.1 * 0.01
    assert float(constant.optimizer.learning_rate) == pytest.approx(0.01)


def test_adamw_weight_decay_shrinks_the_weights(digits, monkeypatch):
    decayed, _ = _train(digits, monkeypatch, optimizer="adamw", learning_rate=0.01, weight_decay=0.5)
    free, _ = _train(digits, monkeypatch, optimizer="adamw", learning_rate=0.01, weight_decay=0.0)
    assert np.linalg.norm(_kernel_values(decayed)) < 0.9 * np.linalg.norm(_kernel_values(free))


def test_l1_drives_weights_towards_zero(digits, monkeypatch):
    sparse, _ = _train(digits, monkeypatch, optimizer="sgd", learning_rate=0.05, l1=0.01)
    dense, _ = _train(digits, monkeypatch, optimizer="sgd", learning_rate=0.05, l1=0.0)
    # the penalty is on the convolutions (the output layer has none)
    convolutions = keras.layers.Conv2D
    assert (
        np.abs(_kernel_values(sparse, layer_class=convolutions)).sum()
        < 0.8 * np.abs(_kernel_values(dense, layer_class=convolutions)).sum()
    )


def test_label_smoothing_keeps_the_loss_above_the_smoothed_targets_entropy(digits, monkeypatch):
    smoothing, classes = 0.3, digits.num_classes
    on_true, on_others = 1 - smoothing + smoothing / classes, smoothing / classes
    entropy = -(on_true * math.log(on_true) + (classes - 1) * on_others * math.log(on_others))
    _, smoothed_loss = _train(digits, monkeypatch, learning_rate=0.01, label_smoothing=smoothing)
    _, plain_loss = _train(digits, monkeypatch, learning_rate=0.01, label_smoothing=0.0)
    assert smoothed_loss > entropy > plain_loss
