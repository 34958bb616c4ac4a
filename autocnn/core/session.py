"""Run a search: set up the study, run the trial loop here or in worker processes, retrain the best."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autocnn._fidelity import (
    planned_retrain_epochs,
    retrain_epoch_seconds,
    retrain_epochs_within,
    trial_dataset,
)
from autocnn._final_model import retrain_guarded
from autocnn._study_setup import append_run, fail_dead_local_trials, open_study
from autocnn._system import configure_gpus, package_versions, worker_id
from autocnn._trial_loop import TrialLoop, release_memory
from autocnn._workers import plan_workers, supervise, visible_gpus, worker_command
from autocnn.backends import Backend, make_backend
from autocnn.callbacks import SearchCallback, SearchInfo
from autocnn.errors import ConfigError, SearchError, SearchInterrupted, StudyMismatchError
from autocnn.records import record_from_trial
from autocnn.space import SearchSettings, SearchSpace, load_space, parse_duration, parse_space
from autocnn.storage import DEFAULT_WORKDIR, mask_secrets, resolve_storage_url
from autocnn.study import FINAL_ATTR, FinalResult, Study, load_study, write_json

if TYPE_CHECKING:
    from autocnn.data import Dataset

__all__ = ["parse_timeout", "run_worker", "search"]


def search(
    space: SearchSpace | str | Path = "quick",
    *,
    dataset: str | Dataset = "digits",
    study: str | None = None,
    storage: str | None = None,
    workdir: str | Path = DEFAULT_WORKDIR,
    max_trials: int | None = None,
    timeout: float | str | None = None,
    backend: str | None = None,
    algorithm: str | None = None,
    pruner: str | None = None,
    seed: int | None = None,
    retrain: bool = True,
    max_consecutive_failures: int | None = None,
    workers: int | None = None,
    gpus: Sequence[str] | None = None,
    trials_per_gpu: int = 1,
    recycle_after: int | None = None,
    max_rss_mb: float | None = None,
    worker_options: Sequence[str] = (),
    callbacks: Sequence[SearchCallback] = (),
    command_line: str | None = None,
) -> Study:
    """Run an architecture and hyperparameter search and return its Study.

    Running it again with the same ``study`` name and storage continues the study (trial numbers
    go on); a study created with another space or dataset is refused. ``max_trials`` counts the
    trained trials of the whole study; ``timeout`` (seconds or e.g. ``"30m"``) bounds this call,
    the final retrain included. ``workers`` > 1 (or GPUs with ``trials_per_gpu``) runs the
    trials in that many worker processes sharing the study's storage.

    Example:
        >>> import autocnn
        >>> study = autocnn.search("quick", dataset="digits", max_trials=2)  # doctest: +SKIP
        >>> study.leaderboard()[["trial", "state", "val_accuracy"]]  # doctest: +SKIP

    """
    from autocnn.data import load_dataset

    started = time.monotonic()
    space_file = str(space) if not isinstance(space, SearchSpace) else None
    search_space = load_space(space) if not isinstance(space, SearchSpace) else space
    settings = search_space.search
    seed_value = settings.seed if seed is None else seed
    timeout_s = parse_timeout(timeout) if timeout is not None else settings.timeout
    trials_limit = max_trials if max_trials is not None else settings.max_trials
    failures_limit = (
        settings.max_consecutive_failures if max_consecutive_failures is None else max_consecutive_failures
    )
    if failures_limit < 1:
        raise ConfigError(f"`max_consecutive_failures` must be >= 1; got {failures_limit}")
    if trials_limit is not None and trials_limit < 1:
        raise ConfigError(f"`max_trials` must be >= 1; got {trials_limit}")
    slots = plan_workers(workers=workers, gpus=gpus, trials_per_gpu=trials_per_gpu, available=visible_gpus())
    chosen_backend = make_backend(
        backend or settings.backend,
        search_space,
        algorithm=algorithm or _default_algorithm(backend, settings.backend, settings.algorithm),
        pruner=pruner or settings.pruner,
        seed=seed_value,
    )
    if len(slots) > 1 and chosen_backend.name != "optuna":
        raise ConfigError(
            f"`workers` > 1 needs the optuna backend: {chosen_backend.name}'s oracle keeps its state in one process"
        )
    data = (
        load_dataset(dataset, validation_fraction=settings.validation_fraction, seed=seed_value)
        if isinstance(dataset, str)
        else dataset
    )
    workdir_path = Path(workdir)
    study_name = study or f"{search_space.name}_{data.name}"
    url = resolve_storage_url(storage, workdir=workdir_path)
    optuna_study, new = open_study(
        study_name, url=url, space=search_space, space_file=space_file, dataset=data, backend=chosen_backend
    )
    result = Study(optuna_study, storage_url=url, workdir=workdir_path)
    fail_dead_local_trials(optuna_study)
    info = _search_info(
        result,
        space=search_space,
        space_file=space_file,
        dataset=data,
        backend=chosen_backend,
        max_trials=trials_limit,
        timeout=timeout_s,
        seed=seed_value,
        resumed=not new,
        command_line=command_line or "autocnn.search()",
    )
    append_run(optuna_study, info)
    deadline = started + timeout_s if timeout_s is not None else None
    interrupted = False
    try:
        with hooked(result, info, callbacks):
            if len(slots) > 1:
                chosen_backend.prepare(optuna_study, new=new)
                _run_workers(
                    result,
                    slots=slots,
                    trials_limit=trials_limit,
                    deadline=None if timeout_s is None else time.time() + timeout_s,
                    retrain=retrain,
                    recycle_after=recycle_after,
                    max_rss_mb=max_rss_mb,
                    extra=worker_options,
                    callbacks=callbacks,
                )
            else:
                configure_gpus()
                _run_here(
                    result,
                    backend=chosen_backend,
                    dataset=data,
                    space=search_space,
                    new=new,
                    callbacks=callbacks,
                    seed=seed_value,
                    device=slots[0].device,
                    failures_limit=failures_limit,
                    trials_limit=trials_limit,
                    deadline=deadline,
                    budget_s=timeout_s,
                    retrain=retrain,
                    recycle_after=recycle_after,
                    max_rss_mb=max_rss_mb,
                )
            if retrain:
                _retrain_best(
                    result, data, settings=settings, callbacks=callbacks, seed=seed_value, deadline=deadline
                )
    except (KeyboardInterrupt, SearchInterrupted):
        interrupted = True
    if interrupted:
        stopped = SearchInterrupted(
            f"search interrupted; the finished trials of study {study_name!r} are kept. "
            "Run the same command again to continue."
        )
        stopped.study = result
        raise stopped
    return result


def run_worker(
    study: str,
    *,
    storage: str | None = None,
    workdir: str | Path = DEFAULT_WORKDIR,
    max_trials: int | None = None,
    timeout: float | str | None = None,
    reserve_retrain: bool = False,
    recycle_after: int | None = None,
    max_rss_mb: float | None = None,
    device: str = "",
    callbacks: Sequence[SearchCallback] = (),
    command_line: str | None = None,
) -> str:
    """Join an existing study and run trials in this process; return ``"done"`` or ``"recycle"``.

    The space, dataset, backend and objectives come from the study itself, so any machine that
    reaches the storage (e.g. PostgreSQL) and has the same data can work on it. The data must
    match the study's fingerprint.
    """
    from autocnn.data import load_dataset

    started = time.monotonic()
    existing = load_study(study, storage=storage, workdir=workdir)
    info_attrs = existing.info
    if not info_attrs:
        raise ConfigError(
            f"study {study!r} was not created by autocnn search; start it with autocnn search first"
        )
    search_space = parse_space(info_attrs["space_yaml"], source=f"study {study!r} space")
    runs = existing.optuna_study.user_attrs.get("runs", [{}])
    seed = int(runs[0].get("seed", search_space.search.seed))
    data = load_dataset(
        info_attrs["dataset"], validation_fraction=info_attrs.get("validation_fraction", 0.1), seed=seed
    )
    if data.fingerprint != info_attrs["dataset_fingerprint"]:
        raise StudyMismatchError(
            f"dataset {info_attrs['dataset']!r} on this machine differs from the study's (fingerprint "
            f"{data.fingerprint[:12]} vs {str(info_attrs['dataset_fingerprint'])[:12]}); use the same files"
        )
    # Each worker's sampler draws from its own seed: with the study's seed, workers started together
    # would propose the same configurations and train them twice. Training keeps the study's seed.
    sampler_seed = seed + zlib.crc32(worker_id().encode()) % 100_000
    chosen_backend = make_backend(
        info_attrs.get("backend", "optuna"),
        search_space,
        algorithm=info_attrs.get("algorithm", "tpe"),
        pruner=info_attrs.get("pruner", "median"),
        seed=sampler_seed,
    )
    optuna_study, _ = open_study(
        study,
        url=existing.storage_url,
        space=search_space,
        space_file=info_attrs.get("space_file"),
        dataset=data,
        backend=chosen_backend,
    )
    result = Study(optuna_study, storage_url=existing.storage_url, workdir=Path(workdir))
    configure_gpus()
    budget_s = None if timeout is None else parse_timeout(timeout)
    deadline = None if budget_s is None else started + budget_s
    trials_limit = max_trials if max_trials is not None else search_space.search.max_trials
    info = _search_info(
        result,
        space=search_space,
        space_file=info_attrs.get("space_file"),
        dataset=data,
        backend=chosen_backend,
        max_trials=trials_limit,
        timeout=budget_s,
        seed=seed,
        resumed=True,
        command_line=command_line or "autocnn.run_worker()",
        worker=True,
    )
    with hooked(result, info, callbacks):
        return _run_here(
            result,
            backend=chosen_backend,
            dataset=data,
            space=search_space,
            new=False,
            callbacks=callbacks,
            seed=seed,
            device=device,
            failures_limit=search_space.search.max_consecutive_failures,
            trials_limit=trials_limit,
            deadline=deadline,
            budget_s=budget_s,
            retrain=reserve_retrain,
            recycle_after=recycle_after,
            max_rss_mb=max_rss_mb,
        )


@contextmanager
def hooked(study: Study, info: SearchInfo, callbacks: Sequence[SearchCallback]) -> Iterator[None]:
    """Fire ``on_search_start`` now and ``on_search_end`` when the block ends, however it ends.

    The one session a search and a worker both run in, so that a tracker sees every trial whichever
    process ran it.
    """
    for callback in callbacks:
        callback.on_search_start(info)
    interrupted = False
    error_text: str | None = None
    try:
        yield
    except (KeyboardInterrupt, SearchInterrupted):
        interrupted = True
        raise
    except SearchError as error:
        error_text = str(error)
        raise
    finally:
        for callback in callbacks:
            callback.on_search_end(study, interrupted=interrupted, error=error_text)


def _search_info(
    study: Study,
    *,
    space: SearchSpace,
    space_file: str | None,
    dataset: Dataset,
    backend: Backend,
    max_trials: int | None,
    timeout: float | None,
    seed: int,
    resumed: bool,
    command_line: str,
    worker: bool = False,
) -> SearchInfo:
    """Return what this process is about to do on ``study``, for the callbacks' ``on_search_start``."""
    return SearchInfo(
        study_name=study.name,
        storage=mask_secrets(study.storage_url),
        workdir=str(study.workdir),
        space=space,
        space_file=space_file,
        dataset_name=dataset.name,
        dataset_fingerprint=dataset.fingerprint,
        input_shape=dataset.input_shape,
        num_classes=dataset.num_classes,
        backend=backend.name,
        algorithm=backend.algorithm,
        pruner=backend.pruner_name,
        max_trials=max_trials,
        timeout=timeout,
        seed=seed,
        resumed=resumed,
        trials_before=len(study.optuna_study.get_trials(deepcopy=False)),
        command_line=mask_secrets(command_line),
        versions=package_versions(),
        worker=worker,
    )


