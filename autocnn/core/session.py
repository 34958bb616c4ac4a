"""Run a search, or join one as a worker: one hooked session around the trial loop, here or in workers."""

from __future__ import annotations

import time
import warnings
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from autocnn._quiet import import_tensorflow_quietly
from autocnn._system import configure_gpus, in_notebook, worker_id
from autocnn.backends import Backend, make_backend
from autocnn.core.augmentation_check import run_augmentation_check
from autocnn.core.auto_space import AUTO_SPACE, auto_space
from autocnn.core.callbacks import SearchCallback, SearchInfo
from autocnn.core.loop import TrialLoop
from autocnn.core.lost_trials import fail_dead_local_trials
from autocnn.core.metadata import (
    RunRecord,
    append_run,
    find_run,
    new_run,
    plan_from_study,
    read_info,
)
from autocnn.core.plan import RunLimits, SearchPlan, parse_timeout, plan_search
from autocnn.core.records import LoopEnd, record_from_trial
from autocnn.core.retrain import retrain_best
from autocnn.core.rung import run_final_rung
from autocnn.core.storage import DEFAULT_WORKDIR, mask_secrets, open_study, resolve_storage_url
from autocnn.core.study import Study, load_study
from autocnn.core.workers import WorkerSlot, plan_workers, supervise, visible_gpus, worker_command
from autocnn.core.write_failures import writes_reported
from autocnn.errors import ConfigError, SearchError, SearchInterrupted

if TYPE_CHECKING:
    from autocnn.data import Dataset
    from autocnn.space import SearchSpace

__all__ = ["hooked", "run_worker", "search"]


def search(
    space: SearchSpace | str | Path = AUTO_SPACE,
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
    callbacks: Sequence[SearchCallback] = (),
    progress: bool | None = None,
    command_line: str | None = None,
) -> Study:
    """Run an architecture and hyperparameter search and return its Study.

    ``space`` is a :class:`SearchSpace`, a space file, a ready-made space's name, or ``"auto"``
    (the default): the planner's space for the data, the budget and this machine, as the CLI
    plans it when no ``--space`` is given.
    Running it again with the same ``study`` name and storage continues the study (trial numbers
    go on); a study created with another space or dataset is refused. ``max_trials`` counts the
    trained trials of the whole study; ``timeout`` (seconds or e.g. ``"30m"``) bounds this call,
    the final retrain included. ``workers`` > 1 (or GPUs with ``trials_per_gpu``) runs the
    trials in that many worker processes sharing the study's storage; they rebuild this search
    from the study, and record into the same tracker as ``callbacks``. ``progress`` prints a line
    per trial (default: only in a Jupyter notebook, where a study also shows as a table).

    Example:
        >>> import autocnn
        >>> study = autocnn.search("quick", dataset="digits", max_trials=2)  # doctest: +SKIP
        >>> study.leaderboard()[["trial", "state", "val_accuracy"]]  # doctest: +SKIP

    """
    started = time.monotonic()
    import_tensorflow_quietly()
    notebook = in_notebook()
    if notebook:
        # tqdm (through Optuna) asks for ipywidgets, which autocnn's progress lines do not need
        warnings.filterwarnings("ignore", message="IProgress not found")
    if progress or (progress is None and notebook):
        from rich.console import Console

        from autocnn._progress import ConsoleProgress

        callbacks = [ConsoleProgress(Console(soft_wrap=True)), *callbacks]
    worker_environment = _worker_environment(callbacks)
    url = resolve_storage_url(storage, workdir=Path(workdir))
    space_yaml, space_summary = None, ""
    if isinstance(space, str) and space == AUTO_SPACE:
        space, space_yaml, space_summary = auto_space(
            dataset, study=study, url=url, timeout=timeout, max_trials=max_trials, seed=seed
        )
    plan, data = plan_search(
        space,
        dataset=dataset,
        study=study,
        max_trials=max_trials,
        timeout=timeout,
        backend=backend,
        algorithm=algorithm,
        pruner=pruner,
        seed=seed,
        retrain=retrain,
        max_consecutive_failures=max_consecutive_failures,
        recycle_after=recycle_after,
        max_rss_mb=max_rss_mb,
        tracked=bool(worker_environment),
        space_yaml=space_yaml,
        space_summary=space_summary,
        space_source=AUTO_SPACE if space_yaml is not None else None,
    )
    slots = plan_workers(workers=workers, gpus=gpus, trials_per_gpu=trials_per_gpu, available=visible_gpus())
    if len(slots) > 1 and plan.backend.name != "optuna":
        raise ConfigError(
            f"`workers` > 1 needs the optuna backend: {plan.backend.name}'s oracle keeps its state in one process"
        )
    chosen_backend = _backend(plan, seed=plan.seed)
    with writes_reported(storage_url=url):
        optuna_study, new = open_study(plan, url=url, dataset=data, backend=chosen_backend)
        result = Study(optuna_study, storage_url=url, workdir=Path(workdir))
        fail_dead_local_trials(optuna_study)
        timeout_s = plan.limits.timeout_s
        deadline = None if timeout_s is None else started + timeout_s
        run = new_run(
            plan,
            command_line=command_line or "autocnn.search()",
            deadline_at=None if deadline is None else time.time() + deadline - time.monotonic(),
        )
        info = _search_info(result, plan=plan, dataset=data, resumed=not new, command_line=run.command_line)
        append_run(optuna_study, run)
        try:
            with hooked(result, info, callbacks):
                if len(slots) > 1:
                    chosen_backend.prepare(optuna_study, new=new)
                    _run_workers(
                        result, slots=slots, run=run, environment=worker_environment, callbacks=callbacks
                    )
                else:
                    configure_gpus()
                    _run_here(
                        result,
                        plan=plan,
                        backend=chosen_backend,
                        dataset=data,
                        new=new,
                        callbacks=callbacks,
                        device=slots[0].device,
                        deadline=deadline,
                    )
                if plan.limits.retrain:
                    run_final_rung(result, plan=plan, dataset=data, callbacks=callbacks, deadline=deadline)
                    run_augmentation_check(
                        result, plan=plan, dataset=data, callbacks=callbacks, deadline=deadline
                    )
                    retrain_best(result, plan=plan, dataset=data, callbacks=callbacks, deadline=deadline)
        except (KeyboardInterrupt, SearchInterrupted):
            stopped = SearchInterrupted(
                f"search interrupted; the finished trials of study {plan.study!r} are kept. "
                "Run the same command again to continue."
            )
            stopped.study = result
            raise stopped from None
        return result


