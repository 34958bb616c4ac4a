"""Trials left running by a worker that died: failed, and retried once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from autocnn._system import process_alive, worker_id
from autocnn.core.compat import heartbeat_enabled, silent_trial_ids, stale_trial_ids, study_storage, trial_id
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


class SilentTrials:
    """When this process first saw each running trial that has no heartbeat at all."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._first_seen: dict[int, float] = {}

    def silent_for(self, trial_ids: Sequence[int], *, seconds: float) -> list[int]:
        """Return those of ``trial_ids`` (silent now) seen silent for ``seconds``; forget the others."""
        now = self._clock()
        self._first_seen = {number: self._first_seen.get(number, now) for number in trial_ids}
        return [number for number, seen in self._first_seen.items() if now - seen >= seconds]


def fail_stale_trials(optuna_study: Any, *, silent: SilentTrials | None = None) -> None:
    """Fail trials whose worker stopped sending heartbeats (killed, out of memory, lost), retrying each once.

    With ``silent``, a trial that never sent one is failed too once this process has seen it
    silent for as long as a live worker could take to send its first.
    """
    from autocnn.core.storage import heartbeat_settings
    from autocnn.core.storage_outage import LONGEST_RETRY_DELAY_S, OUTAGES

    storage = study_storage(optuna_study)
    interval, grace = heartbeat_settings()
    # Heartbeats missed while the database was gone say nothing about their workers: after it is
    # back, a live worker's heartbeats resume within its retry delay and a beat's interval, and
    # only a grace period after that is a silent trial's worker lost.
    waited_s = grace + interval + LONGEST_RETRY_DELAY_S
    if not heartbeat_enabled(storage) or OUTAGES.recovered_within(waited_s):
        return
    lost = stale_trial_ids(optuna_study)
    if silent is not None:
        # a live worker beats as soon as it creates a trial; one lost before that never beats
        lost += silent.silent_for(silent_trial_ids(optuna_study), seconds=waited_s)
    for stale in lost:
        mark_trial_lost(
            optuna_study,
            storage.get_trial(stale),
            reason="its worker stopped sending heartbeats (killed, out of memory or lost)",
        )
