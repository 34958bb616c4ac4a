"""Each pruner stops trials whose curves trail, at an early epoch, and lets the leading ones finish."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import optuna
import pytest

from autocnn.backends import make_backend
from autocnn.core.records import CURVE_ATTR, EpochRecord, TrialStatus
from autocnn.space import parse_space

EPOCHS = 9
PRUNER_SPACE = parse_space(
    f"""
name: pruners
model:
  blocks: {{count: 1, filters: [4, 8]}}
  head: {{dense_layers: 0}}
training: {{learning_rate: {{low: 1e-3, high: 1e-1, log: true}}, epochs: {EPOCHS}}}
"""
)
# Leading trials climb to 0.9; trailing ones stay near chance. They alternate after a leading start.
PLAN = ["leading"] * 4 + ["trailing", "leading"] * 8


def curve_value(kind: Any, epoch: int) -> float:
    return 0.5 + 0.4 * epoch / EPOCHS if kind == "leading" else 0.1 + 0.01 * epoch


def run_curves(
    backend_name: str,
    pruner: str,
    tmp_path,
    *,
    plan: Sequence[Any] = PLAN,
    value_of: Callable[[Any, int], float] = curve_value,
) -> list[tuple[Any, int]]:
    """Drive the backend through ``plan`` without training; return (kind, epochs run) per trial."""
    backend = make_backend(backend_name, PRUNER_SPACE, algorithm="random", pruner=pruner, seed=0)
    # a fixed name: Optuna's Hyperband assigns brackets by a hash of the study name and trial number
    study = optuna.create_study(
        study_name="pruners", direction="maximize", sampler=backend.sampler(), pruner=backend.pruner()
    )
    backend.bind(study, directory=tmp_path)
    backend.prepare(study, new=True)
    outcomes = []
    for kind in plan:
        trial = study.ask()
        backend.propose(trial)
        curve = []
        for epoch in range(1, EPOCHS + 1):
            value = value_of(kind, epoch)
            record = EpochRecord(
                epoch=epoch, loss=1 - value, accuracy=value, val_loss=1 - value, val_accuracy=value
            )
            curve.append(record.to_dict())
            if backend.should_prune(trial, record):
                break
        trial.set_user_attr(CURVE_ATTR, curve)
        pruned = epoch < EPOCHS
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)
        status = TrialStatus.PRUNED if pruned else TrialStatus.COMPLETE
        backend.finish(trial, status=status, values=(value,), weights_path=None)
        outcomes.append((kind, epoch))
    backend.close()
    return outcomes


CASES = [
    ("optuna", "median"),
    ("optuna", "quartile"),
    ("optuna", "asha"),
    ("optuna", "hyperband"),
    ("keras-tuner", "median"),
    ("keras-tuner", "quartile"),
]


@pytest.mark.parametrize(("backend_name", "pruner"), CASES, ids=[f"{b}-{p}" for b, p in CASES])
def test_the_pruner_stops_trailing_trials_early_and_lets_leading_ones_finish(backend_name, pruner, tmp_path):
    outcomes = run_curves(backend_name, pruner, tmp_path)
    trailing = [epochs for kind, epochs in outcomes if kind == "trailing"]
    leading = [epochs for kind, epochs in outcomes if kind == "leading"]
    # Hyperband puts about a third of the trials in a bracket that runs them to the end, by design
    share = 3 if pruner == "hyperband" else 2
    assert sum(epochs < EPOCHS for epochs in trailing) >= len(trailing) // share, outcomes
    assert min(trailing) <= 3, outcomes
    assert sum(epochs == EPOCHS for epochs in leading) >= len(leading) - 2, outcomes


def test_no_pruner_lets_every_trial_finish(tmp_path):
    outcomes = run_curves("optuna", "none", tmp_path)
    assert all(epochs == EPOCHS for _, epochs in outcomes), outcomes


def test_the_median_pruner_judges_a_trial_no_earlier_than_a_third_of_its_epochs(tmp_path):
    outcomes = run_curves("optuna", "median", tmp_path)
    pruned = [epochs for _, epochs in outcomes if epochs < EPOCHS]
    assert pruned, outcomes
    assert min(pruned) == EPOCHS // 3, outcomes  # not at epoch 1, where a regularised net still trails


@pytest.mark.parametrize("backend_name", ["optuna", "keras-tuner"])
def test_the_quartile_pruner_stops_only_the_lowest_quarter_where_the_median_stops_the_lower_half(
    backend_name, tmp_path
):
    # finished trials reach 0.60, 0.70, 0.80 and 0.90 at every epoch; then one at 0.68 and one at 0.62
    # (Optuna interpolates: lower quartile 0.675, median 0.75)
    plan = [0.6, 0.7, 0.8, 0.9, 0.68, 0.62]

    def epochs_run(pruner: str) -> list[int]:
        outcomes = run_curves(
            backend_name, pruner, tmp_path / pruner, plan=plan, value_of=lambda level, epoch: level
        )
        return [epochs for _, epochs in outcomes]

    third = EPOCHS // 3
    assert epochs_run("median")[4:] == [third, third]
    assert epochs_run("quartile")[4:] == [EPOCHS, third]