def parse_timeout(value: float | str) -> float:
    """Return a timeout in seconds from seconds or a duration such as ``30m``; ConfigError if invalid."""
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ConfigError(f"`timeout`: {error}") from None


def _default_algorithm(backend_override: str | None, space_backend: str, space_algorithm: str) -> str:
    if backend_override is not None and backend_override != space_backend:
        return "tpe" if backend_override == "optuna" else "random"
    return space_algorithm


def _run_here(
    study: Study,
    *,
    backend: Backend,
    dataset: Dataset,
    space: SearchSpace,
    new: bool,
    callbacks: Sequence[SearchCallback],
    seed: int,
    device: str,
    failures_limit: int,
    trials_limit: int | None,
    deadline: float | None,
    budget_s: float | None,
    retrain: bool,
    recycle_after: int | None,
    max_rss_mb: float | None,
) -> str:
    backend.bind(study.optuna_study, directory=study.directory / "backend")
    backend.prepare(study.optuna_study, new=new)
    loop = TrialLoop(
        study=study,
        backend=backend,
        dataset=dataset,
        space=space,
        callbacks=callbacks,
        seed=seed,
        device=device,
        failures_limit=failures_limit,
    )
    try:
        return loop.run(
            trials_limit=trials_limit,
            deadline=deadline,
            budget_s=budget_s,
            retrain=retrain,
            recycle_after=recycle_after,
            max_rss_mb=max_rss_mb,
        )
    finally:
        backend.close()


