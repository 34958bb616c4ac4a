"""Unbalanced classes: the loss weighted by class, and trials judged by balanced accuracy."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autocnn.config import TrialConfig
from autocnn.core.final_model import validation_accuracy
from autocnn.data import (
    Dataset,
    balanced_accuracy,
    class_balancing_weights,
    dataset_from_arrays,
    load_dataset,
    make_pipeline,
)
from autocnn.errors import DataError
from autocnn.training import fit_config

# images kept per digit class: the first class 30 times the last
KEPT_PER_CLASS = (150, 150, 150, 150, 150, 60, 30, 15, 8, 5)


@pytest.fixture(scope="module")
def unbalanced_digits() -> Dataset:
    digits = load_dataset("digits")
    x = np.concatenate([digits.x_train, digits.x_val])
    y = np.concatenate([digits.y_train, digits.y_val])
    kept = np.concatenate([np.flatnonzero(y == label)[:count] for label, count in enumerate(KEPT_PER_CLASS)])
    return dataset_from_arrays(
        (x[kept] * 255).astype(np.uint8),
        y[kept],
        (digits.x_test * 255).astype(np.uint8),
        digits.y_test,
        name="unbalanced_digits",
        validation_fraction=0.3,
    )


def _config(class_weight: str) -> TrialConfig:
    return TrialConfig.from_dict(
        {
            "model": {"blocks": [{"filters": 8}], "head": {"dense_units": []}},
            "training": {"batch_size": 32, "epochs": 2, "learning_rate": 3e-3, "class_weight": class_weight},
        }
    )


def _predicted(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return np.argmax(np.asarray(model(x, training=False)), axis=-1)


def test_every_present_class_weighs_the_same_in_all_and_the_weights_average_one():
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 3, 3])
    weights = class_balancing_weights(labels, num_classes=4)
    # 10 images, 3 classes present: 10 / (3 * 6) for class 0, 10 / (3 * 2) for 1 and 3, none for 2
    assert weights == pytest.approx([5 / 9, 5 / 3, 0.0, 5 / 3])
    assert weights[labels].mean() == pytest.approx(1.0)


def test_balanced_accuracy_is_the_mean_of_the_classes_recalls():
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    predicted = np.array([0, 0, 0, 0, 0, 1, 0, 0])
    # recalls 4/4, 1/2 and 0/2; plain accuracy 5/8
    assert balanced_accuracy(predicted, labels) == pytest.approx(0.5)
    assert np.mean(predicted == labels) == pytest.approx(0.625)


def test_weighted_batches_carry_each_images_class_weight():
    x = np.zeros((6, 4, 4, 1), dtype=np.float32)
    y = np.array([0, 0, 0, 0, 1, 2])
    weights = np.array([0.25, 2.0, 3.0], dtype=np.float32)
    images, labels, batch_weights = next(
        iter(make_pipeline(x, y, batch_size=6, training=False, class_weights=weights))
    )
    assert images.shape == (6, 4, 4, 1)
    assert list(labels.numpy()) == list(y)
    assert list(batch_weights.numpy()) == [0.25, 0.25, 0.25, 0.25, 2.0, 3.0]
    with pytest.raises(DataError, match="one weight per class"):
        make_pipeline(x, y, batch_size=6, training=False, class_weights=weights[:2])


def test_balanced_validation_reports_the_balanced_accuracy_of_the_trained_model(unbalanced_digits):
    data = unbalanced_digits
    result = fit_config(_config("none"), data, seed=0, balanced_validation=True)
    predicted = _predicted(result.model, data.x_val)
    balanced = balanced_accuracy(predicted, data.y_val)
    plain = float(np.mean(predicted == data.y_val))
    assert abs(balanced - plain) > 0.02  # the rare classes are predicted worse than the common ones
    assert result.metrics["val_accuracy"] == pytest.approx(balanced, abs=1e-4)
    assert validation_accuracy(result.model, data, balanced=True) == pytest.approx(balanced)
    assert validation_accuracy(result.model, data) == pytest.approx(plain)


def test_a_loss_weighted_by_class_predicts_the_rare_classes_more_often(unbalanced_digits):
    data = unbalanced_digits
    rare = np.array([label for label, count in enumerate(KEPT_PER_CLASS) if count <= 15])
    counted = {}
    for class_weight in ("none", "balanced"):
        model = fit_config(_config(class_weight), data, seed=0).model
        counted[class_weight] = int(np.isin(_predicted(model, data.x_test), rare).sum())
    assert counted["balanced"] > 1.5 * counted["none"]


def test_a_model_that_always_says_one_class_scores_chance_balanced():
    x = np.zeros((10, 2, 2, 1), dtype=np.float32)
    y = np.array([0] * 6 + [1, 1, 2, 2])
    data = dataset_from_arrays(x, y, x, y, name="constant", validation_fraction=0.5)
    constant = keras.Sequential(
        [keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    constant.layers[-1].set_weights([np.zeros((4, 3)), np.array([5.0, 0.0, 0.0])])
    assert list(np.bincount(data.y_val)) == [3, 1, 1]
    assert validation_accuracy(constant, data) == pytest.approx(3 / 5)
    assert validation_accuracy(constant, data, balanced=True) == pytest.approx(1 / 3)
