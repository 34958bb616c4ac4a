"""A lost trial never counts towards max_trials: its retry does, even before the retry is enqueued."""

from __future__ import annotations

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
