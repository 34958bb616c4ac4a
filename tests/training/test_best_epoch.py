"""A run's best validation epoch: its weights are put back only when it is clearly ahead of the last."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autocnn.training._best_epoch import BestEpochWeights


def _model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    return model


def _run(accuracies: list[float], *, margin: float) -> tuple[keras.Model, BestEpochWeights, int | None]:
    """Epoch k sets every weight to k, then reports ``accuracies[k - 1]``; return the model after restore."""
    model = _model()
    keeper = BestEpochWeights(margin=margin)
    keeper.set_model(model)
    for epoch, accuracy in enumerate(accuracies):
        model.set_weights([np.full_like(w, epoch + 1) for w in model.get_weights()])
        keeper.on_epoch_end(epoch, {"val_accuracy": accuracy, "loss": 1.0})
    return model, keeper, keeper.restore()


def test_the_best_epochs_weights_come_back_when_the_run_ended_clearly_worse():
    model, keeper, restored = _run([0.5, 0.97, 0.9, 0.6], margin=0.05)
    assert restored == 2 and keeper.best_accuracy == pytest.approx(0.97)
    assert all(np.all(weights == 2) for weights in model.get_weights())


def test_the_last_epoch_stays_when_the_best_is_ahead_by_no_more_than_the_margin():
    model, _, restored = _run([0.5, 0.97, 0.93], margin=0.05)
    assert restored is None
    assert all(np.all(weights == 3) for weights in model.get_weights())


def test_a_run_without_validation_keeps_its_last_weights():
    model = _model()
    keeper = BestEpochWeights(margin=0.0)
    keeper.set_model(model)
    keeper.on_epoch_end(0, {"loss": 1.0})
    assert keeper.restore() is None
