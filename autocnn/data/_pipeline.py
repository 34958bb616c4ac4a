"""The tf.data input pipeline of a trial: in-memory, shuffled per epoch, augmented per batch."""

from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING

import numpy as np

from autocnn._checks import check_positive_int
from autocnn.errors import ConfigError, DataError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

__all__ = ["make_pipeline"]

PREFETCH_BATCHES = 2  # the next batch ready while the model trains on this one, and one spare


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    training: bool,
    augmentation: keras.Sequential | None = None,
    seed: int = 0,
    class_weights: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Return a ``tf.data.Dataset`` of ``(images, labels)`` batches for ``model.fit`` or ``evaluate``.

    The arrays are held once in memory (the cache); batches are gathered by index. Training
    pipelines draw a new seeded permutation of all images every epoch (the same ``seed`` gives
    the same sequence of epochs) and apply ``augmentation`` to each batch; evaluation pipelines
    keep the order and never augment. Both prefetch ``PREFETCH_BATCHES`` so the next batch is
    ready while the model trains on the current one, and map with one call per core. With
    ``class_weights`` (one per class) each batch is ``(images, labels, weights)``: the weighted
    loss and weighted metrics count each image by its class.

    Raises:
        DataError: ``x`` and ``y`` do not match or are empty.
        ConfigError: ``batch_size`` or ``seed`` is invalid.

    """
    import tensorflow as tf

    check_positive_int(batch_size, parameter="batch_size")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ConfigError(f"The 'seed' parameter must be an int; got {seed!r} instead.")
    if len(x) != len(y):
        raise DataError(f"make_pipeline: {len(x)} images but {len(y)} labels; the counts must match")
    if len(x) == 0:
        raise DataError("make_pipeline: no images; the split is empty")
    parallel_calls = _cores()
    images = tf.convert_to_tensor(np.asarray(x))
    labels = tf.convert_to_tensor(np.asarray(y))
    data = tf.data.Dataset.range(len(x))
    if training:
        # Shuffling indices (not images) gives a full permutation every epoch at no memory cost.
        data = data.shuffle(len(x), seed=int(seed), reshuffle_each_iteration=True)
    data = data.batch(int(batch_size)).map(
        lambda index: (tf.gather(images, index), tf.gather(labels, index)),
        num_parallel_calls=parallel_calls,
    )
    if training and augmentation is not None:
        data = data.map(
            lambda batch, target: (augmentation(batch, training=True), target),
            num_parallel_calls=parallel_calls,
        )
    if class_weights is not None:
        if len(class_weights) <= int(np.max(y)):
            raise DataError(
                f"make_pipeline: {len(class_weights)} class weights but labels up to {int(np.max(y))}; "
                "give one weight per class"
            )
        weights = tf.convert_to_tensor(np.asarray(class_weights, dtype=np.float32))
        data = data.map(
            lambda batch, target: (batch, target, tf.gather(weights, target)),
            num_parallel_calls=parallel_calls,
        )
    options = tf.data.Options()
    # tf.data's autotuner thread sleeps between its rounds, and an epoch's finished iterator
    # waited for that sleep to end: up to an epoch's length of idle cores at the next epoch's
    # start (benchmarks/input_pipeline.py). Fixed parallelism and prefetch need no autotuner.
    options.autotune.enabled = False
    return data.prefetch(PREFETCH_BATCHES).with_options(options)


def _cores() -> int:
    """Return the CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)
