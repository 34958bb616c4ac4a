"""The tf.data input pipeline of a trial, and training-only augmentation as Keras layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from autocnn.errors import ConfigError

FLIPS = {
    "horizontal": "horizontal",
    "vertical": "vertical",
    "horizontal_and_vertical": "horizontal_and_vertical",
}


def build_augmentation(
    *,
    flip: str = "none",
    rotation: float = 0.0,
    translation: float = 0.0,
    zoom: float = 0.0,
    contrast: float = 0.0,
    seed: int | None = None,
) -> Any:
    """Return a ``keras.Sequential`` of random preprocessing layers, or None when all are off."""
    import keras

    layers: list[Any] = []
    if flip != "none":
        if flip not in FLIPS:
            raise ConfigError(f"flip must be none, {', '.join(FLIPS)}; got {flip!r}")
        layers.append(keras.layers.RandomFlip(FLIPS[flip], seed=seed))
    if rotation > 0:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed))
    if translation > 0:
        layers.append(
            keras.layers.RandomTranslation(translation, translation, fill_mode="constant", seed=seed)
        )
    if zoom > 0:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed))
    if contrast > 0:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0.0, 1.0), seed=seed))
    if not layers:
        return None
    return keras.Sequential(layers, name="augmentation")


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    training: bool,
    augmentation: Any = None,
    seed: int = 0,
) -> Any:
    """Return a ``tf.data.Dataset`` of (images, labels) batches.

    Training pipelines shuffle (seeded, reshuffled every epoch) and apply ``augmentation`` per
    batch; evaluation pipelines keep the order and never augment. Both cache and prefetch.
    """
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if training:
        data = data.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if training and augmentation is not None:
        data = data.map(
            lambda images, labels: (augmentation(images, training=True), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return data.prefetch(tf.data.AUTOTUNE)
