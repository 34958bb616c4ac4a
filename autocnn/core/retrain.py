"""The search's last step: retrain the best configuration, keep the retrain only if it holds up, save it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autocnn._files import replacing
from autocnn._format import format_number_of
from autocnn._stop import raise_if_stop_requested
from autocnn.core.augmentation_check import check_of, checked_config
from autocnn.core.callbacks import SearchCallback, say_retrain_note
from autocnn.core.fidelity import (
    planned_retrain_epochs,
    retrain_epoch_seconds,
    retrain_epochs_within,
    trial_dataset,
)
from autocnn.core.final_model import FinalModel, FinalSource, retrain_guarded
from autocnn.core.loop import release_memory
from autocnn.core.plan import SearchPlan
from autocnn.core.records import RungResult
from autocnn.core.study import FINAL_ATTR, FinalResult, Study, write_json
from autocnn.core.test_time import with_chosen_views

if TYPE_CHECKING:
    from autocnn.data import Dataset


def retrain_best(
    study: Study,
    *,
    plan: SearchPlan,
    dataset: Dataset,
    callbacks: Sequence[SearchCallback],
    deadline: float | None,
) -> None:
    """Retrain the best configuration, keep it only if it holds up, evaluate the kept model once on test, save it.

    It trains for ``retrain_epochs`` (else the trial's epochs), cut to what fits before ``deadline``,
    with the augmentation the augmentation check chose, watched and judged by :func:`retrain_guarded`.
    """
    from autocnn.training import compile_for_export, evaluate_model

    trials = study.trials()
    ranked = study.ranked(among=trials)
    if not ranked:
        return
    best = ranked[0]
    previous = study.final
    if previous is not None and previous.trial_number == best.number and Path(previous.model_path).exists():
        return
    config = checked_config(study, best)
    epoch_seconds = retrain_epoch_seconds(
        best,
        trials=trials,
        trial_data=trial_dataset(dataset, plan.space.search, seed=plan.seed),
        full_data=dataset,
    )
    check = check_of(study, best)
    if epoch_seconds is not None and check is not None:
        # the trials timed the trial's own augmentation; the check timed the chosen one beside it
        epoch_seconds *= check.time_ratio
    epochs = retrain_epochs_within(
        planned_retrain_epochs(plan.space.search, config),
        epoch_seconds=epoch_seconds,
        remaining_s=None if deadline is None else deadline - time.monotonic(),
    )
    for callback in callbacks:
        callback.on_retrain_start(best.number, config, epochs=epochs)

    # The budget bounds the retrain too: cut at the deadline, it keeps the weights it has reached.
    kept = retrain_guarded(
        best,
        dataset,
        config=config,
        trial_model_path=study.trial_model_path(best.number),
        epochs=epochs,
        deadline=deadline,
        seed=plan.seed,
        balanced_validation=plan.space.search.balanced_validation,
        say=lambda message: say_retrain_note(callbacks, message),
    )
    raise_if_stop_requested()  # a stop whose KeyboardInterrupt was lost must not ship a cut retrain
    if kept.source is FinalSource.TRIAL_MODEL:
        kept = _with_rung_training(kept, rung=study.rung_results, trial_number=best.number)
    final_model, choice = (
        with_chosen_views(kept, dataset, seed=plan.seed, balanced=plan.space.search.balanced_validation)
        if plan.space.search.test_time_augmentation
        else (kept.model, None)
    )
    compile_for_export(final_model)
    test = evaluate_model(final_model, dataset.x_test, dataset.y_test)
    plain_test = None
    if final_model is not kept.model:
        compile_for_export(kept.model)
        plain_test = evaluate_model(kept.model, dataset.x_test, dataset.y_test)["accuracy"]
    directory = study.directory
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / "best_model.keras"
    config_path = directory / "best_config.json"
    with replacing(model_path) as temporary:  # the study's last final model stays whole until this one is
        final_model.save(temporary)
    write_json(config_path, kept.config.to_dict())
    final = FinalResult(
        trial_number=best.number,
        config=kept.config,
        test_accuracy=test["accuracy"],
        test_loss=test["loss"],
        epochs=kept.epochs,
        train_seconds=kept.train_seconds,
        model_path=str(model_path.resolve()),
        config_path=str(config_path.resolve()),
        kept=kept.source,
        kept_reason=kept.reason,
        guard_images=kept.guard.images,
        guard_accuracy=kept.guard.kept,
        retrain_guard_accuracy=kept.guard.retrained,
        trial_guard_accuracy=kept.guard.trial,
        test_time_views=choice,
        plain_test_accuracy=plain_test,
    )
    study.optuna_study.set_user_attr(FINAL_ATTR, final.to_dict())
    for callback in callbacks:
        callback.on_retrain_end(final, model=final_model, example=dataset.x_test[:8])
    del kept, final_model
    release_memory()


def _with_rung_training(kept: FinalModel, *, rung: Sequence[RungResult], trial_number: int) -> FinalModel:
    """Return ``kept`` (the trial's saved model) with the epochs and time of the final rung's run that replaced it."""
    run = next(
        (item for item in rung if item.trial_number == trial_number and item.replaced_trial_model), None
    )
    if run is None:
        return kept
    return dataclasses.replace(
        kept,
        epochs=run.epochs,
        train_seconds=run.seconds,
        reason=(
            f"{kept.reason} (the final rung's run: {format_number_of(run.epochs, 'epoch')} "
            f"on {run.train_images:,} training images)"
        ),
    )
