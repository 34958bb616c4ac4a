"""One contract every backend passes (in the spirit of Optuna's shared sampler tests)."""

from __future__ import annotations

import math
import warnings

import optuna
import pytest

from autocnn.backends import make_backend
from autocnn.core.records import CURVE_ATTR, EpochRecord, TrialStatus
from autocnn.core.session import search
from autocnn.core.study import load_study
from autocnn.space import parse_space
from tests.spaces import NAN_SEED, PRUNING_SPACE

BACKENDS = [("optuna", "tpe"), ("optuna", "random"), ("keras-tuner", "random"), ("keras-tuner", "bayesian")]
IDS = [f"{backend}-{algorithm}" for backend, algorithm in BACKENDS]

CONTRACT_SPACE = parse_space(
    """
name: contract
model:
  blocks:
    count: {low: 1, high: 3}
    filters: [4, 8, 16]
    kernel_size: {low: 1, high: 5, step: 2}
    batch_norm: [true, false]
    dropout: {low: 0.0, high: 0.5}
    per_block:
      3: {filters: [32, 64]}
  head:
    pooling: [flatten, global_avg]
    dense_layers: {low: 0, high: 2}
    units: [16, 32]
training:
  optimizer: [adam, sgd]
  learning_rate: {low: 1e-4, high: 1e-1, log: true}
  batch_size: {low: 32, high: 128, step: 32}
search:
  pruner: none
seeds:
  - name: known
    model: {blocks: [{filters: 8}], head: {dense_units: [16]}}
"""
)


warnings.filterwarnings("ignore", module="sklearn.gaussian_process")


def fake_accuracy(config) -> float:
    return 0.5 + 0.1 * len(config.model.blocks) - abs(math.log10(config.training.learning_rate) + 2) * 0.05


def drive(backend_name: str, algorithm: str, tmp_path, *, trials: int, seed: int = 0):
    """Run the backend without training: propose, report one epoch, tell. Return configs and the backend."""
    backend = make_backend(backend_name, CONTRACT_SPACE, algorithm=algorithm, pruner="none", seed=seed)
    study = optuna.create_study(direction="maximize", sampler=backend.sampler(), pruner=backend.pruner())
    backend.bind(study, directory=tmp_path / f"{backend_name}-{algorithm}-{seed}")
    backend.prepare(study, new=True)
    proposals = []
    for _ in range(trials):
        assert not backend.exhausted(study)
        trial = study.ask()
        proposal = backend.propose(trial)
        value = fake_accuracy(proposal.config)
        record = EpochRecord(epoch=1, loss=1 - value, accuracy=value, val_loss=1 - value, val_accuracy=value)
        assert backend.should_prune(trial, record) is False
        trial.set_user_attr(CURVE_ATTR, [record.to_dict()])
        study.tell(trial, value)
        backend.finish(trial, status=TrialStatus.COMPLETE, values=(value,), weights_path=None)
        proposals.append((trial, proposal))
    backend.close()
    return proposals, backend


@pytest.mark.parametrize(("backend_name", "algorithm"), BACKENDS, ids=IDS)
def test_proposes_only_values_inside_the_space(backend_name, algorithm, tmp_path):
    parameters = CONTRACT_SPACE.parameters()
    proposals, _ = drive(backend_name, algorithm, tmp_path, trials=8)
    for _, proposal in proposals[1:]:
        for name, value in proposal.config.flat().items():
            if name in parameters:
                assert parameters[name].contains(value), (name, value)


@pytest.mark.parametrize(("backend_name", "algorithm"), BACKENDS, ids=IDS)
def test_the_same_seed_proposes_the_same_configurations(backend_name, algorithm, tmp_path):
    first, _ = drive(backend_name, algorithm, tmp_path / "first", trials=6, seed=0)
    again, _ = drive(backend_name, algorithm, tmp_path / "again", trials=6, seed=0)
    assert [p.config.to_dict() for _, p in first] == [p.config.to_dict() for _, p in again]


