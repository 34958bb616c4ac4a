"""Multi-fidelity: the data a search trial trains on, and how long the final retrain may run."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

from autocnn.config import TrialConfig
from autocnn.core.records import EpochRecord, TrialRecord
from autocnn.space import SearchSettings

if TYPE_CHECKING:
    from autocnn.core.plan import SearchPlan
    from autocnn.data import Dataset

RETRAIN_SAFETY = 1.05
# An image evaluated (forward pass only) costs about a third of an image trained on; used for
# epochs recorded without their steps' time.
EVALUATION_COST = 1 / 3
# Epoch time is about proportional to FLOPs only between networks of similar size: small ones
# spend most of an epoch on per-batch overhead.
SIMILAR_FLOPS = 1.5


def trial_dataset(dataset: Dataset, settings: SearchSettings, *, seed: int) -> Dataset:
    """Return the data search trials train on: a stratified ``trial_train_fraction`` of the training split.

    The validation and test splits stay whole, so every trial is judged on the same images.
    """
    if settings.trial_train_fraction >= 1:
        return dataset
    return dataset.subset(settings.trial_train_fraction, seed=seed)


def planned_retrain_epochs(settings: SearchSettings, config: TrialConfig) -> int:
    """Return the epochs the final retrain asks for: ``retrain_epochs``, else the trial's own."""
    return settings.retrain_epochs or config.training.epochs


def retrain_epoch_seconds(
    best: TrialRecord, *, trials: Sequence[TrialRecord] = (), trial_data: Dataset, full_data: Dataset
) -> float | None:
    """Estimate one retrain epoch's seconds from the trials' training steps, scaled to the retrain's data.

    A trial's epoch trains on ``trial_data``'s training split and then evaluates its validation
    split, and restarts its input pipeline; the retrain's epoch trains on ``full_data``'s
    train + validation and evaluates nothing. So the estimate is a trial's median training step
    per image times the retrain's images. On a shared machine one epoch can take twice as long as
    the next of the same network, so it pools every epoch of every trial within ``SIMILAR_FLOPS``
    of the best network's FLOPs, each scaled to them; without FLOPs, the best trial's own epochs.
    """
    per_image = _median_seconds_per_image(best, trials, trial_data=trial_data)
    if per_image is None:
        return None
    return per_image * (len(full_data.x_train) + len(full_data.x_val)) * RETRAIN_SAFETY


def rung_epoch_seconds(
    best: TrialRecord,
    *,
    trials: Sequence[TrialRecord] = (),
    trial_data: Dataset,
    full_data: Dataset,
    train_images: int | None = None,
    validated: bool = True,
) -> float | None:
    """Estimate one final-rung epoch's seconds: a trial's whole epoch, scaled from its training images to all of them.

    A whole epoch (training, validation, the input pipeline's start) rather than the training steps
    alone, since on small data the rest is most of an epoch. Pooled like :func:`retrain_epoch_seconds`.
    ``train_images`` replaces all of ``full_data``'s training images, and ``validated=False`` leaves
    out the validation (the augmentation check's runs judge once, at their end).
    """
    scaled = [
        epoch.seconds / ratio
        for trial, ratio in _similar(best, trials)
        for epoch in trial.curve
        if epoch.seconds > 0
    ]
    if not scaled:
        return None
    validation = EVALUATION_COST * len(full_data.x_val)
    images = len(full_data.x_train) if train_images is None else train_images
    scale = (images + (validation if validated else 0.0)) / max(len(trial_data.x_train) + validation, 1.0)
    return statistics.median(scaled) * scale * RETRAIN_SAFETY


def _similar(best: TrialRecord, trials: Sequence[TrialRecord]) -> list[tuple[TrialRecord, float]]:
    """Return ``best`` (ratio 1) and the trials within ``SIMILAR_FLOPS`` of its FLOPs, with their FLOPs ratio."""
    pooled = [(best, 1.0)]
    if best.flops:
        for trial in trials:
            if trial.number != best.number and trial.flops:
                ratio = trial.flops / best.flops
                if 1 / SIMILAR_FLOPS <= ratio <= SIMILAR_FLOPS:
                    pooled.append((trial, ratio))
    return pooled


def _median_seconds_per_image(
    best: TrialRecord, trials: Sequence[TrialRecord], *, trial_data: Dataset
) -> float | None:
    """Return the median seconds per trained image for the best network, pooled over trials of similar FLOPs."""
    scaled = [
        _seconds_per_image(trial, epoch, trial_data=trial_data) / ratio
        for trial, ratio in _similar(best, trials)
        for epoch in trial.curve
    ]
    return statistics.median(scaled) if scaled else None


def _seconds_per_image(trial: TrialRecord, epoch: EpochRecord, *, trial_data: Dataset) -> float:
    """Return the seconds one trained image took in ``trial``'s ``epoch``."""
    if epoch.step_seconds > 0 and trial.config is not None:
        return epoch.step_seconds / trial.config.training.batch_size
    # Epochs recorded without their steps' time: an evaluated image costs about a third of a trained one.
    return epoch.seconds / max(len(trial_data.x_train) + len(trial_data.x_val) * EVALUATION_COST, 1.0)


def retrain_epochs_within(planned: int, *, epoch_seconds: float | None, remaining_s: float | None) -> int:
    """Return the planned epochs, cut to what fits in ``remaining_s`` (at least one epoch)."""
    if remaining_s is None or epoch_seconds is None or epoch_seconds <= 0:
        return planned
    return max(1, min(planned, int(remaining_s // epoch_seconds)))


def retrain_reserve(
    candidates: Sequence[TrialRecord],
    *,
    plan: SearchPlan,
    trials: Sequence[TrialRecord],
    trial_data: Dataset,
    dataset: Dataset,
) -> float:
    """Return the seconds the retrain of the slowest candidate keeps, at most its share of the budget."""
    settings = plan.space.search
    longest = 0.0
    for record in candidates:
        assert record.config is not None
        epoch_seconds = retrain_epoch_seconds(record, trials=trials, trial_data=trial_data, full_data=dataset)
        if epoch_seconds is not None:
            longest = max(longest, epoch_seconds * planned_retrain_epochs(settings, record.config))
    budget = plan.limits.timeout_s
    return longest if budget is None else min(longest, settings.retrain_share * budget)
