"""Predictions on in-memory images, one batch at a time, without a tf.data pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn._checks import check_positive_int

if TYPE_CHECKING:
    import keras

PREDICT_BATCH = 256


def predict_outputs(model: keras.Model, images: Any, *, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """Return ``model``'s outputs for ``images`` (an array of images), one row per image.

    ``model.predict`` on arrays builds a tf.data pipeline whose finished iterator waits for
    tf.data's autotuner thread to wake (up to the prediction's own length again); batches fed to
    ``predict_on_batch`` need no pipeline. The last batch is padded to the full size, so one
    traced step serves every batch.
    """
    check_positive_int(batch_size, parameter="batch_size")
    array = np.asarray(images)
    size = max(1, min(batch_size, len(array)))
    outputs: list[np.ndarray] = []
    for start in range(0, len(array), size):
        batch = array[start : start + size]
        short = size - len(batch)
        if short:
            # inference treats images independently (batch norm uses its moving averages)
            batch = np.concatenate([batch, np.repeat(batch[-1:], short, axis=0)])
        outputs.append(np.asarray(model.predict_on_batch(batch))[: size - short])
    if not outputs:
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    return np.concatenate(outputs)