def _run_workers(
    study: Study,
    *,
    slots: Sequence[Any],
    trials_limit: int | None,
    deadline: float | None,
    retrain: bool,
    recycle_after: int | None,
    max_rss_mb: float | None,
    extra: Sequence[str],
    callbacks: Sequence[SearchCallback],
) -> None:
    """Run the trials in worker processes; show their finished trials to the callbacks as they come."""
    import optuna

    shown: set[int] = set()
    watchers = [callback for callback in callbacks if callback.observes_remote_trials]

    def poll() -> None:
        finished = study.optuna_study.get_trials(
            deepcopy=False,
            states=(
                optuna.trial.TrialState.COMPLETE,
                optuna.trial.TrialState.PRUNED,
                optuna.trial.TrialState.FAIL,
            ),
        )
        for trial in finished:
            if trial.number in shown:
                continue
            shown.add(trial.number)
            record = record_from_trial(trial)
            for callback in watchers:
                if record.config is not None:
                    callback.on_trial_start(record.number, record.config, seed_name=record.seed_name)
                callback.on_trial_end(record)

    poll()
    supervise(
        slots,
        lambda slot: worker_command(
            study=study.name,
            storage=study.storage_url,
            workdir=str(study.workdir),
            max_trials=trials_limit,
            deadline=deadline,
            retrain_reserve=retrain,
            recycle_after=recycle_after,
            max_rss_mb=max_rss_mb,
            slot=slot,
            extra=extra,
        ),
        poll=poll,
    )


