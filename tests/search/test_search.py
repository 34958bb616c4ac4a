"""The search loop on real (tiny) data: digits, 1-2 epochs, small models."""

from __future__ import annotations

import datetime
import time

import pytest

import autocnn.training
from autocnn.core.session import search
from autocnn.core.study import load_study
from autocnn.errors import ConfigError, SearchError, SearchInterrupted, StudyMismatchError
from tests.spaces import PRUNING_SPACE


def test_search_completes_and_returns_a_leaderboard(tiny_space, workdir):
    study = search(tiny_space, dataset="digits", workdir=workdir, max_trials=3, retrain=True)
    board = study.leaderboard()
    assert len(board) == 3
    assert set(board["state"]) == {"complete"}
    assert list(board["rank"]) == [1, 2, 3]
    assert board["val_accuracy"].is_monotonic_decreasing
    assert (board["params"] > 0).all() and (board["flops"] > 0).all()
    assert (board["epochs_trained"] == 2).all()
    assert "config.block1.filters" in board.columns
    best_number = int(board.iloc[0]["trial"])
    assert study.best_config == study.trials()[best_number].config
    final = study.final
    assert final is not None and final.trial_number == best_number
    assert 0.5 < final.test_accuracy <= 1.0
    assert study.best_model().output_shape == (None, 10)
    again = load_study(study.name, workdir=workdir)
    assert [t.number for t in again.trials()] == [0, 1, 2]
    assert again.final == final


@pytest.mark.parametrize("algorithm", ["random", "grid", "tpe", "gp", "cmaes", "nsga2"])
def test_each_sampler_runs(tiny_space, workdir, algorithm):
    study = search(
        tiny_space,
        dataset="digits",
        workdir=workdir,
        max_trials=2,
        algorithm=algorithm,
        retrain=False,
        study=f"s_{algorithm}",
    )
    assert [r.status for r in study.trials()] == ["complete", "complete"]
    expected = {
        "random": "Random",
        "grid": "Grid",
        "tpe": "TPE",
        "gp": "GP",
        "cmaes": "CmaEs",
        "nsga2": "NSGAII",
    }
    assert type(study.optuna_study.sampler).__name__ == expected[algorithm] + "Sampler"


def test_grid_refuses_a_continuous_range(write_space, workdir):
    path = write_space("name: g\ntraining:\n  learning_rate: {low: 1e-3, high: 1e-2}\n")
    with pytest.raises(ConfigError, match=r"grid search needs a finite space, but training\.learning_rate"):
        search(path, dataset="digits", workdir=workdir, algorithm="grid", max_trials=1)


@pytest.mark.parametrize("pruner", ["none", "median", "quartile", "asha", "hyperband"])
def test_each_pruner_runs(tiny_space, workdir, pruner):
    study = search(tiny_space, dataset="digits", workdir=workdir, max_trials=2, pruner=pruner, retrain=False)
    assert len(study.trials()) == 2
    expected = {
        "none": "Nop",
        "median": "Percentile",  # with its warm-up, which Optuna's MedianPruner also is
        "quartile": "Percentile",
        "asha": "SuccessiveHalving",
        "hyperband": "Hyperband",
    }
    assert type(study.optuna_study.pruner).__name__ == expected[pruner] + "Pruner"


def test_seeds_come_first_and_pruning_stops_bad_trials_early(write_space, workdir):
    study = search(write_space(PRUNING_SPACE), dataset="digits", workdir=workdir, max_trials=4, retrain=False)
    records = study.trials()
    assert [r.seed_name for r in records[:2]] == ["good1", "good2"]
    assert records[0].config.training.learning_rate == 0.01
    assert [r.status for r in records[:2]] == ["complete", "complete"]
    pruned = [r for r in records if r.status == "pruned"]
    assert len(pruned) == 2, [(r.status, r.metrics) for r in records]
    assert all(r.epochs_trained < 3 for r in pruned)
    assert all(r.epochs_trained == 3 for r in records[:2])


