"""The final rung: the top trials trained again, longer and on all training images, and the best of them retrained."""

from __future__ import annotations

import math
import time

import pytest

from autocnn.config import TrialConfig
from autocnn.core.callbacks import SearchCallback
from autocnn.core.plan import plan_search
from autocnn.core.records import RungResult, TrialRecord, TrialStatus
from autocnn.core.rung import RUNG_ATTR, _fit_time, rank_with_rung, run_final_rung
from autocnn.core.session import search
from autocnn.core.study import load_study
from autocnn.data import load_dataset
from autocnn.errors import ConfigError
from autocnn.space import Objective, parse_space

# Trials of one epoch on 30% of the digits; the rung trains the top two for three epochs on all of them.
RUNG_SPACE = """
name: rung
model:
  blocks: {count: 1, filters: [8, 16], pooling: max}
  head: {dense_layers: 0}
training:
  learning_rate: [0.001, 0.003, 0.01]
  batch_size: 64
  epochs: 1
search:
  algorithm: random
  pruner: none
  max_trials: 4
  trial_train_fraction: 0.3
  retrain_epochs: 2
  final_rung: {candidates: 2, epochs: 3}
"""


class Heard(SearchCallback):
    """Records what the search says about the final rung and the retrain."""

    def __init__(self) -> None:
        self.rung_starts: list[tuple[list[int], int]] = []
        self.rung_results: list[RungResult] = []
        self.notes: list[str] = []

    def on_final_rung_start(self, numbers, *, epochs):
        self.rung_starts.append((list(numbers), epochs))

    def on_final_rung_result(self, result):
        self.rung_results.append(result)

    def on_retrain_note(self, message):
        self.notes.append(message)


def _record(number: int, value: float) -> TrialRecord:
    return TrialRecord(number=number, status=TrialStatus.COMPLETE, config=None, values=(value,))


def _result(number: int, accuracy: float, loss: float, *, epochs: int = 5, planned: int = 5) -> RungResult:
    return RungResult(
        trial_number=number,
        epochs=epochs,
        planned_epochs=planned,
        train_images=100,
        val_accuracy=accuracy,
        val_loss=loss,
        trial_val_accuracy=None,
        seconds=1.0,
    )


def test_trials_the_rung_judged_rank_first_by_its_result_and_a_run_it_cut_counts_for_nothing():
    ranked = [_record(0, 0.95), _record(1, 0.94), _record(2, 0.93), _record(3, 0.92)]
    results = [_result(2, 0.97, 0.2), _result(1, 0.96, 0.1), _result(0, 0.99, 0.05, epochs=3)]
    by_accuracy = rank_with_rung(ranked, results, Objective(metric="val_accuracy", direction="maximize"))
    assert [record.number for record in by_accuracy] == [2, 1, 0, 3]
    by_loss = rank_with_rung(ranked, results, Objective(metric="val_loss", direction="minimize"))
    assert [record.number for record in by_loss] == [1, 2, 0, 3]
    assert rank_with_rung(ranked, [], Objective()) == ranked


@pytest.mark.parametrize(
    ("left", "least", "kept", "epochs", "said"),
    [
        (100.0, 3, [0, 1, 2], 3, ["final rung: 3 of its 8 epochs fit in the 1 min 40 s before the retrain"]),
        (
            100.0,
            4,
            [0, 1],
            5,
            [
                "final rung: trial #2 left out, so that the others get 5 epochs before the retrain",
                "final rung: 5 of its 8 epochs fit in the 1 min 40 s before the retrain",
            ],
        ),
        (1000.0, 4, [0, 1, 2], 8, []),
        (
            50.0,
            4,
            None,
            None,
            ["final rung: skipped, 4 epochs of two trials do not fit in the 50 s before the retrain"],
        ),
    ],
)
def test_the_rung_fits_the_time_left_with_fewer_epochs_then_fewer_candidates(left, least, kept, epochs, said):
    waiting = [_record(number, 0.9) for number in range(3)]
    notes: list[str] = []
    fitted = _fit_time(
        waiting,
        epoch_seconds={0: 10.0, 1: 10.0, 2: 10.0},
        left=left,
        epochs=8,
        least=least,
        judged=0,
        say=notes.append,
    )
    assert notes == said
    if kept is None:
        assert fitted is None
    else:
        assert fitted is not None
        assert [record.number for record in fitted[0]] == kept and fitted[1] == epochs