def _retrain_best(
    study: Study,
    dataset: Dataset,
    *,
    settings: SearchSettings,
    callbacks: Sequence[SearchCallback],
    seed: int,
    deadline: float | None,
) -> None:
    """Retrain the best configuration, keep it only if it holds up, evaluate the kept model once on test, save it.

    It trains for ``retrain_epochs`` (else the trial's epochs), cut to what fits before ``deadline``,
    watched and judged by :func:`retrain_guarded`.
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
    config = best.config
    assert config is not None
    epoch_seconds = retrain_epoch_seconds(
        best, trials=trials, trial_data=trial_dataset(dataset, settings, seed=seed), full_data=dataset
    )
    epochs = retrain_epochs_within(
        planned_retrain_epochs(settings, config),
        epoch_seconds=epoch_seconds,
        remaining_s=None if deadline is None else deadline - time.monotonic(),
    )
    for callback in callbacks:
        callback.on_retrain_start(best.number, config, epochs=epochs)

    def say(message: str) -> None:
        for callback in callbacks:
            callback.on_retrain_note(message)

    # The budget bounds the retrain too: cut at the deadline, it keeps the weights it has reached.
    kept = retrain_guarded(
        best,
        dataset,
        trial_model_path=study.trial_model_path(best.number),
        epochs=epochs,
        deadline=deadline,
        seed=seed,
        say=say,
    )
    compile_for_export(kept.model)
    test = evaluate_model(kept.model, dataset.x_test, dataset.y_test)
    directory = study.directory
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / "best_model.keras"
    config_path = directory / "best_config.json"
    kept.model.save(model_path)
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
    )
    study.optuna_study.set_user_attr(FINAL_ATTR, final.to_dict())
    for callback in callbacks:
        callback.on_retrain_end(final, model=kept.model, example=dataset.x_test[:8])
    del kept
    release_memory()
