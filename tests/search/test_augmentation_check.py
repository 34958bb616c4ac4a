"""The augmentation check: the winner trained with each augmentation the space allows, and the retrain's choice."""

from __future__ import annotations

import time

import pytest

from autocnn.config import AugmentationConfig
from autocnn.core.augmentation_check import (
    CHECK_ATTR,
    AugmentationCheckResult,
    AugmentationRun,
    augmentation_variants,
    choose,
    run_augmentation_check,
)
from autocnn.core.callbacks import SearchCallback
from autocnn.core.plan import plan_search
from autocnn.core.session import search
from autocnn.data import load_dataset
from autocnn.errors import ConfigError
from autocnn.space import parse_space

# Trials of one epoch; the check trains the winner for six epochs on half the digits, with and
# without horizontal flips.
CHECK_SPACE = """
name: check
model:
  blocks: {count: 1, filters: [8, 16], pooling: max}
  head: {dense_layers: 0}
training:
  learning_rate: [0.003, 0.01]
  batch_size: 64
  epochs: 1
  augmentation: {flip: [none, horizontal]}
search:
  algorithm: random
  pruner: none
  max_trials: 3
  retrain_epochs: 3
  augmentation_check: {epochs: 6, train_fraction: 0.5}
"""

FLIP = AugmentationConfig(flip="horizontal")
FLIP_SHIFT = AugmentationConfig(flip="horizontal", translation=0.1)
NONE = AugmentationConfig()