def test_resume_continues_numbering_and_a_changed_space_is_refused(tiny_space, workdir, write_space):
    first = search(tiny_space, dataset="digits", workdir=workdir, max_trials=2, retrain=False, study="resume")
    assert [r.number for r in first.trials()] == [0, 1]
    second = search(
        tiny_space, dataset="digits", workdir=workdir, max_trials=3, retrain=False, study="resume"
    )
    assert [r.number for r in second.trials()] == [0, 1, 2]
    assert [r.status for r in second.trials()] == ["complete"] * 3
    changed = write_space(
        tiny_space.read_text().replace("filters: [4, 8]", "filters: [4, 16]"), name="changed.yaml"
    )
    with pytest.raises(StudyMismatchError, match="was created with another search space"):
        search(changed, dataset="digits", workdir=workdir, max_trials=4, retrain=False, study="resume")
    assert len(load_study("resume", workdir=workdir).trials()) == 3


def test_resume_on_other_data_is_refused_and_the_study_is_kept(tiny_space, workdir):
    from sklearn.datasets import load_digits

    from autocnn.data import dataset_from_arrays

    digits = load_digits()
    images = digits.images[..., None] / 16
    mine = dataset_from_arrays(images, digits.target, name="mine")
    search(tiny_space, dataset=mine, workdir=workdir, max_trials=1, retrain=False, study="mine")
    # The same name and shapes, other pixels: a stranger's second folder under the first one's study.
    other = dataset_from_arrays(images[:, ::-1], digits.target, name="mine")
    with pytest.raises(StudyMismatchError, match="was created on other data"):
        search(tiny_space, dataset=other, workdir=workdir, max_trials=2, retrain=False, study="mine")
    assert [r.status for r in load_study("mine", workdir=workdir).trials()] == ["complete"]
    again = search(tiny_space, dataset=mine, workdir=workdir, max_trials=2, retrain=False, study="mine")
    assert [r.number for r in again.trials()] == [0, 1]


INVALID_SEED_SPACE = """
name: invalid
model:
  blocks: {count: 1, filters: 4}
  head: {dense_layers: 0}
training: {batch_size: 128, epochs: 1}
search: {algorithm: random, pruner: none}
seeds:
  - name: too_deep
    model: {blocks: [{}, {}, {}, {}]}
"""


def test_invalid_config_is_recorded_with_its_reason_and_never_trained(write_space, workdir, monkeypatch):
    calls = []
    real_fit = autocnn.training.fit_config

    def counting_fit(config, *args, **kwargs):
        calls.append(len(config.model.blocks))
        return real_fit(config, *args, **kwargs)

    monkeypatch.setattr(autocnn.training, "fit_config", counting_fit)
    study = search(
        write_space(INVALID_SEED_SPACE), dataset="digits", workdir=workdir, max_trials=1, retrain=False
    )
    first, second = study.trials()
    assert first.status == "rejected" and first.seed_name == "too_deep"
    assert (
        first.reason
        == "block 4 pooling: max pooling 2x2 reduces 1x1 to 0x0; use fewer blocks, pooling none or a smaller pool size"
    )
    assert first.epochs_trained == 0
    assert second.status == "complete"
    assert calls == [1]


NAN_SPACE = """
name: nan
model:
  blocks: {count: 1, filters: 8, pooling: none}
  head: {dense_layers: 1, units: 64}
training: {optimizer: sgd, momentum: 0.9, learning_rate: 10.0, l2: 1.0, batch_size: 32, epochs: 2}
search: {algorithm: random, pruner: none, max_consecutive_failures: 2}
"""


def test_nan_loss_is_recorded_failed_and_consecutive_failures_stop_the_search(write_space, workdir):
    with pytest.raises(SearchError, match=r"2 trials in a row failed .* loss became (nan|inf)"):
        search(write_space(NAN_SPACE), dataset="digits", workdir=workdir, max_trials=5, retrain=False)
    records = load_study("nan_digits", workdir=workdir).trials()
    assert [r.status for r in records] == ["failed", "failed"]
    assert "learning rate 10 may be too high" in records[0].reason


def test_timeout_is_respected(tiny_space, workdir):
    started, wall_start = time.monotonic(), datetime.datetime.now()
    study = search(
        tiny_space, dataset="digits", workdir=workdir, max_trials=1000, timeout="12s", retrain=True
    )
    elapsed = time.monotonic() - started
    # no trial starts after the budget; the retrain and the last trial may end a little past it
    # (a busy machine slows their last epoch), never by another budget
    late = [
        r.number
        for r in study.trials()
        if r.started is not None and r.started > wall_start + datetime.timedelta(seconds=12)
    ]
    assert not late, late
    assert elapsed < 2 * 12, elapsed
    counted = [r for r in study.trials() if r.status in ("complete", "pruned")]
    assert 2 <= len(counted) < 1000
    assert study.final is not None