def test_a_rung_needs_one_validation_objective_and_time_left_for_trials():
    with pytest.raises(ConfigError, match="final_rung"):
        parse_space(
            "name: x\nsearch:\n  final_rung: {candidates: 2}\n"
            "  objective: [{metric: val_accuracy}, {metric: params, direction: minimize}]\n",
            source="space.yaml",
        )
    with pytest.raises(ConfigError, match=r"final_rung.candidates: 1 judges nothing"):
        parse_space("name: x\nsearch:\n  final_rung: {candidates: 1}\n", source="space.yaml")
    with pytest.raises(ConfigError, match="no time for trials"):
        parse_space(
            "name: x\nsearch:\n  final_rung: {candidates: 2, share: 0.3}\n  retrain_share: 0.7\n",
            source="space.yaml",
        )


def test_the_rung_trains_the_top_trials_on_all_images_and_the_retrain_takes_its_winner(write_space, workdir):
    space = write_space(RUNG_SPACE)
    digits = load_dataset("digits")
    # the trials first, without the retrain (and so without the rung)
    study = search(space, dataset="digits", study="rung", workdir=workdir, retrain=False)
    assert study.rung_results == () and study.final is None
    by_trials = [record.number for record in study.ranked(rung=False)]

    # a deadline the rung cannot meet: it is skipped, and said so
    heard = Heard()
    plan, data = plan_search(space, dataset="digits", study="rung")
    assert run_final_rung(study, plan=plan, dataset=data, callbacks=[heard], deadline=time.monotonic()) == ()
    assert study.rung_results == ()
    assert heard.notes == [
        "final rung: skipped, 1 epoch of two trials do not fit in the 0.0 s before the retrain"
    ]

    # the second trial was judged already (by an earlier rung, say) and did better than any run can
    judged = _result(by_trials[1], 1.0, 0.0, epochs=3, planned=3)
    study.optuna_study.set_user_attr(RUNG_ATTR, [judged.to_dict()])
    heard = Heard()
    study = search(space, dataset="digits", study="rung", workdir=workdir, callbacks=[heard])
    assert heard.rung_starts == [([by_trials[0]], 3)]
    trained = heard.rung_results
    assert [result.trial_number for result in trained] == [by_trials[0]]
    assert trained[0].completed and trained[0].epochs == 3 and trained[0].val_accuracy < 1.0
    trial_accuracy = next(r for r in study.trials() if r.number == by_trials[0]).val_accuracy
    assert trained[0].replaced_trial_model == (trained[0].val_accuracy > trial_accuracy)
    # all the training split, not the trials' 30% of it
    assert trained[0].train_images == len(digits.x_train)
    results = study.rung_results
    assert {result.trial_number for result in results} == set(by_trials[:2])
    # the retrain takes the rung's winner, not the trials' best
    assert study.final is not None and study.final.trial_number == by_trials[1]
    assert study.ranked()[0].number == by_trials[1] == study.best_trial.number
    winner = judged

    board = study.leaderboard().set_index("trial")
    for result in results:
        assert board.loc[result.trial_number, "rung_val_accuracy"] == pytest.approx(result.val_accuracy)
    others = [number for number in by_trials if number not in {r.trial_number for r in results}]
    assert all(math.isnan(board.loc[number, "rung_val_accuracy"]) for number in others)
    assert study.summary()["final_rung"][0]["trial_number"] == results[0].trial_number

    report = study.report(out=workdir / "report").parent / "report.md"
    text = report.read_text()
    assert "The final rung trained the top 2 trials again for 3 epochs" in text
    assert f"| {winner.trial_number} |" in text
    # "why it won" says the rung decided, not the trials' values that ranked another trial first
    assert (
        "The final rung decided: trained again for 3 epochs on all "
        f"{winner.train_images:,} training images, it reached 1.0000 validation accuracy, against "
        f"{trained[0].val_accuracy:.4f} for trial {by_trials[0]}"
    ) in text
    assert "It beat the runner-up" not in text

    # the same command again: nothing left to judge, nothing trained again
    heard = Heard()
    again = search(space, dataset="digits", study="rung", workdir=workdir, callbacks=[heard])
    assert heard.rung_starts == [] and again.rung_results == results
    assert load_study("rung", workdir=workdir).final == study.final


