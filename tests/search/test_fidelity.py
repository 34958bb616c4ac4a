"""Multi-fidelity: trials on a fraction of the training data, a longer final retrain cut to the budget."""

from __future__ import annotations

import pytest

import autocnn.training
from autocnn.config import TrialConfig
from autocnn.core.fidelity import retrain_epoch_seconds, retrain_epochs_within, trial_dataset
from autocnn.core.records import EpochRecord, TrialRecord
from autocnn.core.session import search
from autocnn.data import load_dataset
from autocnn.errors import ConfigError
from autocnn.space import load_space

FIDELITY_SPACE = """
name: fidelity
model:
  blocks: {count: 1, filters: 8, pooling: max}
  head: {dense_layers: 0}
training: {learning_rate: 0.01, batch_size: 128, epochs: 1}
search: {algorithm: random, pruner: none, trial_train_fraction: 0.25, retrain_epochs: 3}
"""


def test_trials_train_on_the_fraction_and_the_retrain_on_everything_for_retrain_epochs(
    write_space, workdir, monkeypatch
):
    seen: list[tuple[int, int, bool]] = []
    step_seconds: list[tuple[float, float]] = []
    real_fit = autocnn.training.fit_config

    def recording_fit(config, dataset, *args, **kwargs):
        result = real_fit(config, dataset, *args, **kwargs)
        seen.append((len(dataset.x_train), len(result.curve), bool(kwargs.get("final"))))
        step_seconds.extend((epoch.step_seconds, epoch.seconds) for epoch in result.curve)
        return result

    monkeypatch.setattr(autocnn.training, "fit_config", recording_fit)
    full = load_dataset("digits", validation_fraction=0.1, seed=0)
    study = search(write_space(FIDELITY_SPACE), dataset=full, workdir=workdir, max_trials=2)
    trials, (retrain,) = seen[:-1], seen[-1:]
    assert [final for _, _, final in trials] == [False, False]
    quarter = len(trial_dataset(full, load_space_settings(trial_train_fraction=0.25), seed=0).x_train)
    assert abs(quarter - len(full.x_train) / 4) <= full.num_classes  # stratified: rounded per class
    assert {images for images, _, _ in trials} == {quarter}
    assert {epochs for _, epochs, _ in trials} == {1}
    assert study.final is not None and study.final.epochs == 3
    # The retrain trains on all of train + validation but the guard it is judged on.
    assert retrain == (len(full.x_train) + len(full.x_val) - study.final.guard_images, 3, False)
    assert study.final.guard_images > 0
    # Every epoch times its median training step (the retrain estimate's unit), a fraction of the epoch.
    assert len(step_seconds) == 5 and all(0 < step < epoch / 2 for step, epoch in step_seconds), step_seconds
    stored = [epoch for trial in study.trials() for epoch in trial.curve]
    assert len(stored) == 2 and all(0 < epoch.step_seconds < epoch.seconds for epoch in stored)


def test_the_trial_subset_is_stratified_and_keeps_validation_and_test_whole():
    full = load_dataset("digits", validation_fraction=0.1, seed=0)
    settings = load_space_settings(trial_train_fraction=0.5)
    part = trial_dataset(full, settings, seed=0)
    assert abs(len(part.x_train) - len(full.x_train) / 2) <= full.num_classes
    assert part.x_val is full.x_val and part.x_test is full.x_test
    assert set(part.y_train.tolist()) == set(full.y_train.tolist())
    assert trial_dataset(full, load_space_settings(trial_train_fraction=1.0), seed=0) is full


def test_the_retrain_is_cut_to_the_remaining_budget():
    best = TrialRecord(
        number=0,
        status="complete",
        config=None,
        curve=(EpochRecord(epoch=1, loss=1.0, accuracy=0.5, seconds=2.0),),
    )
    full = load_dataset("digits", validation_fraction=0.1, seed=0)
    part = trial_dataset(full, load_space_settings(trial_train_fraction=0.5), seed=0)
    seconds = retrain_epoch_seconds(best, trial_data=part, full_data=full)
    work = len(part.x_train) + len(part.x_val) / 3  # an evaluated image costs a third of a trained one
    assert seconds == pytest.approx(2.0 * (len(full.x_train) + len(full.x_val)) / work * 1.05)
    assert (
        retrain_epoch_seconds(
            TrialRecord(number=1, status="complete", config=None), trial_data=part, full_data=full
        )
        is None
    )
    seconds = 8.4  # one retrain epoch; the cut below only depends on it
    assert retrain_epochs_within(30, epoch_seconds=seconds, remaining_s=100.0) == 11
    assert retrain_epochs_within(30, epoch_seconds=seconds, remaining_s=1.0) == 1
    assert retrain_epochs_within(5, epoch_seconds=seconds, remaining_s=10_000.0) == 5
    assert retrain_epochs_within(30, epoch_seconds=seconds, remaining_s=None) == 30


