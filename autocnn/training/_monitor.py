"""A Keras callback that records the curve and stops a trial on pruning, NaN loss, the deadline or Ctrl-C."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

import keras

from autocnn._stop import raise_if_stop_requested
from autocnn.core.records import EpochRecord

StopDecision = Callable[[EpochRecord], bool]


class FitStop(Enum):
    """Why a training run stopped."""

    COMPLETED = "completed"  # it trained every epoch asked for
    PRUNED = "pruned"  # ``on_epoch`` said stop
    NAN = "nan"  # the loss became NaN or infinite
    DEADLINE = "deadline"  # the deadline passed


class TrialMonitor(keras.callbacks.Callback):  # type: ignore[misc]
    """Record every epoch; stop when asked (pruning), on a non-finite loss, at a deadline, or on Ctrl-C.

    A Ctrl-C or SIGTERM whose KeyboardInterrupt a finalizer swallowed is raised again at the next step.
    """

    def __init__(
        self,
        *,
        on_epoch: StopDecision | None = None,
        deadline: float | None = None,
        learning_rate_hint: float | None = None,
    ) -> None:
        """Create a monitor; ``deadline`` is a ``time.monotonic()`` instant."""
        super().__init__()
        self.on_epoch = on_epoch
        self.deadline = deadline
        self.learning_rate_hint = learning_rate_hint
        self.curve: list[EpochRecord] = []
        self.stop_reason: FitStop | None = None
        self.message = ""
        self._epoch_started = 0.0
        self._step_ended: float | None = None
        self._steps: list[float] = []
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch clock."""
        self._epoch = epoch
        self._epoch_started = time.monotonic()
        self._step_ended = None
        self._steps = []

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Time the step; stop at once on a NaN/inf loss, when the deadline has passed or a stop was asked for."""
        raise_if_stop_requested()
        now = time.monotonic()
        # The epoch's first step also starts its input pipeline, so it is not timed.
        if self._step_ended is not None:
            self._steps.append(now - self._step_ended)
        self._step_ended = now
        loss = None if logs is None else logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            hint = (
                f" (learning rate {self.learning_rate_hint:g} may be too high)"
                if self.learning_rate_hint is not None
                else ""
            )
            self._stop(
                FitStop.NAN, f"loss became {float(loss)} at epoch {self._epoch + 1}, batch {batch + 1}{hint}"
            )
        elif self.deadline is not None and now >= self.deadline:
            self._stop(FitStop.DEADLINE, f"stopped at the time budget during epoch {self._epoch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch and ask whether to go on."""
        if self.stop_reason is not None:
            return
        logs = logs or {}
        record = EpochRecord(
            epoch=epoch + 1,
            loss=float(logs.get("loss", math.nan)),
            accuracy=float(logs.get("accuracy", math.nan)),
            val_loss=_optional(logs.get("val_loss")),
            val_accuracy=_optional(logs.get("val_accuracy")),
            seconds=time.monotonic() - self._epoch_started,
            step_seconds=statistics.median(self._steps) if self._steps else 0.0,
        )
        self.curve.append(record)
        if not math.isfinite(record.loss):
            self._stop(FitStop.NAN, f"loss became {record.loss} at epoch {record.epoch}")
        elif self.on_epoch is not None and self.on_epoch(record):
            self._stop(FitStop.PRUNED, f"pruned after epoch {record.epoch}")

    def _stop(self, reason: FitStop, message: str) -> None:
        self.stop_reason = reason
        self.message = message
        assert self.model is not None
        self.model.stop_training = True


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
