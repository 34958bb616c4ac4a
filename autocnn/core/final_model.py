"""The final model: a trial's configuration retrained on train + validation, watched, and kept only if it holds up.

A slice of the validation split (the *guard*) is held back from the retrain. Neither the trial's
own model nor the retrained one trained on it, so both are scored on the same unseen images.
The retrain validates on the guard after every epoch and stops early when it collapses towards
chance or falls clearly below its own best epoch and stays there (it overfits). One retry follows
when the time allows: an overfitted retrain is trained again for a few times the epochs its best
took, on a schedule of that length; one clearly below what the trial reached, with half of the
learning rate. What is still clearly below the trial is replaced by the trial's own model.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autocnn._format import format_number_of
from autocnn.config import TrialConfig
from autocnn.core.records import EpochRecord, TrialRecord

if TYPE_CHECKING:
    import keras

    from autocnn.data import Dataset

__all__ = [
    "FinalModel",
    "FinalSource",
    "GuardScores",
    "acceptance_margin",
    "guard_indices",
    "guard_split",
    "image_accuracy",
    "retrain_guarded",
    "scored_image_count",
]

#: The guard holds at most this many images ...
GUARD_IMAGES = 1000
#: ... and at most this share of the validation split.
GUARD_SHARE = 0.5
#: A retrain is clearly worse when it scores at least this much (and two standard errors) below.
MIN_MARGIN = 0.02
#: A retrain that has not come this share of the way from chance to the trial's score after two
#: epochs in a row has collapsed.
COLLAPSE_SHARE = 0.25
#: The retry after a failed retrain uses this share of the learning rate and the next seed.
RETRY_LEARNING_RATE = 0.5
#: A retrain whose guard accuracy stays more than the acceptance margin below its best epoch for
#: this many epochs in a row, and for as many as its best took and this share of its planned
#: epochs (an early dip at full learning rate recovers), has overfitted ...
FALL_EPOCHS = 3
FALL_SHARE = 0.1
#: ... and is retried for this many times the epochs its best took (when that is at most half as long).
SHORTER_RETRY = 2


class FinalSource(str, Enum):
    """Where the kept final model comes from."""

    RETRAINED = "retrained"
    RETRAINED_LOWER_LR = "retrained_lower_lr"
    RETRAINED_SHORTER = "retrained_shorter"
    TRIAL_MODEL = "trial_model"

    @property
    def description(self) -> str:
        """Return a few words for people."""
        return {
            FinalSource.RETRAINED: "retrained on train + validation by the search",
            FinalSource.RETRAINED_LOWER_LR: "retrained on train + validation by the search at a lower learning rate",
            FinalSource.RETRAINED_SHORTER: (
                "retrained on train + validation by the search (a second, shorter retrain: the first overfitted)"
            ),
            FinalSource.TRIAL_MODEL: "the trial's own model, trained on the training split during the search",
        }[self]


@dataclass(frozen=True)
class GuardScores:
    """Accuracies on the held-back guard images, and the bar the retrain had to clear."""

    images: int
    kept: float
    retrained: float | None
    trial: float | None  # the trial's own model; None when it was not saved
    reference: float  # the trial's own model's score, else the trial's validation accuracy
    margin: float


@dataclass(frozen=True)
class FinalModel:
    """The model kept as final, where it comes from, and why."""

    model: keras.Model
    source: FinalSource
    config: TrialConfig
    reason: str  # "" when the retrain was kept as it is
    epochs: int
    train_seconds: float
    guard: GuardScores

    @property
    def acceptable(self) -> bool:
        """Whether the kept model is not clearly below what the trial reached."""
        return self.guard.kept >= self.guard.reference - self.guard.margin


@dataclass(frozen=True)
class _Attempt:
    model: keras.Model
    config: TrialConfig
    source: FinalSource
    label: str  # how the reasons name it: "the retrain", "the retry for 12 epochs"
    curve: list[EpochRecord]
    train_seconds: float
    score: float
    stopped: str  # "" when it ran its epochs (or to the deadline), else why it stopped early
    best_epoch: int | None  # the epoch of its best guard accuracy when it stopped because it overfitted


@dataclass(frozen=True)
class _Retry:
    config: TrialConfig
    epochs: int
    source: FinalSource
    label: str


def guard_split(dataset: Dataset, *, seed: int) -> Dataset:
    """Return the retrain's data: train + validation less a stratified guard, which becomes the validation split."""
    kept, guard = guard_indices(dataset, seed=seed)
    return dataclasses.replace(
        dataset,
        x_train=np.concatenate([dataset.x_train, dataset.x_val[kept]]),
        y_train=np.concatenate([dataset.y_train, dataset.y_val[kept]]),
        x_val=dataset.x_val[guard],
        y_val=dataset.y_val[guard],
    )