def test_the_retrain_estimate_counts_training_steps_not_validation_or_pipeline_starts():
    full = load_dataset("digits", validation_fraction=0.1, seed=0)
    part = trial_dataset(full, load_space_settings(trial_train_fraction=0.5), seed=0)
    config = TrialConfig.from_dict({"training": {"batch_size": 32}})
    # Epochs of 3 s whose steps of 32 images took 0.05 s each: the rest went to validation and set-up.
    epochs = tuple(
        EpochRecord(epoch=index, loss=1.0, accuracy=0.5, val_accuracy=0.5, seconds=3.0, step_seconds=0.05)
        for index in (1, 2, 3)
    )
    best = TrialRecord(number=0, status="complete", config=config, curve=epochs)
    seconds = retrain_epoch_seconds(best, trial_data=part, full_data=full)
    assert seconds == pytest.approx(0.05 / 32 * (len(full.x_train) + len(full.x_val)) * 1.05)


def timed_trial(number: int, *, flops: float | None, seconds: list[float]) -> TrialRecord:
    curve = tuple(
        EpochRecord(epoch=index, loss=1.0, accuracy=0.5, seconds=value)
        for index, value in enumerate(seconds, 1)
    )
    metrics = {} if flops is None else {"flops": flops}
    return TrialRecord(number=number, status="complete", config=None, metrics=metrics, curve=curve)


def test_the_retrain_estimate_pools_the_epochs_of_similar_networks_by_flops():
    full = load_dataset("digits", validation_fraction=0.1, seed=0)
    part = trial_dataset(full, load_space_settings(trial_train_fraction=0.5), seed=0)
    # The best network's own epochs were slowed by something else on the machine (10 s, then 30 s);
    # four networks of 1.25 times its FLOPs ran their epochs in 12.5 s, i.e. 10 s at its size.
    best = timed_trial(0, flops=1e6, seconds=[10.0, 30.0, 30.0])
    similar = [timed_trial(number, flops=1.25e6, seconds=[12.5, 12.5, 12.5]) for number in range(1, 5)]
    own = retrain_epoch_seconds(best, trial_data=part, full_data=full)
    pooled = retrain_epoch_seconds(best, trials=[best, *similar], trial_data=part, full_data=full)
    assert own is not None and pooled is not None
    assert pooled == pytest.approx(own / 3)  # the median epoch: 10 s, not 30 s
    # Much bigger or smaller networks, and trials without FLOPs, are left out (small networks
    # spend their epochs on per-batch overhead, so FLOPs do not scale their time).
    others = [
        *(timed_trial(number, flops=2e6, seconds=[1.0] * 3) for number in range(5, 9)),
        *(timed_trial(number, flops=None, seconds=[1.0] * 3) for number in range(9, 13)),
    ]
    assert retrain_epoch_seconds(best, trials=[best, *others], trial_data=part, full_data=full) == own
    no_flops = timed_trial(0, flops=None, seconds=[10.0, 30.0, 30.0])
    assert retrain_epoch_seconds(no_flops, trials=similar, trial_data=part, full_data=full) == own


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("trial_train_fraction: 0", "search.trial_train_fraction"),
        ("trial_train_fraction: 1.5", "search.trial_train_fraction"),
        ("retrain_epochs: 0", "search.retrain_epochs"),
        ("retrain_share: 0", "search.retrain_share: 0: input should be greater than 0"),
        ("retrain_share: 1.5", "search.retrain_share: 1.5: input should be less than or equal to 1"),
    ],
)
def test_bad_fidelity_settings_name_the_entry(write_space, entry, message):
    path = write_space(f"name: bad\nsearch: {{{entry}}}\n")
    with pytest.raises(ConfigError, match=message):
        load_space(path)


def load_space_settings(**values):
    from autocnn.space import SearchSettings

    return SearchSettings(**values)
