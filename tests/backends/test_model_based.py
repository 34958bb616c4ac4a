"""Model-based samplers leave their random start-up and propose better configurations than chance."""

from __future__ import annotations

import statistics

import pytest

from tests.backends.test_contract import drive, fake_accuracy

TRIALS = 20
LATE = 10
# fake_accuracy under uniform sampling of the contract space: blocks 1-3 give 0.5 + 0.2 on average,
# log10(learning rate) uniform on [-4, -1] is on average 5/6 from the optimum at -2: 0.658 in all.
RANDOM_MEAN = 0.5 + 0.2 - 0.05 * 5 / 6

# Keras Tuner's Bayesian oracle passes this too (0.75 vs 0.68 after 10 trials) but takes 8 s a proposal here
MODEL_BASED = [("optuna", "tpe"), ("optuna", "gp"), ("optuna", "cmaes")]


def late_mean(backend_name: str, algorithm: str, tmp_path) -> float:
    """Return the mean fake accuracy of the last proposals, well past every sampler's start-up trials."""
    proposals, _ = drive(backend_name, algorithm, tmp_path, trials=TRIALS, seed=0)
    return statistics.mean(fake_accuracy(proposal.config) for _, proposal in proposals[-LATE:])


@pytest.mark.parametrize(("backend_name", "algorithm"), MODEL_BASED, ids=[f"{b}-{a}" for b, a in MODEL_BASED])
def test_a_model_based_sampler_past_its_start_up_proposes_better_than_random(
    backend_name, algorithm, tmp_path
):
    if algorithm == "gp":
        pytest.importorskip("torch", reason="Optuna's GP sampler needs PyTorch (scripts/setup-test-env.sh)")
    random_late = late_mean(backend_name, "random", tmp_path / "random")
    model_late = late_mean(backend_name, algorithm, tmp_path / algorithm)
    assert random_late < RANDOM_MEAN + 0.03, "the random baseline itself found the optimum: test is moot"
    assert model_late > RANDOM_MEAN + 0.05, (model_late, random_late)
    assert model_late > random_late + 0.04, (model_late, random_late)
