"""The search loop: ask → check → build → train → tell → record; budgets, failures, final retrain."""

from __future__ import annotations

import gc
import math
import os
import statistics
import threading
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from autocnn._system import package_versions, process_alive, worker_id
from autocnn.backends import Backend, Proposal, make_backend
from autocnn.callbacks import SearchCallback, SearchInfo
from autocnn.config import TrialConfig
from autocnn.errors import (
    ConfigError,
    InvalidArchitectureError,
    SearchError,
    SearchInterrupted,
    StudyMismatchError,
)
from autocnn.records import (
    CONFIG_ATTR,
    CURVE_ATTR,
    DEVICE_ATTR,
    METRICS_ATTR,
    REASON_ATTR,
    RETRY_OF_ATTR,
    SEED_ATTR,
    STATUS_ATTR,
    WORKER_ATTR,
    EpochRecord,
    record_from_trial,
)
from autocnn.space import SearchSpace, load_space, parse_duration, space_hash
from autocnn.storage import DEFAULT_WORKDIR, mask_secrets, open_storage, resolve_storage_url
from autocnn.study import FINAL_ATTR, STUDY_ATTR, FinalResult, Study, write_json

if TYPE_CHECKING:
    from autocnn.data import Dataset

COUNTED_STATUSES = ("complete", "pruned", "failed")
MAX_CONSECUTIVE_REJECTIONS = 100


@dataclass
class _LoopState:
    """What the loop remembers between trials of this process."""

    trial_seconds: list[float] = field(default_factory=list)
    consecutive_failures: list[tuple[int, str]] = field(default_factory=list)
    consecutive_rejections: list[tuple[int, str]] = field(default_factory=list)
    best_value: float | None = None
    trials_run: int = 0


