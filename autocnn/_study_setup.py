"""Open or create a study in its storage, refuse mismatched ones, and clean up after dead workers."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from autocnn._compat import heartbeat_enabled, stale_trial_ids, study_storage, trial_id
from autocnn._system import hardware, process_alive, worker_id
from autocnn.backends import Backend
from autocnn.callbacks import SearchInfo
from autocnn.errors import StudyMismatchError
from autocnn.records import REASON_ATTR, RETRY_OF_ATTR, SEED_ATTR, SEED_INDEX_ATTR, STATUS_ATTR, WORKER_ATTR
from autocnn.space import SearchSpace, space_hash
from autocnn.storage import mask_secrets, open_storage
from autocnn.study import STUDY_ATTR

if TYPE_CHECKING:
    from autocnn.data import Dataset


def open_study(
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
            "choose another `study` name"
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
                "trial_train_fraction": space.search.trial_train_fraction,
                "retrain_epochs": space.search.retrain_epochs,
                "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            },
        )
        return optuna_study, True
    if existing.get("space_hash") != expected["space_hash"]:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} was created with another search space "
            f"(space {existing.get('space_name')!r}, file {existing.get('space_file')}); mixing them would make "
            "the results meaningless. Use the original space file, or start a new study under another `study` name"
        )
    if existing.get("dataset_fingerprint") != expected["dataset_fingerprint"]:
        raise StudyMismatchError(
            f"study {name!r} in {mask_secrets(url)} was created on other data (dataset "
            f"{existing.get('dataset')!r}, fingerprint {str(existing.get('dataset_fingerprint'))[:12]}, now "
            f"{dataset.fingerprint[:12]}); start a new study under another `study` name"
        )
    return optuna_study, False


def _space_text(space: SearchSpace, space_file: str | None) -> str:
    if space_file is not None and Path(space_file).is_file():
        return Path(space_file).read_text(encoding="utf-8")
    return yaml.safe_dump(space.model_dump(mode="json"), sort_keys=False)


def append_run(optuna_study: Any, info: SearchInfo) -> None:
    runs = list(optuna_study.user_attrs.get("runs", []))
    runs.append(
        {
            "command_line": info.command_line,
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "worker": worker_id(),
            "versions": info.versions,
            "hardware": hardware(),
            "backend": info.backend,
            "algorithm": info.algorithm,
            "pruner": info.pruner,
            "seed": info.seed,
        }
    )
    optuna_study.set_user_attr("runs", runs[-50:])


def fail_dead_local_trials(optuna_study: Any) -> None:
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


def mark_trial_lost(optuna_study: Any, trial: Any, *, reason: str) -> bool:
    """Record ``trial`` (left running by a lost worker) as failed and enqueue one retry of it.

    Returns False when the trial finished meanwhile or another worker marked it first.
    """
    import optuna

    storage = study_storage(optuna_study)
    number = trial_id(trial)
    try:
        storage.set_trial_user_attr(number, STATUS_ATTR, "failed")
        storage.set_trial_user_attr(number, REASON_ATTR, reason)
        if not storage.set_trial_state_values(number, optuna.trial.TrialState.FAIL):
            return False
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
        return False
    if trial.user_attrs.get(RETRY_OF_ATTR) is None and (trial.params or SEED_INDEX_ATTR in trial.user_attrs):
        optuna_study.enqueue_trial(
            dict(trial.params),
            user_attrs={
                RETRY_OF_ATTR: trial.number,
                **{
                    key: trial.user_attrs[key]
                    for key in (SEED_ATTR, SEED_INDEX_ATTR)
                    if key in trial.user_attrs
                },
            },
        )
    return True


def fail_stale_trials(optuna_study: Any) -> None:
    """Fail trials whose worker stopped sending heartbeats (killed, out of memory, lost), retrying each once."""
    storage = study_storage(optuna_study)
    if not heartbeat_enabled(storage):
        return
    for stale in stale_trial_ids(optuna_study):
        mark_trial_lost(
            optuna_study,
            storage.get_trial(stale),
            reason="its worker stopped sending heartbeats (killed, out of memory or lost)",
        )