@pytest.mark.parametrize(
    "option,message",
    [
        ({"max_trials": 0}, "`max_trials` must be >= 1; got 0"),
        ({"timeout": "soon"}, "`timeout`: 'soon' is not a duration"),
        ({"workers": 0}, "`workers` must be >= 1; got 0"),
        ({"max_consecutive_failures": 0}, "`max_consecutive_failures` must be >= 1; got 0"),
    ],
)
def test_library_errors_name_the_python_parameter(tiny_space, workdir, option, message):
    with pytest.raises(ConfigError) as raised:
        search(tiny_space, dataset="digits", workdir=workdir, **option)
    assert str(raised.value).startswith(message)
    assert "--" not in str(raised.value)


def test_the_cli_shows_flags_where_the_library_names_parameters():
    from autocnn.cli import as_flags

    assert (
        as_flags("`workers` 5 exceeds 2 GPU(s) x `trials_per_gpu` 2")
        == "--workers 5 exceeds 2 GPU(s) x --trials-per-gpu 2"
    )
    assert as_flags("run `autocnn search` first") == "run `autocnn search` first"


FLOPS_LIMITED_SPACE = """
name: limited
model:
  blocks: {count: 2, filters: [4, 8, 16, 32, 64, 128], kernel_size: 3, pooling: max}
  head: {pooling: flatten}
training: {optimizer: adam, learning_rate: {low: 1e-3, high: 3e-2, log: true}, batch_size: 128, epochs: 1}
search: {algorithm: tpe, pruner: none, constraints: {max_flops: 100000}}
"""


def test_tpe_learns_from_rejected_configurations_instead_of_proposing_them_again(write_space, workdir):
    # Most width pairs break the FLOPs limit (16x16 makes 93,440; 32x32 334,336). Told as failed,
    # TPE ignored them and proposed over-limit pairs 100 times in a row after its start-up trials.
    study = search(
        write_space(FLOPS_LIMITED_SPACE), dataset="digits", workdir=workdir, max_trials=8, retrain=False
    )
    records = study.trials()
    rejected = [record for record in records if record.status == "rejected"]
    assert sum(record.status == "complete" for record in records) == 8
    assert len(rejected) <= 16 and all(
        "FLOPs exceed the limit of 100,000" in record.reason for record in rejected
    )


OOM_SPACE = """
name: oom
model:
  blocks: {count: 1, filters: 4, pooling: none}
  head: {dense_layers: 0}
training: {batch_size: [BATCHES], epochs: 1}
search: {algorithm: random, pruner: none, max_consecutive_failures: 5}
seeds:
  - name: big_batch
    training: {batch_size: 128, epochs: 1}
"""


@pytest.mark.parametrize(("batches", "retried"), [("64, 128", True), ("128, 256", False)])
def test_out_of_memory_is_retried_once_at_half_the_batch_when_the_space_allows_it(
    write_space, workdir, monkeypatch, batches, retried
):
    import tensorflow as tf

    real_fit = autocnn.training.fit_config
    batch_sizes: list[int] = []

    def fit_that_runs_out_of_memory_at_128(config, *args, **kwargs):
        batch_sizes.append(config.training.batch_size)
        if config.training.batch_size >= 128:
            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor with shape[128,4,8,8]"
            )
        return real_fit(config, *args, **kwargs)

    monkeypatch.setattr(autocnn.training, "fit_config", fit_that_runs_out_of_memory_at_128)
    space = write_space(OOM_SPACE.replace("BATCHES", batches))
    record = search(space, dataset="digits", workdir=workdir, max_trials=1, retrain=False).trials()[0]
    if retried:
        assert batch_sizes == [128, 64]
        assert record.status == "complete" and record.metrics["batch_size_used"] == 64
    else:
        assert batch_sizes == [128]
        assert record.status == "failed" and record.reason.startswith(
            "ResourceExhaustedError: OOM when allocating"
        )