def search(
    space: SearchSpace | str | Path = "search_spaces/quick.yaml",
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
    callbacks: Sequence[SearchCallback] = (),
    command_line: str | None = None,
    device: str = "",
) -> Study:
    """Run an architecture and hyperparameter search and return its Study.

    Running it again with the same ``study`` name and storage continues the study (trial numbers
    go on); a study created with another space or dataset is refused. ``max_trials`` counts the
    trained trials of the whole study; ``timeout`` (seconds or e.g. ``"30m"``) bounds this call,
    the final retrain included.

    Example:
        >>> import autocnn
        >>> study = autocnn.search("search_spaces/quick.yaml", dataset="digits", max_trials=2)  # doctest: +SKIP
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
    if trials_limit is not None and trials_limit < 1:
        raise ConfigError(f"max_trials must be >= 1; got {trials_limit}")
    failures_limit = max_consecutive_failures or settings.max_consecutive_failures
    chosen_backend = make_backend(
        backend or settings.backend,
        search_space,
        algorithm=algorithm or _default_algorithm(backend, settings.backend, settings.algorithm),
        pruner=pruner or settings.pruner,
        seed=seed_value,
    )
    data = (
        load_dataset(dataset, validation_fraction=settings.validation_fraction, seed=seed_value)
        if isinstance(dataset, str)
        else dataset
    )
    workdir_path = Path(workdir)
    study_name = study or f"{search_space.name}_{data.name}"
    url = resolve_storage_url(storage, workdir=workdir_path)
    optuna_study, new = _open_study(
        study_name, url=url, space=search_space, space_file=space_file, dataset=data, backend=chosen_backend
    )
    result = Study(optuna_study, storage_url=url, workdir=workdir_path)
    chosen_backend.bind(optuna_study, directory=result.directory / "backend")
    chosen_backend.prepare(optuna_study, new=new)
    _fail_dead_local_trials(optuna_study)
    trials_before = len(optuna_study.get_trials(deepcopy=False))
    info = SearchInfo(
        study_name=study_name,
        storage=mask_secrets(url),
        workdir=str(workdir_path),
        space=search_space,
        space_file=space_file,
        dataset_name=data.name,
        dataset_fingerprint=data.fingerprint,
        input_shape=data.input_shape,
        num_classes=data.num_classes,
        backend=chosen_backend.name,
        algorithm=chosen_backend.algorithm,
        pruner=chosen_backend.pruner_name,
        max_trials=trials_limit,
        timeout=timeout_s,
        seed=seed_value,
        resumed=not new,
        trials_before=trials_before,
        command_line=mask_secrets(command_line or "autocnn.search()"),
        versions=package_versions(),
    )
    _append_run(optuna_study, info)
    for callback in callbacks:
        callback.on_search_start(info)
    deadline = started + timeout_s if timeout_s is not None else None
    loop = _TrialLoop(
        study=result,
        backend=chosen_backend,
        dataset=data,
        space=search_space,
        callbacks=callbacks,
        seed=seed_value,
        device=device,
        failures_limit=failures_limit,
    )
    interrupted = False
    error_text: str | None = None
    try:
        loop.run(trials_limit=trials_limit, deadline=deadline, retrain=retrain)
        if retrain:
            _retrain_best(result, data, callbacks=callbacks, seed=seed_value)
    except (KeyboardInterrupt, SearchInterrupted):
        interrupted = True
    except SearchError as error:
        error_text = str(error)
        raise
    finally:
        chosen_backend.close()
        for callback in callbacks:
            callback.on_search_end(result, interrupted=interrupted, error=error_text)
    if interrupted:
        stopped = SearchInterrupted(
            f"search interrupted; the finished trials of study {study_name!r} are kept. "
            "Run the same command again to continue."
        )
        stopped.study = result
        raise stopped
    return result


def parse_timeout(value: float | str) -> float:
    """Return a timeout in seconds from seconds or a duration such as ``30m``; ConfigError if invalid."""
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ConfigError(f"--timeout: {error}") from None


def _default_algorithm(backend_override: str | None, space_backend: str, space_algorithm: str) -> str:
    if backend_override is not None and backend_override != space_backend:
        return "tpe" if backend_override == "optuna" else "random"
    return space_algorithm


def _open_study(
    name: str, *, url: str, space: SearchSpace, space_file: str | None, dataset: Dataset, backend: Backend
) -> tuple[Any, bool]:
    """Create the study or load it, refusing one made with another space or dataset."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings(
        "ignore", message="Heartbeat of storage is supposed to be used with Study.optimize"
    )
    storage = open_storage(url)
    directions = [objective.direction for objective in space.search.objective]
    sampler, pruner = backend.sampler(), backend.pruner()
    try:
        optuna_study = optuna.create_study(
            study_name=name,
            storage=storage,
            directions=directions,
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
    except ValueError as error:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} exists with other objectives ({error}); "
            "choose another --study name"
        ) from None
    existing = optuna_study.user_attrs.get(STUDY_ATTR)
    expected = {
        "space_hash": space_hash(space),
        "dataset": dataset.name,
        "dataset_fingerprint": dataset.fingerprint,
    }
    if existing is None:
        optuna_study.set_user_attr(
            STUDY_ATTR,
            {
                **expected,
                "space_name": space.name,
                "space_file": space_file,
                "space_yaml": _space_text(space, space_file),
                "objective": [objective.model_dump() for objective in space.search.objective],
                "backend": backend.name,
                "algorithm": backend.algorithm,
                "pruner": backend.pruner_name,
                "input_shape": list(dataset.input_shape),
                "num_classes": dataset.num_classes,
                "class_names": list(dataset.class_names),
                "validation_fraction": space.search.validation_fraction,
                "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            },
        )
        return optuna_study, True
    if existing.get("space_hash") != expected["space_hash"]:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} was created with another search space "
            f"(space {existing.get('space_name')!r}, file {existing.get('space_file')}); mixing them would make "
            "the results meaningless. Use the original space file, or start a new study with --study NEW_NAME"
        )
    if existing.get("dataset_fingerprint") != expected["dataset_fingerprint"]:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} was created on other data (dataset "
            f"{existing.get('dataset')!r}, fingerprint {str(existing.get('dataset_fingerprint'))[:12]}, now "
            f"{dataset.fingerprint[:12]}); start a new study with --study NEW_NAME"
        )
    return optuna_study, False


def _space_text(space: SearchSpace, space_file: str | None) -> str:
    if space_file is not None and Path(space_file).is_file():
        return Path(space_file).read_text(encoding="utf-8")
    return yaml.safe_dump(space.model_dump(mode="json"), sort_keys=False)


def _append_run(optuna_study: Any, info: SearchInfo) -> None:
    runs = list(optuna_study.user_attrs.get("runs", []))
    runs.append(
        {
            "command_line": info.command_line,
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "worker": worker_id(),
            "versions": info.versions,
            "backend": info.backend,
            "algorithm": info.algorithm,
            "pruner": info.pruner,
            "seed": info.seed,
        }
    )
    optuna_study.set_user_attr("runs", runs[-50:])