def guard_indices(dataset: Dataset, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the indices of ``dataset``'s validation images the retrain trains on, and of its guard."""
    from autocnn.data._splits import stratified_split

    share = min(GUARD_SHARE, GUARD_IMAGES / max(len(dataset.y_val), 1))
    return stratified_split(dataset.y_val, fraction=share, seed=seed)


def acceptance_margin(reference: float, *, images: int) -> float:
    """Return how far below ``reference`` a score on ``images`` guard images may be and still be kept.

    Two standard errors of the difference of two accuracies near ``reference``, plus one image,
    and at least ``MIN_MARGIN``: a healthy retrain is never refused for noise, a diverged one always is.
    """
    p = min(max(reference, 0.0), 1.0)
    n = max(images, 1)
    return max(MIN_MARGIN, 2 * math.sqrt(2 * p * (1 - p) / n) + 1 / n)


def scored_image_count(counts: np.ndarray, *, balanced: bool) -> int:
    """Return on how many images plain accuracy is as noisy as the score on images of ``counts`` per class.

    Balanced accuracy averages the classes' accuracies, so its variance near p is
    p(1 - p) * sum(1 / n_k) / K**2: plain accuracy's on K**2 / sum(1 / n_k) images (K times the
    classes' harmonic mean), fewer than all when the classes are unbalanced.
    """
    present = counts[counts > 0].astype(float)
    if not balanced or len(present) == 0:
        return int(present.sum())
    return max(1, math.floor(len(present) ** 2 / float(np.sum(1 / present))))


def retrain_guarded(
    trial: TrialRecord,
    dataset: Dataset,
    *,
    trial_model_path: Path | None,
    epochs: int,
    deadline: float | None,
    seed: int,
    config: TrialConfig | None = None,
    balanced_validation: bool = False,
    say: Callable[[str], None] | None = None,
) -> FinalModel:
    """Retrain ``trial``'s configuration on ``dataset``'s train + validation (less the guard); return the model to keep.

    ``config`` replaces the trial's configuration for the retrain (e.g. with other augmentation).
    ``trial_model_path`` is the trial's own saved model, the fallback; without it the bar is the
    trial's validation accuracy. ``balanced_validation``: the guard is judged by balanced accuracy,
    as the search judged its trials. ``say`` hears about a retry.
    """
    from autocnn.training import FitStop, fit_config

    assert trial.config is not None
    config = config or trial.config
    trial_number = trial.number
    trial_val_accuracy = trial.metrics.get("val_accuracy")
    tell = say or (lambda message: None)
    data = guard_split(dataset, seed=seed)
    images = len(data.y_val)
    counts = np.bincount(data.y_val)
    # predicting one class scores its share, or, balanced, one over the classes
    chance = float(1 / np.count_nonzero(counts) if balanced_validation else counts.max() / max(images, 1))
    trial_model = _load(trial_model_path)
    trial_score = (
        None if trial_model is None else validation_accuracy(trial_model, data, balanced=balanced_validation)
    )
    reference = trial_score if trial_score is not None else trial_val_accuracy
    if reference is None:
        reference = chance
    scored_images = scored_image_count(counts, balanced=balanced_validation)
    margin = acceptance_margin(reference, images=scored_images)

    def attempt(
        attempt_config: TrialConfig,
        attempt_epochs: int,
        attempt_seed: int,
        *,
        source: FinalSource,
        label: str,
    ) -> _Attempt:
        watch = _GuardWatch(chance=chance, reference=reference, images=scored_images, epochs=attempt_epochs)
        result = fit_config(
            attempt_config,
            data,
            epochs=attempt_epochs,
            on_epoch=watch,
            deadline=deadline,
            seed=attempt_seed,
            balanced_validation=balanced_validation,
        )
        nan = f"stopped when its {result.message.split(' (')[0]}" if result.stop_reason is FitStop.NAN else ""
        untrained = "" if result.curve else "trained no whole epoch before the deadline"
        return _Attempt(
            model=result.model,
            config=attempt_config,
            source=source,
            label=label,
            curve=result.curve,
            train_seconds=result.train_seconds,
            score=validation_accuracy(result.model, data, balanced=balanced_validation),
            stopped=watch.message or nan or untrained,
            best_epoch=watch.best_epoch if watch.fell else None,
        )

    first = attempt(config, epochs, seed, source=FinalSource.RETRAINED, label="the retrain")
    attempts = [first]
    retry = _retry(
        first, config=config, epochs=epochs, deadline=deadline, below=first.score < reference - margin
    )
    if retry is not None:
        below = "" if first.best_epoch is not None else f", below the trial's {reference:.4f}"
        tell(
            f"the retrain of trial #{trial_number} {_what_happened(first)} on {images} held-back validation "
            f"images{below}; retrying once {retry.label.removeprefix('the retry ')}"
        )
        attempts.append(attempt(retry.config, retry.epochs, seed + 1, source=retry.source, label=retry.label))
    # The retry is preferred: the retrain before it stopped clearly below the trial or mid-schedule on a fall.
    # An attempt that trained no epoch holds the network's initial weights: never a retrain to keep.
    trained = [item for item in attempts if item.curve]
    holding = [item for item in reversed(trained) if item.score >= reference - margin]
    if holding:
        kept = holding[0]
        reason = (
            ""
            if kept is first
            else (
                f"the first retrain {_what_happened(first)}; {kept.label} scored {kept.score:.4f} on {images} "
                "held-back validation images"
            )
        )
        return _kept(kept, reason, images=images, trial_score=trial_score, reference=reference, margin=margin)
    best = max(trained or attempts, key=lambda item: item.score)
    failed = ", ".join(f"{item.label} {_what_happened(item)}" for item in attempts) + (
        f" on {images} held-back validation images"
    )
    if trial_model is not None and trial_score is not None and (not trained or trial_score > best.score):
        below = "" if not trained else f", clearly below the trial's own model ({trial_score:.4f})"
        return FinalModel(
            model=trial_model,
            source=FinalSource.TRIAL_MODEL,
            config=trial.config,
            reason=f"{failed}{below}; kept the trial's own model",
            epochs=trial.epochs_trained,
            train_seconds=float(trial.metrics.get("train_time", 0.0)),
            guard=GuardScores(
                images=images,
                kept=trial_score,
                retrained=best.score,
                trial=trial_score,
                reference=reference,
                margin=margin,
            ),
        )
    below = f", clearly below the trial's validation accuracy ({reference:.4f})," if trained else ""
    reason = f"{failed}{below} and the trial's own model is not on this machine to fall back on"
    return _kept(best, reason, images=images, trial_score=trial_score, reference=reference, margin=margin)


def validation_accuracy(
    model: keras.Model, data: Dataset, *, balanced: bool = False, batch_size: int = 256
) -> float:
    """Return ``model``'s accuracy on ``data``'s validation split (a retrain's guard); ``balanced``: balanced accuracy.

    Eager calls, not ``predict``: a few batches, and no traced function per model to warn about.
    """
    return image_accuracy(model, data.x_val, data.y_val, balanced=balanced, batch_size=batch_size)


def image_accuracy(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    balanced: bool = False,
    batch_size: int = 256,
) -> float:
    """Return ``model``'s accuracy on ``images`` (NaN for none); ``balanced``: balanced accuracy."""
    from autocnn.data import balanced_accuracy

    if len(labels) == 0:
        return math.nan
    predicted = [
        np.argmax(
            np.nan_to_num(np.asarray(model(images[start : start + batch_size], training=False)), nan=-1.0),
            axis=-1,
        )
        for start in range(0, len(labels), batch_size)
    ]
    predicted_labels = np.concatenate(predicted)
    if balanced:
        return balanced_accuracy(predicted_labels, labels)
    return float(np.mean(predicted_labels == labels))


class _GuardWatch:
    """Stops a retrain whose guard accuracy collapses towards chance, or falls clearly below its best and stays there.

    Near chance for two epochs in a row is a collapse. More than the acceptance margin below the
    best epoch for ``FALL_EPOCHS`` epochs in a row (and as many as the best took, and
    ``FALL_SHARE`` of ``epochs``) is a fall (overfitting), watched only while a retry of
    ``SHORTER_RETRY`` times the best epoch's count would be at most half of ``epochs``.
    """

    def __init__(self, *, chance: float, reference: float, images: int, epochs: int) -> None:
        self.threshold = chance + COLLAPSE_SHARE * (reference - chance)
        self.watching = reference - chance >= 0.1
        self.images = images
        self.epochs = epochs
        self.low_epochs = 0
        self.best = -math.inf
        self.best_epoch = 0
        self.fallen_epochs = 0
        self.fell = False
        self.message = ""

    def __call__(self, record: EpochRecord) -> bool:
        accuracy = record.val_accuracy
        if accuracy is None:
            return False
        if self.watching:
            self.low_epochs = self.low_epochs + 1 if accuracy <= self.threshold else 0
            if self.low_epochs >= 2:
                self.message = f"collapsed towards chance by epoch {record.epoch}"
                return True
        if accuracy > self.best:
            self.best, self.best_epoch, self.fallen_epochs = accuracy, record.epoch, 0
            return False
        # The best of many epochs is a lucky draw; near 100% on few images its standard error would
        # vanish, so it is estimated with two right and two wrong images added (Agresti-Coull).
        shrunk = (self.best * self.images + 2) / (self.images + 4)
        fallen = accuracy < self.best - acceptance_margin(shrunk, images=self.images)
        self.fallen_epochs = self.fallen_epochs + 1 if fallen else 0
        needed = max(FALL_EPOCHS, self.best_epoch, math.ceil(FALL_SHARE * self.epochs))
        if self.fallen_epochs < needed or 2 * SHORTER_RETRY * self.best_epoch > self.epochs:
            return False
        self.fell = True
        self.message = (
            f"fell from {self.best:.4f} at epoch {self.best_epoch} to {accuracy:.4f} by epoch {record.epoch}"
        )
        return True


def _what_happened(attempt: _Attempt) -> str:
    stopped = f"{attempt.stopped} and " if attempt.stopped else ""
    return f"{stopped}scored {attempt.score:.4f}"


def _retry(
    first: _Attempt, *, config: TrialConfig, epochs: int, deadline: float | None, below: bool
) -> _Retry | None:
    """Return the retry after ``first``, or None when none is due or fits.

    An overfitted retrain is retried for ``SHORTER_RETRY`` times its best epoch's count, when at
    least that best epoch's count fits; one clearly below the trial (``below``), at half of the
    learning rate for the epochs that fit.
    """
    if first.best_epoch is not None:
        shorter = _retry_epochs(first, epochs=SHORTER_RETRY * first.best_epoch, deadline=deadline)
        if shorter < first.best_epoch:
            return None
        return _Retry(
            config,
            shorter,
            FinalSource.RETRAINED_SHORTER,
            f"the retry for {format_number_of(shorter, 'epoch')}",
        )
    retry_epochs = _retry_epochs(first, epochs=epochs, deadline=deadline)
    if not below or retry_epochs == 0:
        return None
    lower = _lower_learning_rate(config)
    rate = lower.training.learning_rate
    label = f"the retry at learning rate {rate:.2g} for {format_number_of(retry_epochs, 'epoch')}"
    return _Retry(lower, retry_epochs, FinalSource.RETRAINED_LOWER_LR, label)


def _retry_epochs(first: _Attempt, *, epochs: int, deadline: float | None) -> int:
    """Return the epochs a retry gets: all of them without a deadline, else those that fit the time left."""
    if deadline is None:
        return epochs
    if not first.curve:
        return 0
    epoch_seconds = statistics.median(record.seconds for record in first.curve)
    remaining = deadline - time.monotonic()
    return max(0, min(epochs, int(remaining // max(epoch_seconds, 1e-9))))


def _lower_learning_rate(config: TrialConfig) -> TrialConfig:
    training = config.training
    return config.model_copy(
        update={
            "training": training.model_copy(
                update={"learning_rate": training.learning_rate * RETRY_LEARNING_RATE}
            )
        }
    )


def _kept(
    attempt: _Attempt,
    reason: str,
    *,
    images: int,
    trial_score: float | None,
    reference: float,
    margin: float,
) -> FinalModel:
    return FinalModel(
        model=attempt.model,
        source=attempt.source,
        config=attempt.config,
        reason=reason,
        epochs=len(attempt.curve),
        train_seconds=attempt.train_seconds,
        guard=GuardScores(
            images=images,
            kept=attempt.score,
            retrained=attempt.score,
            trial=trial_score,
            reference=reference,
            margin=margin,
        ),
    )


def _load(path: Path | None) -> keras.Model | None:
    import keras

    if path is None or not path.exists():
        return None
    return keras.models.load_model(path, compile=False)