CONSTRAINED_SPACE = """
name: constrained
model:
  blocks: {count: 1, filters: [4, 64], pooling: none}
  head: {pooling: flatten, dense_layers: 0}
training: {batch_size: 128, epochs: 1}
search: {algorithm: random, pruner: none, constraints: {max_params: 10000, max_flops: 100000000}}
seeds:
  - name: too_big
    model: {blocks: [{filters: 64, pooling: none}]}
"""


def test_constraints_reject_networks_over_the_limit_before_training(write_space, workdir, monkeypatch):
    trained_widths: list[int] = []
    real_fit = autocnn.training.fit_config

    def recording_fit(config, *args, **kwargs):
        trained_widths.append(config.model.blocks[0].filters)
        return real_fit(config, *args, **kwargs)

    monkeypatch.setattr(autocnn.training, "fit_config", recording_fit)
    study = search(
        write_space(CONSTRAINED_SPACE), dataset="digits", workdir=workdir, max_trials=2, retrain=False
    )
    records = study.trials()
    # 64 filters of 3x3 on 8x8x1, flattened into 10 classes: 640 + 40,970 parameters
    assert records[0].seed_name == "too_big" and records[0].status == "rejected"
    assert records[0].reason == "41,610 parameters exceed the limit of 10,000"
    assert set(trained_widths) == {4} and sum(r.status == "complete" for r in records) == 2
    assert all(r.status == "rejected" for r in records if r.config.model.blocks[0].filters == 64)


PARETO_SPACE = """
name: pareto
model:
  blocks: {count: 1, filters: [2, 4, 8, 16], pooling: [max, none]}
  head: {dense_layers: 0}
training: {learning_rate: [0.003, 0.01], batch_size: 128, epochs: 2}
search:
  algorithm: nsga2
  pruner: none
  objective: [{metric: val_accuracy, direction: maximize}, {metric: params, direction: minimize}]
"""


def test_a_two_objective_nsga2_search_reports_its_pareto_front_and_retrains_a_member(write_space, workdir):
    from autocnn.core.study import pareto_ranks

    study = search(write_space(PARETO_SPACE), dataset="digits", workdir=workdir, max_trials=6)
    completed = [r for r in study.trials() if r.status == "complete"]
    assert len(completed) == 6 and all(len(r.values) == 2 for r in completed)
    # the front computed here from the raw values: no trial better in both objectives
    front = {
        r.number
        for r, rank in zip(
            completed, pareto_ranks([(-r.values[0], r.values[1]) for r in completed]), strict=True
        )
        if rank == 0
    }
    assert not any(
        other.values[0] >= r.values[0] and other.values[1] <= r.values[1] and other.values != r.values
        for r in completed
        if r.number in front
        for other in completed
    )
    assert study.final is not None and study.final.trial_number in front
    markdown = (study.report().parent / "report.md").read_text()
    assert f"It is one of {len(front)} trials on the Pareto front" in markdown
    ranking = markdown.split("## Ranking", 1)[1].split("\n\n", 2)[1].splitlines()
    header = [cell.strip() for cell in ranking[0].strip("|").split("|")]
    cells = [[cell.strip().strip("*") for cell in row.strip("|").split(" | ")] for row in ranking[2:]]
    marked = {int(row[header.index("trial")]) for row in cells if row[header.index("Pareto front")] == "yes"}
    assert marked == front


def test_an_error_raised_in_place_of_a_stop_marks_the_trial_interrupted_not_failed(
    tiny_space, workdir, monkeypatch
):
    from autocnn._stop import clear_stop, request_stop

    real_fit = autocnn.training.fit_config
    calls: list[int] = []

    def fit_stopped_in_a_cleanup(config, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            # Ctrl-C raised inside a context manager's exit; the exit's own error replaced it
            request_stop()
            raise RuntimeError("Tried to exit a name scope that was not entered")
        return real_fit(config, *args, **kwargs)

    monkeypatch.setattr(autocnn.training, "fit_config", fit_stopped_in_a_cleanup)
    try:
        with pytest.raises(SearchInterrupted) as stopped:
            search(tiny_space, dataset="digits", workdir=workdir, max_trials=3, retrain=False)
    finally:
        clear_stop()
    records = stopped.value.study.trials()
    assert [(r.status, r.reason) for r in records] == [
        ("complete", ""),
        ("interrupted", "stopped by Ctrl-C or SIGTERM"),
    ]