def _fail_dead_local_trials(optuna_study: Any) -> None:
    """Mark trials left RUNNING by a dead process on this machine as failed, and retry each once."""
    import optuna

    host = worker_id().split(":")[0]
    for trial in optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = str(trial.user_attrs.get(WORKER_ATTR, ""))
        worker_host, _, pid = worker.rpartition(":")
        if worker_host != host or not pid.isdigit() or process_alive(int(pid)):
            continue
        mark_trial_lost(
            optuna_study, trial, reason=f"the worker process {pid} ended while this trial was running"
        )


def mark_trial_lost(optuna_study: Any, trial: Any, *, reason: str) -> None:
    """Record ``trial`` (left running by a dead worker) as failed and enqueue one retry of it."""
    import optuna

    storage = optuna_study._storage
    trial_id = trial._trial_id
    storage.set_trial_user_attr(trial_id, STATUS_ATTR, "failed")
    storage.set_trial_user_attr(trial_id, REASON_ATTR, reason)
    try:
        storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)
    except RuntimeError:
        return  # another worker finished it meanwhile
    if trial.user_attrs.get(RETRY_OF_ATTR) is None and trial.params:
        optuna_study.enqueue_trial(
            dict(trial.params),
            user_attrs={
                RETRY_OF_ATTR: trial.number,
                **{
                    key: trial.user_attrs[key] for key in (SEED_ATTR, "seed_index") if key in trial.user_attrs
                },
            },
        )


