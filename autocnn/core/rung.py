"""The final rung: the top trials trained again, longer and on all training images, before the retrain.

Trials judged after a few epochs on part of the data favour networks that learn fast over those
that gain most from long training (more augmentation, more regularisation). The rung trains the
top ``final_rung.candidates`` configurations for ``final_rung.epochs`` on the whole training
split, judged on the whole validation split, and the study ranks the trials it judged first,
by that judgement. Each result is stored as soon as it is known, so a killed rung loses one run.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from autocnn._files import replacing
from autocnn._format import format_number_of, format_seconds
from autocnn._stop import raise_if_stop_requested
from autocnn.core.augmentation_check import check_reserve
from autocnn.core.callbacks import SearchCallback, say_retrain_note
from autocnn.core.fidelity import retrain_reserve, rung_epoch_seconds, trial_dataset
from autocnn.core.records import EpochRecord, RungResult, TrialRecord

if TYPE_CHECKING:
    from autocnn.core.plan import SearchPlan
    from autocnn.core.study import Study
    from autocnn.data import Dataset
    from autocnn.space import Objective

__all__ = ["MIN_GAIN", "RUNG_ATTR", "rank_with_rung", "read_rung", "run_final_rung"]

RUNG_ATTR = "final_rung"
#: A rung run is worth its time only when it trains on at least this many times a trial's images.
MIN_GAIN = 2.0


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

    The rung fits the time left as measured on the trials: fewer epochs than ``final_rung.epochs``
    (all candidates the same, never below ``MIN_GAIN`` times a trial's training), else fewer
    candidates, else none, each said. Candidates judged by an earlier call are not trained again,
    and later ones get the same epochs. Returns the results of this call.
    """
    settings = plan.space.search.final_rung
    if not settings.candidates or len(plan.space.search.objective) != 1:
        return ()
    trials = study.trials()
    candidates = study.ranked(among=trials, rung=False)[: settings.candidates]
    earlier = [result for result in study.rung_results if result.completed]
    judged = {result.trial_number for result in earlier}
    waiting = [record for record in candidates if record.number not in judged]
    if len(candidates) < 2 or not waiting:
        return ()
    trial_data = trial_dataset(dataset, plan.space.search, seed=plan.seed)
    epoch_seconds = {
        record.number: rung_epoch_seconds(record, trials=trials, trial_data=trial_data, full_data=dataset)
        for record in waiting
    }
    rung_end = (
        None
        if deadline is None
        else deadline
        - retrain_reserve(candidates, plan=plan, trials=trials, trial_data=trial_data, dataset=dataset)
        - check_reserve(
            plan.space,
            best=candidates[0],
            trials=trials,
            trial_data=trial_data,
            full_data=dataset,
            budget_s=plan.limits.timeout_s,
        )
    )
    epochs = earlier[0].planned_epochs if earlier else settings.epochs
    trial_training = _trial_training(candidates, plan=plan)
    if epochs <= trial_training:
        say_retrain_note(
            callbacks,
            f"final rung: skipped, its {format_number_of(epochs, 'epoch')} on all training images train no "
            f"longer than a trial ({trial_training:g} epoch{'' if trial_training == 1 else 's'} of them); "
            "raise search.final_rung.epochs",
        )
        return ()
    if rung_end is not None:
        fitted = _fit_time(
            waiting,
            epoch_seconds=epoch_seconds,
            left=rung_end - time.monotonic(),
            epochs=epochs,
            least=epochs if earlier else min(epochs, _least_epochs(candidates, plan=plan)),
            judged=len(judged),
            say=lambda message: say_retrain_note(callbacks, message),
        )
        if fitted is None:
            return ()
        waiting, epochs = fitted
    for callback in callbacks:
        callback.on_final_rung_start([record.number for record in waiting], epochs=epochs)
    results: list[RungResult] = []
    for record in waiting:
        raise_if_stop_requested()
        result = _judge(
            record,
            study=study,
            dataset=dataset,
            epochs=epochs,
            seed=plan.seed,
            end=rung_end,
            balanced_validation=plan.space.search.balanced_validation,
        )
        results.append(result)
        _store(study, result)
        for callback in callbacks:
            callback.on_final_rung_result(result)
    return tuple(results)


def _fit_time(
    waiting: list[TrialRecord],
    *,
    epoch_seconds: dict[int, float | None],
    left: float,
    epochs: int,
    least: int,
    judged: int,
    say: Callable[[str], None],
) -> tuple[list[TrialRecord], int] | None:
    """Return the candidates and epochs that fit in ``left`` seconds: fewer epochs (to ``least``), then candidates.

    None when fewer than two candidates (with the ``judged`` ones) would be left to compare.
    """
    kept = list(waiting)
    while kept and judged + len(kept) >= 2:
        per_epoch = sum(epoch_seconds[record.number] or 0.0 for record in kept)
        fit = epochs if per_epoch <= 0 else min(epochs, int(max(left, 0.0) // per_epoch))
        if fit >= least:
            dropped = [record.number for record in waiting if record not in kept]
            if dropped:
                listed = ", ".join(f"#{number}" for number in dropped)
                say(
                    f"final rung: trial {listed} left out, so that the others get "
                    f"{format_number_of(fit, 'epoch')} before the retrain"
                )
            if fit < epochs:
                say(
                    f"final rung: {fit} of its {epochs} epochs fit in the {format_seconds(max(left, 0.0))} "
                    "before the retrain"
                )
            return kept, fit
        kept.pop()
    say(
        f"final rung: skipped, {format_number_of(least, 'epoch')} of two trials do not fit in the "
        f"{format_seconds(max(left, 0.0))} before the retrain"
    )
    return None


def _trial_training(candidates: Sequence[TrialRecord], *, plan: SearchPlan) -> float:
    """Return the longest candidate's trial training, in epochs of the whole training split."""
    trial_epochs = max(record.config.training.epochs for record in candidates if record.config is not None)
    return trial_epochs * plan.space.search.trial_train_fraction


def _least_epochs(candidates: Sequence[TrialRecord], *, plan: SearchPlan) -> int:
    """Return the fewest rung epochs worth running: ``MIN_GAIN`` times the longest candidate's trial training."""
    return max(1, math.ceil(MIN_GAIN * _trial_training(candidates, plan=plan)))


def _judge(
    record: TrialRecord,
    *,
    study: Study,
    dataset: Dataset,
    epochs: int,
    seed: int,
    end: float | None,
    balanced_validation: bool,
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
        config,
        dataset,
        epochs=epochs,
        on_epoch=on_epoch,
        deadline=end,
        seed=seed + record.number,
        balanced_validation=balanced_validation,
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
        result = dataclasses.replace(result, replaced_trial_model=True)
        path = study.trial_model_path(record.number)
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as temporary:
            fitted.model.save(temporary)
    del fitted
    release_memory()
    return result


def _store(study: Study, result: RungResult) -> None:
    """Add ``result`` to the study, replacing an earlier result for the same trial."""
    kept = [item.to_dict() for item in study.rung_results if item.trial_number != result.trial_number]
    study.optuna_study.set_user_attr(RUNG_ATTR, [*kept, result.to_dict()])
