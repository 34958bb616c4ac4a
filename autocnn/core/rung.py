"""The final rung: the top trials trained again, longer and on all training images, before the retrain.

Trials judged after a few epochs on part of the data favour networks that learn fast over those
that gain most from long training (more augmentation, more regularisation). The rung trains the
top ``final_rung.candidates`` configurations for ``final_rung.epochs`` on the whole training
split, judged on the whole validation split, and the study ranks the trials it judged first,
by that judgement. Each result is stored as soon as it is known, so a killed rung loses one run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autocnn._files import replacing
from autocnn._format import format_seconds
from autocnn._stop import raise_if_stop_requested
from autocnn.core.callbacks import SearchCallback
from autocnn.core.fidelity import (
    planned_retrain_epochs,
    retrain_epoch_seconds,
    rung_epoch_seconds,
    trial_dataset,
)
from autocnn.core.records import EpochRecord, RungResult, TrialRecord

if TYPE_CHECKING:
    from autocnn.core.plan import SearchPlan
    from autocnn.core.study import Study
    from autocnn.data import Dataset
    from autocnn.space import Objective

__all__ = ["RUNG_ATTR", "rank_with_rung", "read_rung", "run_final_rung"]

RUNG_ATTR = "final_rung"


def read_rung(optuna_study: Any) -> tuple[RungResult, ...]:
    """Return the final rung's results stored in ``optuna_study``, in the order they ran."""
    return tuple(RungResult.from_dict(item) for item in optuna_study.user_attrs.get(RUNG_ATTR, ()))


def rank_with_rung(
    ranked: Sequence[TrialRecord], results: Sequence[RungResult], objective: Objective
) -> list[TrialRecord]:
    """Return ``ranked`` with the trials the rung judged (completed runs) first, best rung result first."""
    judged = {result.trial_number: result for result in results if result.completed}
    if not judged:
        return list(ranked)
    sign = -1.0 if objective.direction == "maximize" else 1.0
    first = sorted(
        (record for record in ranked if record.number in judged),
        key=lambda record: sign * judged[record.number].metric(objective.metric),
    )
    return first + [record for record in ranked if record.number not in judged]


def run_final_rung(
    study: Study,
    *,
    plan: SearchPlan,
    dataset: Dataset,
    callbacks: Sequence[SearchCallback],
    deadline: float | None,
) -> tuple[RungResult, ...]:
    """Train the top trials again at the rung's fidelity before the retrain's time; store each result.

    Candidates already judged are not trained again; one that would not end before the retrain's
    time starts is left out and said so. Returns the results of this call.
    """
    settings = plan.space.search.final_rung
    if not settings.candidates or len(plan.space.search.objective) != 1:
        return ()
    trials = study.trials()
    by_trials = study.ranked(among=trials, rung=False)
    candidates = by_trials[: settings.candidates]
    if len(candidates) < 2:
        return ()
    judged = {result.trial_number for result in study.rung_results if result.completed}
    waiting = [record for record in candidates if record.number not in judged]
    if not waiting:
        return ()
    trial_data = trial_dataset(dataset, plan.space.search, seed=plan.seed)
    rung_end = (
        None
        if deadline is None
        else deadline
        - _retrain_reserve(candidates, plan=plan, trials=trials, trial_data=trial_data, dataset=dataset)
    )
    for callback in callbacks:
        callback.on_final_rung_start([record.number for record in waiting], epochs=settings.epochs)
    results: list[RungResult] = []
    for record in waiting:
        raise_if_stop_requested()
        epoch_seconds = rung_epoch_seconds(record, trials=trials, trial_data=trial_data, full_data=dataset)
        if rung_end is not None and epoch_seconds is not None:
            left = rung_end - time.monotonic()
            if settings.epochs * epoch_seconds > left:
                _say(
                    callbacks,
                    f"final rung: trial #{record.number} left out, its {settings.epochs} epochs of about "
                    f"{format_seconds(epoch_seconds)} do not fit in the {format_seconds(max(left, 0.0))} "
                    "before the retrain",
                )
                continue
        result = _judge(
            record, study=study, dataset=dataset, epochs=settings.epochs, seed=plan.seed, end=rung_end
        )
        results.append(result)
        _store(study, result)
        for callback in callbacks:
            callback.on_final_rung_result(result)
    return tuple(results)


def _judge(
    record: TrialRecord, *, study: Study, dataset: Dataset, epochs: int, seed: int, end: float | None
) -> RungResult:
    """Train ``record``'s configuration for ``epochs`` on all training images; keep the better model as the trial's."""
    from autocnn.core.loop import release_memory
    from autocnn.training import fit_config

    config = record.config
    assert config is not None

    def on_epoch(epoch: EpochRecord) -> bool:
        raise_if_stop_requested()
        return False

    fitted = fit_config(
        config, dataset, epochs=epochs, on_epoch=on_epoch, deadline=end, seed=seed + record.number
    )
    accuracy = float(fitted.metrics.get("val_accuracy", 0.0))
    result = RungResult(
        trial_number=record.number,
        epochs=len(fitted.curve),
        planned_epochs=epochs,
        train_images=len(dataset.x_train),
        val_accuracy=accuracy,
        val_loss=float(fitted.metrics.get("val_loss", float("nan"))),
        trial_val_accuracy=record.val_accuracy,
        seconds=fitted.train_seconds,
    )
    # The trial's own model is the final model's fallback: keep the better of the two.
    if result.completed and accuracy > (record.val_accuracy or 0.0):
        path = study.trial_model_path(record.number)
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as temporary:
            fitted.model.save(temporary)
    del fitted
    release_memory()
    return result


def _retrain_reserve(
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


def _store(study: Study, result: RungResult) -> None:
    """Add ``result`` to the study, replacing an earlier result for the same trial."""
    kept = [item.to_dict() for item in study.rung_results if item.trial_number != result.trial_number]
    study.optuna_study.set_user_attr(RUNG_ATTR, [*kept, result.to_dict()])


def _say(callbacks: Sequence[SearchCallback], message: str) -> None:
    for callback in callbacks:
        callback.on_retrain_note(message)