class _Heartbeat:
    """Records a heartbeat for a running trial so other workers can fail it if this process dies."""

    def __init__(self, storage: Any, trial_id: int) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
        if interval:
            storage.record_heartbeat(trial_id)
            self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
            self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:  # a missed beat is harmless; the next one retries
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _TrialLoop:
    """Runs trials until the trial count, the time budget or the backend says stop."""

    def __init__(
        self,
        *,
        study: Study,
        backend: Backend,
        dataset: Dataset,
        space: SearchSpace,
        callbacks: Sequence[SearchCallback],
        seed: int,
        device: str,
        failures_limit: int,
    ) -> None:
        self.study = study
        self.optuna_study = study.optuna_study
        self.backend = backend
        self.dataset = dataset
        self.space = space
        self.callbacks = callbacks
        self.seed = seed
        self.device = device
        self.failures_limit = failures_limit
        self.objectives = space.search.objective
        self.state = _LoopState()
        self.worker = worker_id()

    def run(self, *, trials_limit: int | None, deadline: float | None, retrain: bool) -> None:
        import optuna

        while True:
            if trials_limit is not None and self._counted_trials() >= trials_limit:
                return
            if self.backend.exhausted(self.optuna_study):
                return
            if deadline is not None and not self._time_for_another(deadline, retrain=retrain):
                return
            optuna.storages.fail_stale_trials(self.optuna_study)
            self._run_one(deadline)

    def _counted_trials(self) -> int:
        trials = self.optuna_study.get_trials(deepcopy=False)
        return sum(1 for trial in trials if _status_of(trial) in COUNTED_STATUSES)

    def _time_for_another(self, deadline: float, *, retrain: bool) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        estimate = statistics.median(self.state.trial_seconds) if self.state.trial_seconds else 0.0
        reserve = self._retrain_estimate() if retrain else 0.0
        return remaining > estimate + reserve

    def _retrain_estimate(self) -> float:
        try:
            best = self.study.best_trial
        except SearchError:
            return 0.0
        if not best.curve or best.config is None:
            return 0.0
        per_epoch = statistics.median(epoch.seconds for epoch in best.curve)
        growth = (len(self.dataset.x_train) + len(self.dataset.x_val)) / max(len(self.dataset.x_train), 1)
        return per_epoch * best.config.training.epochs * growth * 1.1

    def _run_one(self, deadline: float | None) -> None:
        trial = self.optuna_study.ask()
        trial.set_user_attr(WORKER_ATTR, self.worker)
        if self.device:
            trial.set_user_attr(DEVICE_ATTR, self.device)
        try:
            proposal = self.backend.propose(trial)
        except Exception as error:
            self._finish(
                trial, status="failed", reason=f"the backend could not propose a configuration: {error}"
            )
            raise
        config = proposal.config
        trial.set_user_attr(CONFIG_ATTR, config.to_dict())
        for callback in self.callbacks:
            callback.on_trial_start(trial.number, config, seed_name=proposal.seed_name)
        problem, architecture = self._check(config)
        if problem is not None:
            self._finish(trial, status="rejected", reason=problem)
            self._count_rejection(trial.number, problem)
            return
        self.state.consecutive_rejections.clear()
        assert architecture is not None
        metrics: dict[str, float] = {"params": float(architecture.params), "flops": float(architecture.flops)}
        started = time.monotonic()
        heartbeat = _Heartbeat(self.optuna_study._storage, trial._trial_id)
        model = None
        try:
            model, status, reason, curve = self._train(trial, proposal, deadline, metrics)
        except KeyboardInterrupt:
            heartbeat.stop()
            self._finish(trial, status="interrupted", reason="stopped by Ctrl-C or SIGTERM", metrics=metrics)
            raise
        finally:
            heartbeat.stop()
        self.state.trial_seconds.append(time.monotonic() - started)
        self.state.trials_run += 1
        values = self._values(metrics) if status == "complete" else None
        if status == "complete" and model is not None:
            self._keep_if_best(model, values)
        self._finish(
            trial, status=status, reason=reason, metrics=metrics, curve=curve, values=values, model=model
        )
        del model
        _release_memory()
        if status == "failed":
            self.state.consecutive_failures.append((trial.number, reason))
            if len(self.state.consecutive_failures) >= self.failures_limit:
                raise SearchError(_failure_summary(self.state.consecutive_failures, "failed"))
        else:
            self.state.consecutive_failures.clear()

    def _check(self, config: TrialConfig) -> tuple[str | None, Any]:
        from autocnn.model import analyze_architecture

        try:
            architecture = analyze_architecture(
                config, input_shape=self.dataset.input_shape, num_classes=self.dataset.num_classes
            )
        except InvalidArchitectureError as error:
            return str(error), None
        constraints = self.space.search.constraints
        if constraints.max_params is not None and architecture.params > constraints.max_params:
            return f"{architecture.params:,} parameters exceed the limit of {constraints.max_params:,}", None
        if constraints.max_flops is not None and architecture.flops > constraints.max_flops:
            return f"{architecture.flops:,} FLOPs exceed the limit of {constraints.max_flops:,}", None
        return None, architecture

    def _count_rejection(self, number: int, reason: str) -> None:
        self.state.consecutive_rejections.append((number, reason))
        if len(self.state.consecutive_rejections) >= MAX_CONSECUTIVE_REJECTIONS:
            raise SearchError(
                _failure_summary(self.state.consecutive_rejections, "were rejected as invalid")
                + "; the space mostly holds networks that cannot be built for this input size"
            )

    def _train(
        self, trial: Any, proposal: Proposal, deadline: float | None, metrics: dict[str, float]
    ) -> tuple[Any, str, str, list[EpochRecord]]:
        from autocnn.training import fit_config

        def on_epoch(record: EpochRecord) -> bool:
            for callback in self.callbacks:
                callback.on_epoch_end(trial.number, record)
            return self.backend.should_prune(trial, record)

        config = attempt_config = proposal.config
        for attempt in (1, 2):
            try:
                result = fit_config(
                    attempt_config,
                    self.dataset,
                    epochs=proposal.max_epochs,
                    on_epoch=on_epoch,
                    deadline=deadline,
                    seed=self.seed + trial.number,
                    initial_weights=proposal.initial_weights,
                    initial_epoch=proposal.initial_epoch,
                )
            except KeyboardInterrupt:
                raise
            except Exception as error:
                reason = _error_reason(error)
                smaller = _half_batch(self.space, attempt_config) if _is_out_of_memory(error) else None
                if attempt == 1 and smaller is not None:
                    attempt_config = smaller
                    _release_memory()
                    continue
                return None, "failed", reason, []
            break
        metrics.update(result.metrics)
        metrics["train_time"] = result.train_seconds
        weights_path = self.backend.weights_path(trial)
        if weights_path is not None and result.stop_reason in ("completed", "pruned"):
            weights_path.parent.mkdir(parents=True, exist_ok=True)
            result.model.save_weights(weights_path)
        metrics["epochs"] = float(len(result.curve))
        if attempt_config is not config:
            metrics["batch_size_used"] = float(attempt_config.training.batch_size)
        if result.stop_reason == "completed":
            if "val_accuracy" not in metrics:
                return result.model, "failed", "training ended without a validation result", result.curve
            return result.model, "complete", "", result.curve
        if result.stop_reason == "pruned":
            return result.model, "pruned", result.message, result.curve
        if result.stop_reason == "deadline":
            return result.model, "pruned", result.message, result.curve
        return result.model, "failed", result.message, result.curve

    def _values(self, metrics: dict[str, float]) -> tuple[float, ...]:
        return tuple(float(metrics[objective.metric]) for objective in self.objectives)

    def _keep_if_best(self, model: Any, values: tuple[float, ...] | None) -> None:
        """Save the best-so-far trial model, so that nothing finished is lost (single objective)."""
        if values is None or len(values) != 1:
            return
        maximize = self.objectives[0].direction == "maximize"
        try:
            study_best = float(self.optuna_study.best_value)
        except ValueError:
            study_best = None
        if study_best is not None and (values[0] <= study_best if maximize else values[0] >= study_best):
            return
        path = self.study.directory / "best_trial_model.keras"
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp.keras")
        model.save(temporary)
        os.replace(temporary, path)

    def _finish(
        self,
        trial: Any,
        *,
        status: str,
        reason: str = "",
        metrics: dict[str, float] | None = None,
        curve: list[EpochRecord] | None = None,
        values: tuple[float, ...] | None = None,
        model: Any = None,
    ) -> None:
        import optuna

        trial.set_user_attr(STATUS_ATTR, status)
        if reason:
            trial.set_user_attr(REASON_ATTR, reason)
        if metrics:
            trial.set_user_attr(METRICS_ATTR, {key: _finite_or_none(value) for key, value in metrics.items()})
        if curve:
            trial.set_user_attr(CURVE_ATTR, [record.to_dict() for record in curve])
        if status == "complete":
            self.optuna_study.tell(trial, list(values or ()))
        elif status == "pruned":
            self.optuna_study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            self.optuna_study.tell(trial, state=optuna.trial.TrialState.FAIL)
        self.backend.finish(trial, status=status, values=values, weights_path=None)
        record = record_from_trial(self.optuna_study._storage.get_trial(trial._trial_id))
        for callback in self.callbacks:
            callback.on_trial_end(record, model=model)


