"""The private Optuna and Keras Tuner calls autocnn relies on, in one place, each with the public API it lacks.

autocnn drives studies with ask/tell and runs its own loop, so it needs a few things that the
libraries expose only to their own ``Study.optimize`` and ``Tuner``. Each function below names
what is missing; when a release adds it, only this module changes (the suite covers every call).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "heartbeat_enabled",
    "oracle_file",
    "set_oracle_project",
    "silent_trial_ids",
    "stale_trial_ids",
    "study_storage",
    "trial_id",
]


def study_storage(study: Any) -> Any:
    """Return an ``optuna.Study``'s storage (no public accessor; workers and heartbeats need it)."""
    return study._storage


def trial_id(trial: Any) -> int:
    """Return the storage id of an ``optuna.Trial`` (public: only ``number``; storage methods take the id)."""
    return int(trial._trial_id)


def heartbeat_enabled(storage: Any) -> bool:
    """Return whether ``storage`` records heartbeats (Optuna's check lives in the private ``_heartbeat``)."""
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return bool(is_heartbeat_enabled(storage))


def stale_trial_ids(study: Any) -> list[int]:
    """Return the ids of running trials whose heartbeat stopped.

    Optuna fails them only inside ``Study.optimize`` (``fail_stale_trials``), which an ask/tell
    loop never calls, and that helper fails them without the retry autocnn queues.
    """
    return list(study._storage._get_stale_trial_ids(study._study_id))


def silent_trial_ids(study: Any) -> list[int]:
    """Return the ids of running trials with no heartbeat recorded at all.

    Optuna's stale check skips them, so a worker lost between creating a trial and its first beat
    would leave that trial running for ever. A database server's storage retries the query
    through an outage, as it does every other call.
    """
    import optuna
    from optuna.storages._rdb import models

    storage = getattr(study._storage, "_backend", study._storage)

    def query() -> list[int]:
        with storage.scoped_session() as session:
            rows = (
                session.query(models.TrialModel.trial_id)
                .outerjoin(models.TrialHeartbeatModel)
                .filter(models.TrialModel.study_id == study._study_id)
                .filter(models.TrialModel.state == optuna.trial.TrialState.RUNNING)
                .filter(models.TrialHeartbeatModel.trial_heartbeat_id.is_(None))
                .all()
            )
        return [int(row[0]) for row in rows]

    retried = getattr(storage, "_retried", None)
    return list(retried(query)) if callable(retried) else query()


def set_oracle_project(oracle: Any, *, directory: str, project: str) -> None:
    """Point a Keras Tuner oracle at its project folder (done by a ``Tuner``, which autocnn does not use)."""
    oracle._set_project_dir(directory, project)


def oracle_file(oracle: Any) -> str:
    """Return the path of the oracle's saved state (``oracle.json``), private in Keras Tuner."""
    return str(oracle._get_oracle_fname())