@pytest.mark.parametrize(("backend_name", "algorithm"), BACKENDS, ids=IDS)
def test_respects_conditional_blocks(backend_name, algorithm, tmp_path):
    proposals, backend = drive(backend_name, algorithm, tmp_path, trials=8)
    counts = set()
    for trial, proposal in proposals[1:]:
        count = len(proposal.config.model.blocks)
        counts.add(count)
        asked = _asked_names(backend_name, trial, backend)
        for number in range(count + 1, 4):
            assert not any(name.startswith(f"block{number}.") for name in asked), (count, sorted(asked))
        dense = len(proposal.config.model.head.dense_units)
        assert not any(name.startswith(f"head.dense{dense + 1}.") for name in asked)
        if count == 3:
            assert proposal.config.model.blocks[2].filters in (32, 64)
    assert len(counts) >= 2


def _asked_names(backend_name, trial, backend) -> set[str]:
    if backend_name == "optuna":
        return set(trial.params)
    kt_trial = backend.oracle.trials[trial.user_attrs["keras_tuner_trial"]]
    return {name for name in kt_trial.hyperparameters.values if not name.startswith("tuner/")}


@pytest.mark.parametrize(("backend_name", "algorithm"), BACKENDS, ids=IDS)
def test_seeds_come_first_and_the_same_seed_proposes_the_same_configs(backend_name, algorithm, tmp_path):
    first, _ = drive(backend_name, algorithm, tmp_path, trials=5, seed=3)
    second, _ = drive(backend_name, algorithm, tmp_path / "again", trials=5, seed=3)
    other, _ = drive(backend_name, algorithm, tmp_path / "other", trials=5, seed=4)
    assert first[0][1].seed_name == "known" and first[0][1].config == CONTRACT_SPACE.seeds[0]
    assert [p.config for _, p in first] == [p.config for _, p in second]
    assert [p.config for _, p in first] != [p.config for _, p in other]


@pytest.mark.parametrize(
    ("backend_name", "algorithm"),
    [("optuna", "random"), ("keras-tuner", "random")],
    ids=["optuna", "keras-tuner"],
)
def test_pruning_stops_trials_a_failed_trial_does_not_stop_the_search_and_resume_continues(
    backend_name, algorithm, write_space, tmp_path
):
    workdir = tmp_path / "runs"
    space = write_space(PRUNING_SPACE + NAN_SEED.lstrip("\n"))
    options = {
        "dataset": "digits",
        "workdir": workdir,
        "backend": backend_name,
        "algorithm": algorithm,
        "retrain": False,
        "study": "contract",
    }
    search(space, max_trials=4, **options)
    records = load_study("contract", workdir=workdir).trials()
    assert [r.status for r in records[:3]] == ["complete", "complete", "failed"]
    assert records[3].status == "pruned" and records[3].epochs_trained < 3
    search(space, max_trials=5, **options)
    resumed = load_study("contract", workdir=workdir).trials()
    assert [r.number for r in resumed] == [0, 1, 2, 3, 4]
    assert resumed[4].status == "pruned" and resumed[4].seed_name == ""


HYPERBAND_SPACE = """
name: hyperband
model:
  blocks: {count: 1, filters: [4, 8], pooling: none}
  head: {dense_layers: 0}
training: {learning_rate: [0.003, 0.01], batch_size: 128, epochs: 3}
"""


def test_keras_tuner_hyperband_continues_trials_from_their_weights(write_space, tmp_path):
    workdir = tmp_path / "runs"
    study = search(
        write_space(HYPERBAND_SPACE),
        dataset="digits",
        workdir=workdir,
        backend="keras-tuner",
        algorithm="hyperband",
        max_trials=12,
        retrain=False,
    )
    records = study.trials()
    continued = [r for r in records if r.curve and r.curve[0].epoch > 1]
    assert continued, [[e.epoch for e in r.curve] for r in records]
    for record in continued:
        assert [e.epoch for e in record.curve] == list(range(record.curve[0].epoch, 4))
        # The weights carried over: the first continued epoch's mean loss is below the last one of
        # the earlier trial of the same configuration (a fresh network's would be above it).
        earlier = [
            other
            for other in records
            if other.number < record.number
            and other.config == record.config
            and other.curve
            and other.curve[-1].epoch == record.curve[0].epoch - 1
        ]
        assert earlier, record.number
        assert any(record.curve[0].loss < 0.9 * other.curve[-1].loss for other in earlier), (
            [e.loss for e in record.curve],
            [[e.loss for e in other.curve] for other in earlier],
        )
    assert len(records) < 12  # the 4-point space is used up: the oracle says stop, the search ends
    assert not (study.directory / "backend" / "weights").exists()