def run_worker(
    study: str,
    *,
    storage: str | None = None,
    workdir: str | Path = DEFAULT_WORKDIR,
    run: str | None = None,
    max_trials: int | None = None,
    timeout: float | str | None = None,
    reserve_retrain: bool = False,
    recycle_after: int | None = None,
    max_rss_mb: float | None = None,
    device: str = "",
    callbacks: Sequence[SearchCallback] = (),
    command_line: str | None = None,
) -> LoopEnd:
    """Join an existing study and run trials in this process until a limit says stop.

    The space, dataset, backend and objectives come from the study itself, so any machine that
    reaches the storage (e.g. PostgreSQL) and has the same data can work on it; the data must
    match the study's fingerprint. ``run`` (the id of one of the study's runs) takes that run's
    limits and deadline, as the workers a search starts do (and its tracking: a tracker among
    ``callbacks`` is left out when that search tracked nothing); the other arguments override them.
    Returns ``LoopEnd.RECYCLE`` when the process should be restarted (``recycle_after``,
    ``max_rss_mb``).
    """
    started = time.monotonic()
    existing = load_study(study, storage=storage, workdir=workdir)
    optuna_study = existing.optuna_study
    info = read_info(optuna_study)
    run_record = None if run is None else find_run(optuna_study, run, study=study)
    plan = plan_from_study(
        info,
        study=study,
        run=run_record,
        limits=_worker_limits(
            run_record,
            space=info.space(study=study),
            max_trials=max_trials,
            timeout=timeout,
            reserve_retrain=reserve_retrain,
            recycle_after=recycle_after,
            max_rss_mb=max_rss_mb,
        ),
    )
    data = plan.dataset.load_same(study=study)
    if run_record is not None and not run_record.tracked:
        # the search this worker serves records nothing, so neither does the worker
        callbacks = [callback for callback in callbacks if callback.worker_environment() is None]
    # Each worker's sampler draws from its own seed: with the study's seed, workers started together
    # would propose the same configurations and train them twice. Training keeps the study's seed.
    chosen_backend = _backend(plan, seed=plan.seed + zlib.crc32(worker_id().encode()) % 100_000)
    optuna_study, _ = open_study(plan, url=existing.storage_url, dataset=data, backend=chosen_backend)
    result = Study(optuna_study, storage_url=existing.storage_url, workdir=Path(workdir))
    fail_dead_local_trials(optuna_study)
    configure_gpus()
    deadline = _worker_deadline(started, plan.limits, run_record, timeout_given=timeout is not None)
    session = _search_info(
        result,
        plan=plan,
        dataset=data,
        resumed=True,
        command_line=mask_secrets(command_line or "autocnn.run_worker()"),
        worker=True,
    )
    with writes_reported(storage_url=existing.storage_url), hooked(result, session, callbacks):
        return _run_here(
            result,
            plan=plan,
            backend=chosen_backend,
            dataset=data,
            new=False,
            callbacks=callbacks,
            device=device,
            deadline=deadline,
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


def _backend(plan: SearchPlan, *, seed: int) -> Backend:
    return make_backend(
        plan.backend.name,
        plan.space,
        algorithm=plan.backend.algorithm,
        pruner=plan.backend.pruner,
        seed=seed,
    )


def _worker_environment(callbacks: Sequence[SearchCallback]) -> dict[str, str]:
    """Return what worker processes need in their environment to record like ``callbacks`` do."""
    environment: dict[str, str] = {}
    for callback in callbacks:
        environment.update(callback.worker_environment() or {})
    return environment


def _worker_limits(
    run: RunRecord | None,
    *,
    space: SearchSpace,
    max_trials: int | None,
    timeout: float | str | None,
    reserve_retrain: bool,
    recycle_after: int | None,
    max_rss_mb: float | None,
) -> RunLimits:
    """Return a worker's limits: its run's (or the space's), overridden by the arguments given."""
    settings = space.search
    base = (
        run.limits
        if run is not None and run.limits is not None
        else RunLimits(
            max_trials=settings.max_trials,
            timeout_s=None,
            retrain=False,
            max_consecutive_failures=settings.max_consecutive_failures,
        )
    )
    return RunLimits(
        max_trials=base.max_trials if max_trials is None else max_trials,
        timeout_s=base.timeout_s if timeout is None else parse_timeout(timeout),
        retrain=base.retrain or reserve_retrain,
        max_consecutive_failures=base.max_consecutive_failures,
        recycle_after=base.recycle_after if recycle_after is None else recycle_after,
        max_rss_mb=base.max_rss_mb if max_rss_mb is None else max_rss_mb,
    )


def _worker_deadline(
    started: float, limits: RunLimits, run: RunRecord | None, *, timeout_given: bool
) -> float | None:
    """Return a worker's deadline (``time.monotonic()``): its own timeout, else its run's end."""
    if timeout_given and limits.timeout_s is not None:
        return started + limits.timeout_s
    if run is not None and run.deadline_at is not None:
        return time.monotonic() + run.deadline_at - time.time()
    return None


def _search_info(
    study: Study,
    *,
    plan: SearchPlan,
    dataset: Dataset,
    resumed: bool,
    command_line: str,
    worker: bool = False,
) -> SearchInfo:
    """Return what this process is about to do on ``study``, for the callbacks' ``on_search_start``."""
    from autocnn._system import package_versions

    return SearchInfo(
        study_name=study.name,
        storage=mask_secrets(study.storage_url),
        workdir=str(study.workdir),
        space=plan.space,
        space_file=plan.space_file,
        dataset_name=dataset.name,
        dataset_fingerprint=dataset.fingerprint,
        input_shape=dataset.input_shape,
        num_classes=dataset.num_classes,
        backend=plan.backend.name,
        algorithm=plan.backend.algorithm,
        pruner=plan.backend.pruner,
        max_trials=plan.limits.max_trials,
        timeout=plan.limits.timeout_s,
        seed=plan.seed,
        resumed=resumed,
        trials_before=len(study.optuna_study.get_trials(deepcopy=False)),
        command_line=command_line,
        versions=package_versions(),
        worker=worker,
        space_summary=plan.space_summary,
    )


def _run_here(
    study: Study,
    *,
    plan: SearchPlan,
    backend: Backend,
    dataset: Dataset,
    new: bool,
    callbacks: Sequence[SearchCallback],
    device: str,
    deadline: float | None,
) -> LoopEnd:
    backend.bind(study.optuna_study, directory=study.directory / "backend")
    backend.prepare(study.optuna_study, new=new)
    loop = TrialLoop(
        study=study, plan=plan, backend=backend, dataset=dataset, callbacks=callbacks, device=device
    )
    try:
        return loop.run(deadline=deadline)
    finally:
        backend.close()


def _run_workers(
    study: Study,
    *,
    slots: Sequence[WorkerSlot],
    run: RunRecord,
    environment: dict[str, str],
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
            study=study.name, storage=study.storage_url, workdir=str(study.workdir), run=run.id, slot=slot
        ),
        environment=environment,
        poll=poll,
        # a killed worker's trial is failed and retried now, not when the study is next opened
        on_crash=lambda: fail_dead_local_trials(study.optuna_study),
    )
