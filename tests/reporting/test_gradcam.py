"""Grad-CAM on hand-made models whose answer is known."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autocnn.reporting._gradcam import feature_model, gradcam_heatmaps, gradcam_layer_index


def bright_square_model() -> keras.Sequential:
    """Class 1's logit is the mean brightness; the conv passes the image through unchanged."""
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(1, 1, use_bias=False, name="block1_conv1"),
            keras.layers.Activation("relu", name="block1_act1"),
            keras.layers.GlobalAveragePooling2D(name="head_global_avg"),
            keras.layers.Dense(2, activation="softmax", name="output"),
        ]
    )
    model.layers[0].set_weights([np.ones((1, 1, 1, 1), dtype="float32")])
    model.layers[-1].set_weights([np.array([[-1.0, 1.0]], dtype="float32"), np.zeros(2, dtype="float32")])
    return model


def test_the_map_lights_up_where_the_evidence_is():
    model = bright_square_model()
    image = np.zeros((1, 8, 8, 1), dtype="float32")
    image[0, 5:8, 0:3, 0] = 1.0  # bottom-left corner
    maps, classes, layer = gradcam_heatmaps(model, image)
    assert layer == "block1_act1" and classes.tolist() == [1]
    assert maps.shape == (1, 8, 8) and maps.min() >= 0 and maps.max() == pytest.approx(1.0)
    assert maps[0, 5:8, 0:3].sum() / maps[0].sum() > 0.9
    other, _, _ = gradcam_heatmaps(model, image, classes=np.array([0]))
    assert other.max() == 0  # class 0's score falls with brightness: no positive evidence anywhere


def test_the_feature_model_reproduces_the_predictions_of_a_saved_model(tmp_path):
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(4, 3, padding="same", name="block1_conv1"),
            keras.layers.BatchNormalization(name="block1_bn1"),
            keras.layers.Activation("relu", name="block1_act1"),
            keras.layers.MaxPooling2D(2, name="block1_pool"),
            keras.layers.Dropout(0.5, name="block1_dropout"),
            keras.layers.Flatten(name="head_flatten"),
            keras.layers.Dense(3, activation="softmax", name="output"),
        ]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert gradcam_layer_index(loaded) == 2
    images = np.random.default_rng(0).random((5, 8, 8, 1)).astype("float32")
    features, penultimate = feature_model(loaded, 2)(images)
    assert tuple(features.shape) == (5, 8, 8, 4)
    np.testing.assert_allclose(loaded.layers[-1](penultimate), loaded.predict(images, verbose=0), atol=1e-6)
    maps, _, _ = gradcam_heatmaps(loaded, images)
    assert maps.shape == (5, 8, 8) and np.all((maps >= 0) & (maps <= 1))


def test_a_model_without_convolutions_is_refused():
    model = keras.Sequential([keras.Input(shape=(4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    assert gradcam_layer_index(model) is None
    with pytest.raises(ValueError, match="no Conv2D"):
        gradcam_heatmaps(model, np.zeros((1, 4, 4, 1), dtype="float32"))


def test_a_model_that_averages_views_is_explained_by_its_network():
    from autocnn.config import PredictionViews
    from autocnn.model import with_views

    network = bright_square_model()
    image = np.zeros((1, 8, 8, 1), dtype="float32")
    image[0, 5:8, 0:3, 0] = 1.0
    maps, classes, layer = gradcam_heatmaps(with_views(network, PredictionViews(shift=1)), image)
    expected, expected_classes, expected_layer = gradcam_heatmaps(network, image)
    np.testing.assert_allclose(maps, expected, atol=1e-6)
    assert classes.tolist() == expected_classes.tolist() and layer == expected_layer