def test_a_rung_no_longer_than_a_trial_is_skipped_with_what_to_change(write_space, workdir):
    space = write_space(RUNG_SPACE.replace("trial_train_fraction: 0.3", "trial_train_fraction: 1.0"))
    space.write_text(
        space.read_text().replace(
            "final_rung: {candidates: 2, epochs: 3}", "final_rung: {candidates: 2, epochs: 1}"
        )
    )
    heard = Heard()
    study = search(space, dataset="digits", study="short", workdir=workdir, max_trials=2, callbacks=[heard])
    assert heard.rung_starts == [] and study.rung_results == ()
    assert heard.notes == [
        "final rung: skipped, its 1 epoch on all training images train no longer than a trial (1 epoch of them); "
        "raise search.final_rung.epochs"
    ]
    assert study.final is not None


def test_a_kept_trial_model_that_the_rung_replaced_reports_the_rungs_epochs_and_time():
    import dataclasses

    from autocnn.core.final_model import FinalModel, FinalSource, GuardScores
    from autocnn.core.retrain import _with_rung_training

    guard = GuardScores(images=200, kept=0.96, retrained=0.6, trial=0.96, reference=0.96, margin=0.04)
    kept = FinalModel(
        model=None,
        source=FinalSource.TRIAL_MODEL,
        config=None,
        reason="kept the trial's own model",
        epochs=2,
        train_seconds=10.3,
        guard=guard,
    )
    replaced = dataclasses.replace(
        _result(7, 0.96, 0.2, epochs=6, planned=6), seconds=41.0, replaced_trial_model=True
    )
    other = dataclasses.replace(
        _result(3, 0.97, 0.1, epochs=6, planned=6), seconds=50.0, replaced_trial_model=True
    )
    not_replaced = _result(7, 0.90, 0.3, epochs=6, planned=6)
    told = _with_rung_training(kept, rung=[other, replaced], trial_number=7)
    assert (told.epochs, told.train_seconds) == (6, 41.0)
    assert told.reason == "kept the trial's own model (the final rung's run: 6 epochs on 100 training images)"
    assert _with_rung_training(kept, rung=[other, not_replaced], trial_number=7) == kept


class _RankedView:
    """The loop's view of a study: three ranked trials, each similar only to itself."""

    def __init__(self, records):
        self.records = records
        self.best = records[0]

    def ranked(self):
        return list(self.records)

    def similar_to(self, record):
        return (record,)


@pytest.mark.parametrize(("candidates", "kept_number"), [(3, 2), (0, 0)])
def test_the_search_keeps_the_retrain_of_the_rungs_slowest_candidate(monkeypatch, candidates, kept_number):
    """The rung keeps the slowest candidate's retrain; the trials before it must keep the same, not the best's."""
    import autocnn.core.loop as loop_module
    from autocnn.core.loop import TrialLoop

    rung = f"  final_rung: {{candidates: {candidates}, epochs: 4}}\n" if candidates else ""
    space = parse_space(
        "name: s\nmodel: {blocks: {count: 1, filters: 8}}\ntraining: {epochs: 2}\n"
        f"search:\n  retrain_epochs: 10\n{rung}",
        source="s.yaml",
    )
    config = TrialConfig.from_dict({"model": {"blocks": [{"filters": 8}]}})
    records = [TrialRecord(number=number, status="complete", config=config) for number in range(3)]
    epoch_seconds = {0: 1.0, 1: 2.0, 2: 5.0}  # the best trial retrains fastest
    monkeypatch.setattr(
        loop_module, "retrain_epoch_seconds", lambda record, **kwargs: epoch_seconds[record.number]
    )
    loop = TrialLoop.__new__(TrialLoop)
    loop.space, loop.view = space, _RankedView(records)
    loop.dataset = loop.full_dataset = None
    kept = loop._retrain_estimate()
    assert kept is not None
    assert (kept.epochs, kept.epoch_seconds) == (10, epoch_seconds[kept_number])
