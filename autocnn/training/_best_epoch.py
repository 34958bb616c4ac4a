"""The weights of a run's best validation epoch, put back when the run ended clearly worse."""

from __future__ import annotations

from typing import Any

import keras


class BestEpochWeights(keras.callbacks.Callback):  # type: ignore[misc]
    """Keeps the weights of the epoch with the best validation accuracy; :meth:`restore` puts them back.

    A long run can end well below its best epoch (seen: a 60-epoch retrain on 100 small classes
    peaked at 97.5% held-back accuracy by epoch 6 and ended at 60%). Weights are put back only when
    the best epoch beats the last by more than ``margin``, so noise on a small validation split
    never trades the last epoch for an earlier one.
    """

    def __init__(self, *, margin: float) -> None:
        super().__init__()
        self.margin = margin
        self.best_accuracy = float("-inf")
        self.best_epoch: int | None = None
        self.last_accuracy: float | None = None
        self._best_weights: list[Any] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember this epoch's weights when its validation accuracy is the best so far."""
        accuracy = (logs or {}).get("val_accuracy")
        if accuracy is None:
            return
        self.last_accuracy = float(accuracy)
        if self.last_accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch = self.last_accuracy, epoch + 1
            self._best_weights = self.model.get_weights()

    def restore(self) -> int | None:
        """Put the best epoch's weights back if it beat the last by more than ``margin``; return its number."""
        if self._best_weights is None or self.last_accuracy is None:
            return None
        if self.best_accuracy <= self.last_accuracy + self.margin:
            return None
        self.model.set_weights(self._best_weights)
        return self.best_epoch
