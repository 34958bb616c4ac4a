"""The augmentation check: the winner trained with each augmentation the space allows, as long as the retrain.

A trial of a few epochs cannot see what augmentation gives a retrain of many: augmentation pays
once the network has seen the same images many times, and until then it only slows learning, so
short trials choose none and the long retrain overfits. The check trains the best configuration
once per combination of the space's augmentation values, each for about the retrain's epochs on a
small part of the training split (the regime where augmentation shows, at a fraction of the
cost), judged on the whole validation split. The retrain then uses the best combination, unless
it beats the winner's own by less than the validation split can tell apart. Each result is stored
as soon as it is known, so a search run again goes on where the check stopped.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from autocnn._format import format_number_of, format_seconds
from autocnn._stop import raise_if_stop_requested
from autocnn.config import AugmentationConfig, TrialConfig
from autocnn.core.callbacks import SearchCallback, say_retrain_note
from autocnn.core.fidelity import retrain_reserve, rung_epoch_seconds, trial_dataset
from autocnn.core.records import EpochRecord, TrialRecord
from autocnn.space import FloatRange, SearchSpace

if TYPE_CHECKING:
    from autocnn.core.plan import SearchPlan
    from autocnn.core.study import Study
    from autocnn.data import Dataset

__all__ = [
    "CHECK_ATTR",
    "MAX_VARIANTS",
    "AugmentationCheckResult",
    "AugmentationRun",
    "augmentation_key",
    "augmentation_variants",
    "check_of",
    "check_reserve",
    "checked_config",
    "choose",
    "describe_augmentation",
    "read_check",
    "run_augmentation_check",
]

CHECK_ATTR = "augmentation_check"
#: More combinations than this are not checked (the space's augmentation is left to the trials).
MAX_VARIANTS = 4
#: A check run shorter than this share of its planned epochs judges too early; the check is skipped.
LEAST_EPOCH_SHARE = 0.5
#: A check run started in time may run this share of its predicted seconds past the check's end.
RUN_GRACE = 0.5
_LABELS = {
    "rotation": "rotate",
    "translation": "shift",
    "zoom": "zoom",
    "contrast": "contrast",
    "erasing": "erase",
}


@dataclass(frozen=True)
class AugmentationRun:
    """One check run: the winner trained with ``augmentation``, and its validation accuracy."""

    augmentation: AugmentationConfig
    epochs: int
    val_accuracy: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {**asdict(self), "augmentation": self.augmentation.model_dump()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentationRun:
        """Read a dict made by :meth:`to_dict`."""
        return cls(**{**data, "augmentation": AugmentationConfig.model_validate(data["augmentation"])})


@dataclass(frozen=True)
class AugmentationCheckResult:
    """The check of one trial: its runs so far (the trial's own augmentation first) and the choice."""

    trial_number: int
    planned_epochs: int
    train_images: int
    validation_images: int
    runs: tuple[AugmentationRun, ...]

    @property
    def completed(self) -> tuple[AugmentationRun, ...]:
        """The runs that trained all their planned epochs; only those are compared."""
        return tuple(run for run in self.runs if run.epochs >= self.planned_epochs)

    @property
    def chosen(self) -> AugmentationRun | None:
        """The run whose augmentation the retrain uses; None keeps the trial's own (also when it was not run whole)."""
        if not self.runs or self.runs[0].epochs < self.planned_epochs:
            return None
        return choose(self.completed, validation_images=self.validation_images)

    @property
    def time_ratio(self) -> float:
        """How much longer the chosen augmentation trained than the trial's own (1.0: the trial's own kept)."""
        chosen = self.chosen
        own = self.runs[0] if self.runs else None
        if chosen is None or own is None or own.seconds <= 0:
            return 1.0
        return chosen.seconds / own.seconds

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {**asdict(self), "runs": [run.to_dict() for run in self.runs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentationCheckResult:
        """Read a dict made by :meth:`to_dict`."""
        return cls(**{**data, "runs": tuple(AugmentationRun.from_dict(item) for item in data["runs"])})


def augmentation_variants(space: SearchSpace, own: AugmentationConfig) -> list[AugmentationConfig]:
    """Return ``own`` and every other combination of the space's augmentation values (a range: its ends).

    Empty when the space fixes its augmentation or allows more than ``MAX_VARIANTS`` combinations.
    """
    options: dict[str, tuple[Any, ...]] = {}
    for name, dimension in space.training.augmentation.dimensions().items():
        if isinstance(dimension, FloatRange):
            options[name] = (dimension.low, dimension.high)
        else:
            options[name] = tuple(dimension.values())
    combinations = [
        dict(zip(options, values, strict=True)) for values in itertools.product(*options.values())
    ]
    if not 1 < len(combinations) <= MAX_VARIANTS:
        return []
    others = [AugmentationConfig.model_validate(values) for values in combinations]
    return [own, *(variant for variant in others if variant != own)]


def choose(runs: Sequence[AugmentationRun], *, validation_images: int) -> AugmentationRun | None:
    """Return the best run if it beats the first (the trial's own augmentation) by a standard error; else None.

    The standard error is that of the first run's accuracy on ``validation_images`` images: a gain
    smaller than it is as likely noise as augmentation.
    """
    if len(runs) < 2:
        return None
    own, best = runs[0], max(runs, key=lambda run: run.val_accuracy)
    error = math.sqrt(own.val_accuracy * (1 - own.val_accuracy) / max(validation_images, 1))
    return best if best.val_accuracy > own.val_accuracy + error else None


def read_check(optuna_study: Any) -> AugmentationCheckResult | None:
    """Return the augmentation check stored in ``optuna_study``, if any."""
    data = optuna_study.user_attrs.get(CHECK_ATTR)
    return None if data is None else AugmentationCheckResult.from_dict(data)


def check_of(study: Study, trial: TrialRecord) -> AugmentationCheckResult | None:
    """Return the augmentation check ``study`` holds for ``trial``, if any."""
    check = study.augmentation_check
    return check if check is not None and check.trial_number == trial.number else None


def checked_config(study: Study, trial: TrialRecord) -> TrialConfig:
    """Return ``trial``'s configuration with the augmentation the check chose for it (else unchanged)."""
    config = trial.config
    assert config is not None
    check = check_of(study, trial)
    chosen = None if check is None else check.chosen
    if chosen is None:
        return config
    training = config.training.model_copy(update={"augmentation": chosen.augmentation})
    return config.model_copy(update={"training": training})


def augmentation_key(augmentation: AugmentationConfig) -> str:
    """Return :func:`describe_augmentation` as a metric-name part, e.g. ``flip_horizontal_and_shift_0.06``."""
    return describe_augmentation(augmentation).replace(", ", "_and_").replace(" ", "_")


def describe_augmentation(augmentation: AugmentationConfig) -> str:
    """Return e.g. ``flip horizontal, shift 0.06`` or ``none``."""
    parts = [] if augmentation.flip == "none" else [f"flip {augmentation.flip}"]
    parts += [
        f"{label} {getattr(augmentation, name):g}"
        for name, label in _LABELS.items()
        if getattr(augmentation, name)
    ]
    return ", ".join(parts) or "none"


def check_reserve(
    space: SearchSpace,
    *,
    best: TrialRecord,
    trials: Sequence[TrialRecord],
    trial_data: Dataset,
    full_data: Dataset,
    budget_s: float | None,
) -> float:
    """Return the seconds the search keeps for the check of ``best``: its runs, at most its share of ``budget_s``."""
    settings = space.search.augmentation_check
    if not settings.epochs or best.config is None:
        return 0.0
    variants = augmentation_variants(space, best.config.training.augmentation)
    epoch_seconds = rung_epoch_seconds(
        best,
        trials=trials,
        trial_data=trial_data,
        full_data=full_data,
        train_images=round(settings.train_fraction * len(full_data.x_train)),
        validated=False,
    )
    if not variants or epoch_seconds is None:
        return 0.0
    seconds = len(variants) * settings.epochs * epoch_seconds
    return seconds if budget_s is None else min(seconds, settings.share * budget_s)


def run_augmentation_check(
    study: Study,
    *,
    plan: SearchPlan,
    dataset: Dataset,
    callbacks: Sequence[SearchCallback],
    deadline: float | None,
) -> AugmentationCheckResult | None:
    """Train the best trial with each augmentation variant before the retrain's time; store each run; return the check.

    The retrain keeps its time before ``deadline`` (None: no limit). Fewer epochs than planned are run
    when that is what fits (all variants the same, at least ``LEAST_EPOCH_SHARE`` of them), else
    the check is skipped, said through ``callbacks``; so are the runs that, timed by the runs before
    them, no longer fit. A check of the same trial stored by an earlier call goes on with the runs it lacks.
    """
    settings = plan.space.search.augmentation_check
    ranked = study.ranked()
    if not settings.epochs or not ranked or len(plan.space.search.objective) != 1:
        return None
    best = ranked[0]
    assert best.config is not None
    variants = augmentation_variants(plan.space, best.config.training.augmentation)
    if not variants:
        return None
    earlier = study.augmentation_check
    done = [] if earlier is None or earlier.trial_number != best.number else list(earlier.completed)
    whole = [run.augmentation for run in done]
    # Other runs are compared only with the trial's own: without it whole, the check starts again.
    if variants[0] not in whole:
        earlier, done, whole = None, [], []
    waiting = [variant for variant in variants if variant not in whole]
    if not waiting:
        return earlier
    data = dataset.subset(settings.train_fraction, seed=plan.seed)
    epochs = settings.epochs if earlier is None else earlier.planned_epochs
    trials = study.trials()
    trial_data = trial_dataset(dataset, plan.space.search, seed=plan.seed)
    end = (
        None
        if deadline is None
        else deadline
        - retrain_reserve([best], plan=plan, trials=trials, trial_data=trial_data, dataset=dataset)
    )
    epoch_seconds = rung_epoch_seconds(
        best,
        trials=trials,
        trial_data=trial_data,
        full_data=dataset,
        train_images=len(data.x_train),
        validated=False,
    )
    if end is not None and earlier is None:
        left = max(end - time.monotonic(), 0.0)
        if epoch_seconds:
            epochs = min(epochs, int(left // (epoch_seconds * len(waiting))))
        if epochs < max(1, math.ceil(LEAST_EPOCH_SHARE * settings.epochs)):
            say_retrain_note(
                callbacks,
                f"augmentation check: skipped, {format_number_of(len(waiting), 'run')} of "
                f"{format_number_of(math.ceil(LEAST_EPOCH_SHARE * settings.epochs), 'epoch')} do not fit in the "
                f"{format_seconds(left)} before the retrain",
            )
            return None
    say_retrain_note(
        callbacks,
        f"augmentation check: trial #{best.number} trains {format_number_of(epochs, 'epoch')} on "
        f"{len(data.x_train):,} images with each of {len(variants)} augmentations "
        f"({'; '.join(describe_augmentation(variant) for variant in variants)})",
    )
    result = AugmentationCheckResult(
        trial_number=best.number,
        planned_epochs=epochs,
        train_images=len(data.x_train),
        validation_images=len(data.x_val),
        runs=tuple(done),
    )
    for index, variant in enumerate(waiting):
        raise_if_stop_requested()
        measured = [run.seconds / run.epochs for run in result.runs if run.epochs]
        epoch_seconds = max(measured) if measured else epoch_seconds
        predicted = None if epoch_seconds is None else epoch_seconds * epochs
        if end is not None and predicted is not None and time.monotonic() + predicted > end:
            skipped = "; ".join(describe_augmentation(item) for item in waiting[index:])
            say_retrain_note(
                callbacks,
                f"augmentation check: not run ({skipped}): a run takes about {format_seconds(predicted)}, "
                f"{format_seconds(max(end - time.monotonic(), 0.0))} are left before the retrain",
            )
            break
        run = _train(
            best.config,
            variant,
            data=data,
            epochs=epochs,
            seed=plan.seed + best.number,
            end=_run_deadline(end, predicted=predicted, deadline=deadline),
            balanced=plan.space.search.balanced_validation,
        )
        ordered = sorted((*result.runs, run), key=lambda item: variants.index(item.augmentation))
        result = replace(result, runs=tuple(ordered))
        study.optuna_study.set_user_attr(CHECK_ATTR, result.to_dict())
        for callback in callbacks:
            callback.on_augmentation_check_run(best.number, run)
        say_retrain_note(
            callbacks,
            f"augmentation check: {describe_augmentation(variant)}: {run.val_accuracy:.4f} validation accuracy"
            + ("" if run.epochs >= epochs else f" (cut at {run.epochs} of {epochs} epochs by the deadline)"),
        )
    chosen = result.chosen
    say_retrain_note(
        callbacks,
        "augmentation check: the retrain uses "
        + (
            f"{describe_augmentation(chosen.augmentation)}"
            if chosen is not None
            else f"the trial's own augmentation ({describe_augmentation(variants[0])})"
        ),
    )
    return result


def _run_deadline(end: float | None, *, predicted: float | None, deadline: float | None) -> float | None:
    """Return when a check run that started before ``end`` is cut: ``RUN_GRACE`` of its predicted time past it.

    A run cut short is wasted (only whole runs are compared), so one that its prediction let start
    may overrun the check's end a little, taking those seconds from the retrain, never past ``deadline``.
    """
    if end is None:
        return None
    grace = 0.0 if predicted is None else RUN_GRACE * predicted
    return end + grace if deadline is None else min(end + grace, deadline)


def _train(
    config: TrialConfig,
    augmentation: AugmentationConfig,
    *,
    data: Dataset,
    epochs: int,
    seed: int,
    end: float | None,
    balanced: bool,
) -> AugmentationRun:
    """Train ``config`` with ``augmentation`` on ``data`` for ``epochs``; return its final validation accuracy.

    ``balanced``: the balanced accuracy, as the search judged its trials.
    """
    from autocnn.core.final_model import validation_accuracy
    from autocnn.core.loop import release_memory
    from autocnn.training import fit_config

    def on_epoch(epoch: EpochRecord) -> bool:
        raise_if_stop_requested()
        return False

    training = config.training.model_copy(update={"augmentation": augmentation})
    fitted = fit_config(
        config.model_copy(update={"training": training}),
        data,
        epochs=epochs,
        on_epoch=on_epoch,
        deadline=end,
        validate=False,
        seed=seed,
    )
    run = AugmentationRun(
        augmentation=augmentation,
        epochs=len(fitted.curve),
        val_accuracy=validation_accuracy(fitted.model, data, balanced=balanced),
        seconds=fitted.train_seconds,
    )
    del fitted
    release_memory()
    return run
