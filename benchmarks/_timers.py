"""Keras callbacks that time a benchmark's epochs or training steps."""

from __future__ import annotations

import time
from typing import Any

import keras


class EpochTimer(keras.callbacks.Callback):  # type: ignore[misc]
    """Records wall-clock seconds per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


class StepTimer(keras.callbacks.Callback):  # type: ignore[misc]
    """Records each training step's seconds after the first ``warmup_steps`` of an epoch."""

    def __init__(self, *, warmup_steps: int) -> None:
        super().__init__()
        self.warmup_steps = warmup_steps
        self.seconds: list[float] = []
        self._start = 0.0

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if batch >= self.warmup_steps:
            self.seconds.append(time.perf_counter() - self._start)