def _retrain_best(study: Study, dataset: Dataset, *, callbacks: Sequence[SearchCallback], seed: int) -> None:
    """Retrain the best configuration on train + validation, evaluate it once on test, save it."""
    from autocnn.training import compile_for_export, evaluate_model, fit_config

    ranked = study.ranked()
    if not ranked:
        return
    best = ranked[0]
    previous = study.final
    if previous is not None and previous.trial_number == best.number and Path(previous.model_path).exists():
        return
    config = best.config
    assert config is not None
    epochs = config.training.epochs
    for callback in callbacks:
        callback.on_retrain_start(best.number, config, epochs=epochs)
    result = fit_config(config, dataset, final=True, seed=seed)
    if result.stop_reason != "completed":
        raise SearchError(
            f"the final retrain of trial {best.number} stopped: {result.message}; the trials are kept, "
            f"and the best trial's own model is in {study.directory}"
        )
    test = evaluate_model(result.model, dataset.x_test, dataset.y_test)
    directory = study.directory
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / "best_model.keras"
    config_path = directory / "best_config.json"
    compile_for_export(result.model)
    result.model.save(model_path)
    write_json(config_path, config.to_dict())
    final = FinalResult(
        trial_number=best.number,
        config=config,
        test_accuracy=test["accuracy"],
        test_loss=test["loss"],
        epochs=len(result.curve),
        train_seconds=result.train_seconds,
        model_path=str(model_path.resolve()),
        config_path=str(config_path.resolve()),
    )
    study.optuna_study.set_user_attr(FINAL_ATTR, final.to_dict())
    for callback in callbacks:
        callback.on_retrain_end(final, model=result.model, example=dataset.x_test[:8])
    del result
    _release_memory()


def _status_of(trial: Any) -> str:
    status = trial.user_attrs.get(STATUS_ATTR)
    if status is not None:
        return str(status)
    state = str(trial.state.name)
    return {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}.get(state, state.lower())


def _release_memory() -> None:
    import keras

    keras.backend.clear_session(free_memory=True)
    gc.collect()


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _error_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}"[:500]


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or type(error).__name__ in (
        "ResourceExhaustedError",
        "OutOfMemoryError",
    )


def _half_batch(space: SearchSpace, config: TrialConfig) -> TrialConfig | None:
    """Return ``config`` with half the batch size if the space allows that batch size."""
    half = config.training.batch_size // 2
    if half < 1 or not space.training.batch_size.contains(half):
        return None
    return config.model_copy(update={"training": config.training.model_copy(update={"batch_size": half})})


def _failure_summary(failures: list[tuple[int, str]], verb: str) -> str:
    reasons = Counter(reason for _, reason in failures)
    reason, count = reasons.most_common(1)[0]
    numbers = ", ".join(str(number) for number, _ in failures[-5:])
    return (
        f"{len(failures)} trials in a row {verb} (last: {numbers}); the most common reason "
        f"({count} of them): {reason}"
    )