class Heard(SearchCallback):
    """Records what the search says after its trials."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def on_retrain_note(self, message):
        self.notes.append(message)


def _space(augmentation: str):
    return parse_space(f"name: x\ntraining:\n  augmentation: {augmentation}\n", source="space.yaml")


def _run(augmentation: AugmentationConfig, accuracy: float, *, epochs: int = 6) -> AugmentationRun:
    return AugmentationRun(augmentation=augmentation, epochs=epochs, val_accuracy=accuracy, seconds=1.0)


def _store_check(study, *, own_epochs: int):
    """Store a 6-epoch check of the winner: its own augmentation 0.5 after ``own_epochs`` epochs, the other 0.9."""
    winner = study.ranked()[0]
    assert winner.config is not None
    own = winner.config.training.augmentation
    other = FLIP if own == NONE else NONE
    stored = AugmentationCheckResult(
        trial_number=winner.number,
        planned_epochs=6,
        train_images=600,
        validation_images=180,
        runs=(_run(own, 0.5, epochs=own_epochs), _run(other, 0.9)),
    )
    study.optuna_study.set_user_attr(CHECK_ATTR, stored.to_dict())
    return own, other, stored


def test_the_variants_are_the_trials_own_augmentation_then_every_other_combination():
    space = _space("{flip: [none, horizontal], translation: [0.0, 0.06]}")
    own = AugmentationConfig(flip="horizontal", translation=0.0)
    assert augmentation_variants(space, own) == [
        own,
        AugmentationConfig(flip="none", translation=0.0),
        AugmentationConfig(flip="none", translation=0.06),
        AugmentationConfig(flip="horizontal", translation=0.06),
    ]


def test_a_range_is_checked_at_its_ends_and_the_trials_own_value_is_kept_among_them():
    space = _space("{translation: {low: 0.0, high: 0.1}}")
    own = AugmentationConfig(translation=0.05)
    assert augmentation_variants(space, own) == [
        own,
        AugmentationConfig(translation=0.0),
        AugmentationConfig(translation=0.1),
    ]


@pytest.mark.parametrize(
    "augmentation",
    [
        "{flip: horizontal, translation: 0.06}",  # nothing searched
        "{flip: [none, horizontal, vertical, horizontal_and_vertical], translation: [0.0, 0.06]}",  # 8
    ],
)
def test_no_check_when_the_space_fixes_augmentation_or_allows_too_many_combinations(augmentation):
    assert augmentation_variants(_space(augmentation), NONE) == []


def test_another_augmentation_is_chosen_only_when_it_beats_the_trials_own_by_a_standard_error():
    # the trial's own at 0.90 on 900 images: a standard error of sqrt(0.9 * 0.1 / 900) = 0.01
    assert choose([_run(NONE, 0.90), _run(FLIP, 0.905)], validation_images=900) is None
    chosen = choose([_run(NONE, 0.90), _run(FLIP, 0.915)], validation_images=900)
    assert chosen is not None and chosen.augmentation == FLIP
    # a better trial's own is kept, and one run judges nothing
    assert choose([_run(FLIP, 0.95), _run(NONE, 0.80)], validation_images=900) is None
    assert choose([_run(FLIP, 0.95)], validation_images=900) is None


def test_only_runs_that_trained_all_their_epochs_are_compared():
    check = AugmentationCheckResult(
        trial_number=0,
        planned_epochs=6,
        train_images=100,
        validation_images=900,
        runs=(_run(NONE, 0.5), _run(FLIP, 0.99, epochs=4)),
    )
    assert check.completed == (check.runs[0],) and check.chosen is None
    assert AugmentationCheckResult.from_dict(check.to_dict()) == check


def test_nothing_is_chosen_when_the_trials_own_augmentation_was_not_trained_whole():
    check = AugmentationCheckResult(
        trial_number=0,
        planned_epochs=6,
        train_images=100,
        validation_images=900,
        runs=(_run(NONE, 0.5, epochs=3), _run(FLIP, 0.6), _run(FLIP_SHIFT, 0.99)),
    )
    assert check.chosen is None and check.time_ratio == 1.0


def test_the_shares_of_the_retrain_the_rung_and_the_check_must_leave_time_for_trials():
    with pytest.raises(ConfigError, match=r"augmentation_check.share 0.3 leave no time for trials"):
        parse_space(
            "name: x\nsearch:\n  retrain_share: 0.7\n  augmentation_check: {epochs: 5, share: 0.3}\n",
            source="space.yaml",
        )
    # an unused check keeps no time
    parse_space(
        "name: x\nsearch:\n  retrain_share: 0.95\n  augmentation_check: {share: 0.3}\n", source="s.yaml"
    )


def test_the_check_trains_the_winner_with_each_augmentation_and_the_retrain_takes_its_choice(
    write_space, workdir
):
    space = write_space(CHECK_SPACE)
    digits = load_dataset("digits")
    heard = Heard()
    study = search(space, dataset="digits", study="check", workdir=workdir, callbacks=[heard])
    check = study.augmentation_check
    assert check is not None
    winner = study.ranked()[0]
    assert winner.config is not None and study.final is not None
    assert check.trial_number == winner.number == study.final.trial_number
    own = winner.config.training.augmentation
    assert [run.augmentation for run in check.runs] == [own, FLIP if own == NONE else NONE]
    assert all(run.epochs == 6 and 0.1 < run.val_accuracy <= 1.0 for run in check.runs)
    # half the training split (stratified), judged on the whole validation split
    assert check.train_images == len(digits.subset(0.5, seed=0).x_train) < len(digits.x_train)
    assert check.validation_images == len(digits.x_val)
    expected = own if check.chosen is None else check.chosen.augmentation
    assert study.final.config.training.augmentation == expected
    assert heard.notes[0].startswith(f"augmentation check: trial #{winner.number} trains 6 epochs on ")
    assert heard.notes[-1].startswith("augmentation check: the retrain uses ")
    assert study.summary()["augmentation_check"]["trial_number"] == winner.number


def test_a_stored_check_is_not_run_again_and_its_choice_reaches_the_retrain_and_the_report(
    write_space, workdir
):
    space = write_space(CHECK_SPACE)
    study = search(space, dataset="digits", study="stored", workdir=workdir, retrain=False)
    assert study.augmentation_check is None and study.final is None
    winner = study.ranked()[0]
    # judged already (by an earlier run, say): the other augmentation far ahead of the trial's own
    _, other, stored = _store_check(study, own_epochs=6)
    heard = Heard()
    study = search(space, dataset="digits", study="stored", workdir=workdir, callbacks=[heard])
    assert study.augmentation_check == stored
    assert not any("trains 6 epochs" in note for note in heard.notes)
    assert study.final is not None and study.final.config.training.augmentation == other
    # the study's own config is unchanged: only the retrain took the check's choice
    assert study.ranked()[0].config == winner.config

    text = (study.report(out=workdir / "report").parent / "report.md").read_text()
    described = "flip horizontal" if other == FLIP else "none"
    assert f"The augmentation check trained trial {winner.number} for 6 epochs on 600 training images" in text
    assert f"The retrain used `{described}`." in text
    assert "(the trial's own)" in text


def test_a_check_that_does_not_fit_before_the_retrain_is_skipped_and_said(write_space, workdir):
    space = write_space(CHECK_SPACE)
    study = search(space, dataset="digits", study="late", workdir=workdir, retrain=False)
    plan, data = plan_search(space, dataset="digits", study="late")
    heard = Heard()
    result = run_augmentation_check(
        study, plan=plan, dataset=data, callbacks=[heard], deadline=time.monotonic() + 0.001
    )
    assert result is None and study.augmentation_check is None
    assert len(heard.notes) == 1
    assert heard.notes[0].startswith("augmentation check: skipped, 2 runs of 3 epochs do not fit in the ")


def test_the_retrain_is_timed_with_the_chosen_augmentations_cost_measured_beside_the_trials_own():
    slow = AugmentationRun(augmentation=FLIP, epochs=6, val_accuracy=0.95, seconds=3.0)
    own = AugmentationRun(augmentation=NONE, epochs=6, val_accuracy=0.80, seconds=2.0)
    check = AugmentationCheckResult(
        trial_number=0, planned_epochs=6, train_images=100, validation_images=900, runs=(own, slow)
    )
    assert check.time_ratio == pytest.approx(1.5)
    kept = AugmentationCheckResult(
        trial_number=0, planned_epochs=6, train_images=100, validation_images=900, runs=(slow, own)
    )
    assert kept.time_ratio == 1.0


def test_runs_that_the_earlier_runs_show_will_not_fit_are_not_started_and_a_started_one_may_overrun_a_little(
    write_space, workdir, monkeypatch
):
    from autocnn.core import augmentation_check

    space = write_space(CHECK_SPACE)
    study = search(space, dataset="digits", study="slow", workdir=workdir, retrain=False)
    plan, data = plan_search(space, dataset="digits", study="slow")
    started: list[tuple[AugmentationConfig, float | None]] = []

    def train(config, augmentation, *, data, epochs, seed, end, balanced):
        # each run reports 60 s (10 s an epoch) but returns at once
        started.append((augmentation, end))
        return AugmentationRun(augmentation=augmentation, epochs=epochs, val_accuracy=0.9, seconds=60.0)

    # the trials say an epoch on the check's images takes 1 s: six epochs of both runs fit in 30 s
    monkeypatch.setattr(augmentation_check, "_train", train)
    monkeypatch.setattr(augmentation_check, "rung_epoch_seconds", lambda *args, **kwargs: 1.0)
    monkeypatch.setattr(augmentation_check, "retrain_reserve", lambda *args, **kwargs: 10.0)
    heard = Heard()
    deadline = time.monotonic() + 40  # the check ends 10 s before it, when the retrain starts
    result = run_augmentation_check(study, plan=plan, dataset=data, callbacks=[heard], deadline=deadline)

    # the first run measured 10 s an epoch: the second (60 s) does not fit and is not started
    assert result is not None and len(started) == 1 and len(result.runs) == 1
    assert result.chosen is None
    own, end = started[0]
    # the first run, predicted at 6 s, may run 3 s past the check's end
    assert own == result.runs[0].augmentation and end == pytest.approx(deadline - 10 + 3)
    skipped = [note for note in heard.notes if note.startswith("augmentation check: not run (")]
    assert len(skipped) == 1 and "a run takes about 1 min 00 s" in skipped[0]


def test_a_stored_check_without_the_trials_own_run_whole_starts_again(write_space, workdir, monkeypatch):
    from autocnn.core import augmentation_check

    space = write_space(CHECK_SPACE)
    study = search(space, dataset="digits", study="cut", workdir=workdir, retrain=False)
    plan, data = plan_search(space, dataset="digits", study="cut")
    # an earlier call: the trial's own run cut at 3 of 6 epochs, the other whole
    own, other, _ = _store_check(study, own_epochs=3)
    started: list[AugmentationConfig] = []

    def train(config, augmentation, *, data, epochs, seed, end, balanced):
        started.append(augmentation)
        return AugmentationRun(augmentation=augmentation, epochs=epochs, val_accuracy=0.8, seconds=1.0)

    monkeypatch.setattr(augmentation_check, "_train", train)
    result = run_augmentation_check(study, plan=plan, dataset=data, callbacks=[Heard()], deadline=None)
    # the other run is not compared with a cut one: both run again, the trial's own first
    assert started == [own, other]
    assert result is not None and [run.val_accuracy for run in result.runs] == [0.8, 0.8]
    assert result.chosen is None
