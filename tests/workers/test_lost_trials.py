"""A lost trial never counts towards max_trials: its retry does, even before the retry is enqueued."""

from __future__ import annotations

import time
from types import SimpleNamespace

import optuna
import pytest

from autocnn.core.lost_trials import mark_trial_lost
from autocnn.core.records import RETRY_OF_ATTR, STATUS_ATTR, TrialStatus
from autocnn.core.view import StudyView
from autocnn.space import Objective


@pytest.fixture
def study_with_a_running_trial():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna_study = optuna.create_study(direction="maximize")
    for value in (0.5, 0.6):
        optuna_study.add_trial(
            optuna.trial.create_trial(
                params={"lr": value / 100},
                distributions={"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1)},
                value=value,
                user_attrs={STATUS_ATTR: TrialStatus.COMPLETE.value},
            )
        )
    running = optuna_study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1)})
    view_of = SimpleNamespace(
        optuna_study=optuna_study, objectives=(Objective(metric="val_accuracy", direction="maximize"),)
    )
    return optuna_study, running, view_of


def test_a_lost_trial_does_not_count_while_its_retry_is_being_enqueued(
    study_with_a_running_trial, monkeypatch
):
    optuna_study, running, view_of = study_with_a_running_trial
    counted_meanwhile = []
    enqueue = optuna_study.enqueue_trial

    def look_then_enqueue(*args, **kwargs):
        view = StudyView(view_of)
        view.refresh()
        counted_meanwhile.append(view.counted)  # what another worker sees between failing and enqueueing
        enqueue(*args, **kwargs)

    monkeypatch.setattr(optuna_study, "enqueue_trial", look_then_enqueue)
    lost = optuna_study.get_trials(deepcopy=False)[running.number]
    assert mark_trial_lost(optuna_study, lost, reason="its worker stopped sending heartbeats")
    assert counted_meanwhile == [2]

    trials = optuna_study.get_trials(deepcopy=False)
    assert trials[running.number].state == optuna.trial.TrialState.FAIL
    retry = trials[-1]
    assert (
        retry.state == optuna.trial.TrialState.WAITING and retry.user_attrs[RETRY_OF_ATTR] == running.number
    )
    view = StudyView(view_of)
    view.refresh()
    assert view.counted == 2


def test_a_lost_retry_counts_as_it_has_no_retry_of_its_own(study_with_a_running_trial):
    optuna_study, _, view_of = study_with_a_running_trial
    first = optuna_study.get_trials(deepcopy=False)[-1]
    assert mark_trial_lost(optuna_study, first, reason="lost")
    retry = optuna_study.ask()
    assert retry.user_attrs[RETRY_OF_ATTR] == first.number
    assert mark_trial_lost(
        optuna_study, optuna_study.get_trials(deepcopy=False)[retry.number], reason="lost again"
    )
    assert len(optuna_study.get_trials(deepcopy=False)) == 4  # no retry of a retry
    view = StudyView(view_of)
    view.refresh()
    assert view.counted == 3  # two complete trials and the failed retry; the first lost trial not


def test_a_trial_silent_through_an_outage_is_not_failed_until_its_heartbeats_could_resume(
    tmp_path, monkeypatch
):
    # CI once saw a worker fail the other's running trial a grace period after the database came
    # back, while that worker's heartbeat still waited out its retry delay (up to 5 s)
    from autocnn.core import storage_outage
    from autocnn.core.compat import trial_id
    from autocnn.core.lost_trials import fail_stale_trials

    monkeypatch.setenv("AUTOCNN_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("AUTOCNN_HEARTBEAT_GRACE", "1")
    outages = storage_outage.OutageLog()
    monkeypatch.setattr(storage_outage, "OUTAGES", outages)
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1, grace_period=1
    )
    optuna_study = optuna.create_study(storage=storage, direction="maximize")
    running = optuna_study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1)})
    storage.record_heartbeat(trial_id(running))
    time.sleep(2.2)  # silent for twice the grace period

    def state() -> optuna.trial.TrialState:
        return optuna_study.get_trials(deepcopy=False)[running.number].state

    # back 3 s ago: past the grace period and a beat, within a retry delay
    outages._recovered_at = time.monotonic() - 3
    fail_stale_trials(optuna_study)
    assert state() == optuna.trial.TrialState.RUNNING
    outages._recovered_at = time.monotonic() - 8  # long enough for any live worker's heartbeat to resume
    fail_stale_trials(optuna_study)
    assert state() == optuna.trial.TrialState.FAIL


def test_a_trial_that_never_sent_a_heartbeat_is_failed_once_seen_silent_long_enough(tmp_path, monkeypatch):
    # CI once saw a worker lose its database between creating a trial and its first heartbeat:
    # Optuna's stale check skips such a trial, and a restarted worker waited for it for ever
    from autocnn.core import storage_outage
    from autocnn.core.compat import trial_id
    from autocnn.core.lost_trials import SilentTrials, fail_stale_trials

    monkeypatch.setenv("AUTOCNN_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("AUTOCNN_HEARTBEAT_GRACE", "2")
    monkeypatch.setattr(storage_outage, "OUTAGES", storage_outage.OutageLog())
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1, grace_period=2
    )
    optuna_study = optuna.create_study(storage=storage, direction="maximize")
    distributions = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1)}
    never_beat = optuna_study.ask(distributions)
    beats_late = optuna_study.ask(distributions)
    now = [100.0]
    silent = SilentTrials(clock=lambda: now[0])

    def states() -> list[optuna.trial.TrialState]:
        return [trial.state for trial in optuna_study.get_trials(deepcopy=False)]

    fail_stale_trials(optuna_study, silent=silent)
    now[0] += 7.9  # under grace, a beat and the longest retry delay (2 + 1 + 5 s)
    storage.record_heartbeat(trial_id(beats_late))  # a live worker, slow to send its first beat
    fail_stale_trials(optuna_study, silent=silent)
    assert states() == [optuna.trial.TrialState.RUNNING] * 2
    now[0] += 0.2
    fail_stale_trials(optuna_study, silent=silent)
    assert states()[:2] == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING]
    retry = optuna_study.get_trials(deepcopy=False)[2]
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.user_attrs[RETRY_OF_ATTR] == never_beat.number
