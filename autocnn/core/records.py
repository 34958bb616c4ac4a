"""What autocnn records about each trial, and how a record is read back from the study storage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from autocnn.config import TrialConfig


class TrialStatus(StrEnum):
    """How a trial ended (or that it is still running or waiting); stored as its value."""

    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    REJECTED = "rejected"  # the configuration cannot be built or breaks a constraint; never trained
    INTERRUPTED = "interrupted"
    RUNNING = "running"
    WAITING = "waiting"

    @property
    def counts(self) -> bool:
        """Whether the trial counts towards ``max_trials`` (it trained, whatever came of it)."""
        return self in (TrialStatus.COMPLETE, TrialStatus.PRUNED, TrialStatus.FAILED)

    @classmethod
    def of(cls, trial: Any) -> TrialStatus:
        """Return the status of an Optuna trial: the one autocnn recorded, else its Optuna state."""
        state = str(trial.state.name)
        recorded = trial.user_attrs.get(STATUS_ATTR)
        if recorded is not None and state not in ("RUNNING", "WAITING"):
            return cls(recorded)
        return _STATE_STATUS.get(state, cls.FAILED)


class LoopEnd(Enum):
    """Why a process's trial loop returned."""

    DONE = "done"  # a limit was reached: no other trial starts in this process
    RECYCLE = "recycle"  # the worker ran its quota or outgrew its memory; start a fresh process


STATUS_ATTR = "status"
REASON_ATTR = "reason"
CONFIG_ATTR = "config"
METRICS_ATTR = "metrics"
CURVE_ATTR = "curve"
WORKER_ATTR = "worker"
SEED_ATTR = "seed_name"
SEED_INDEX_ATTR = "seed_index"
RETRY_OF_ATTR = "retry_of"
RETRIED_ATTR = "retried"  # a lost trial whose retry takes its place (set before it is failed)
DEVICE_ATTR = "device"
ARCHITECTURE_ATTR = "architecture"  # the one-line description, for optuna-dashboard and plain Optuna users


@dataclass(frozen=True)
class EpochRecord:
    """Metrics of one training epoch (validation metrics are absent in a final retrain)."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float | None = None
    val_accuracy: float | None = None
    seconds: float = 0.0
    step_seconds: float = 0.0  # the median training step (one batch) of the epoch; 0 when unknown

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "epoch": self.epoch,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "seconds": self.seconds,
            "step_seconds": self.step_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRecord:
        """Read a dict made by :meth:`to_dict`."""
        return cls(
            epoch=int(data["epoch"]),
            loss=float(data["loss"]),
            accuracy=float(data["accuracy"]),
            val_loss=None if data.get("val_loss") is None else float(data["val_loss"]),
            val_accuracy=None if data.get("val_accuracy") is None else float(data["val_accuracy"]),
            seconds=float(data.get("seconds", 0.0)),
            step_seconds=float(data.get("step_seconds", 0.0)),
        )


@dataclass(frozen=True)
class RungResult:
    """One top trial trained again by the final rung: longer, on the whole training split."""

    trial_number: int
    epochs: int  # epochs it trained (fewer than planned when the deadline cut it)
    planned_epochs: int
    train_images: int
    val_accuracy: float
    val_loss: float
    trial_val_accuracy: float | None  # what the trial itself reached, for comparison
    seconds: float
    replaced_trial_model: bool = False  # its model became the trial's saved model (it scored higher)

    @property
    def completed(self) -> bool:
        """Whether it ran all its planned epochs; only those are compared."""
        return self.epochs >= self.planned_epochs

    def metric(self, name: str) -> float:
        """Return its ``val_accuracy`` or ``val_loss``."""
        return self.val_accuracy if name == "val_accuracy" else self.val_loss

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RungResult:
        """Read a dict made by :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the study storage holds it: its configuration, outcome, metrics and curve."""

    number: int
    status: TrialStatus
    config: TrialConfig | None
    values: tuple[float, ...] | None = None
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    curve: tuple[EpochRecord, ...] = ()
    started: datetime | None = None
    finished: datetime | None = None
    worker: str = ""
    device: str = ""
    seed_name: str = ""
    retry_of: int | None = None

    @property
    def val_accuracy(self) -> float | None:
        """Validation accuracy at the last trained epoch."""
        return self.metrics.get("val_accuracy")

    @property
    def params(self) -> int | None:
        """Number of parameters of the network."""
        value = self.metrics.get("params")
        return None if value is None else int(value)

    @property
    def flops(self) -> int | None:
        """FLOPs of one forward pass."""
        value = self.metrics.get("flops")
        return None if value is None else int(value)

    @property
    def epochs_trained(self) -> int:
        """How many epochs were trained (fewer than configured when pruned or stopped)."""
        return len(self.curve)

    @property
    def duration(self) -> float | None:
        """Wall time from start to end in seconds."""
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()


def record_from_trial(trial: Any) -> TrialRecord:
    """Build a TrialRecord from an Optuna FrozenTrial whose user attributes autocnn wrote."""
    attrs = trial.user_attrs
    status = TrialStatus.of(trial)
    config_data = attrs.get(CONFIG_ATTR)
    config = TrialConfig.from_dict(config_data) if config_data is not None else None
    values = tuple(float(value) for value in trial.values) if trial.values is not None else None
    return TrialRecord(
        number=int(trial.number),
        status=status,
        config=config,
        values=values,
        reason=str(attrs.get(REASON_ATTR, "")),
        metrics={
            key: float(value) for key, value in attrs.get(METRICS_ATTR, {}).items() if value is not None
        },
        curve=tuple(EpochRecord.from_dict(item) for item in attrs.get(CURVE_ATTR, [])),
        started=trial.datetime_start,
        finished=trial.datetime_complete,
        worker=str(attrs.get(WORKER_ATTR, "")),
        device=str(attrs.get(DEVICE_ATTR, "")),
        seed_name=str(attrs.get(SEED_ATTR, "")),
        retry_of=attrs.get(RETRY_OF_ATTR),
    )


_STATE_STATUS = {
    "COMPLETE": TrialStatus.COMPLETE,
    "PRUNED": TrialStatus.PRUNED,
    "FAIL": TrialStatus.FAILED,
    "RUNNING": TrialStatus.RUNNING,
    "WAITING": TrialStatus.WAITING,
}
