"""Trials left running by a worker that died: failed, and retried once."""

from __future__ import annotations

from typing import Any

from autocnn._system import process_alive, worker_id
from autocnn.core.compat import heartbeat_enabled, stale_trial_ids, study_storage, trial_id
from autocnn.core.records import (
    REASON_ATTR,
    RETRIED_ATTR,
    RETRY_OF_ATTR,
    SEED_ATTR,
    SEED_INDEX_ATTR,
    STATUS_ATTR,
    WORKER_ATTR,
    TrialStatus,
)


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
    retried = trial.user_attrs.get(RETRY_OF_ATTR) is None and bool(
        trial.params or SEED_INDEX_ATTR in trial.user_attrs
    )
    try:
        storage.set_trial_user_attr(number, STATUS_ATTR, TrialStatus.FAILED.value)
        storage.set_trial_user_attr(number, REASON_ATTR, reason)
        # Marked before the trial is failed, so no worker ever counts it towards max_trials and
        # stops while its retry is still to be enqueued.
        storage.set_trial_user_attr(number, RETRIED_ATTR, retried)
        if not storage.set_trial_state_values(number, optuna.trial.TrialState.FAIL):
            return False
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
        return False
    if retried:
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
    from autocnn.core.storage import heartbeat_settings
    from autocnn.core.storage_outage import LONGEST_RETRY_DELAY_S, OUTAGES

    storage = study_storage(optuna_study)
    interval, grace = heartbeat_settings()
    # Heartbeats missed while the database was gone say nothing about their workers: after it is
    # back, a live worker's heartbeats resume within its retry delay and a beat's interval, and
    # only a grace period after that is a silent trial's worker lost.
    if not heartbeat_enabled(storage) or OUTAGES.recovered_within(grace + interval + LONGEST_RETRY_DELAY_S):
        return
    for stale in stale_trial_ids(optuna_study):
        mark_trial_lost(
            optuna_study,
            storage.get_trial(stale),
            reason="its worker stopped sending heartbeats (killed, out of memory or lost)",
        )
