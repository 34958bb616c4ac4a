"""The typed plan of a search: checked once, stored in the study, rebuilt from it by workers and export."""

from __future__ import annotations

import os

import pytest

from autocnn.core.lost_trials import mark_trial_lost
from autocnn.core.metadata import INFO_ATTR, RunRecord, StudyInfo, read_info
from autocnn.core.plan import RunLimits, plan_search
from autocnn.core.records import LoopEnd, TrialStatus
from autocnn.core.session import run_worker, search
from autocnn.core.study import load_study
from autocnn.core.view import StudyView
from autocnn.core.workers import WorkerSlot, worker_command
from autocnn.errors import ConfigError, DataError, StudyMismatchError
from tests.data.writers import unique_images, write_npz
from tests.search.conftest import TINY_SPACE


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_trials": 0}, "`max_trials` must be >= 1; got 0"),
        ({"max_consecutive_failures": 0}, "`max_consecutive_failures` must be >= 1; got 0"),
        ({"recycle_after": 0}, "`recycle_after` must be >= 1; got 0"),
        ({"max_rss_mb": -5.0}, "`max_rss_mb` must be > 0; got -5.0"),
        ({"timeout_s": float("inf")}, "`timeout` must be a positive duration; got inf"),
    ],
)
def test_limits_that_cannot_hold_name_their_parameter(limits, message):
    base = {"max_trials": 3, "timeout_s": None, "retrain": True, "max_consecutive_failures": 5}
    with pytest.raises(ConfigError) as error:
        RunLimits(**{**base, **limits})
    assert str(error.value) == message


def test_overrides_are_applied_once_over_the_space(tiny_space):
    plan, data = plan_search(
        tiny_space, dataset="digits", max_trials=7, timeout="2m", backend="optuna", seed=3, recycle_after=2
    )
    assert plan.limits == RunLimits(
        max_trials=7, timeout_s=120.0, retrain=True, max_consecutive_failures=5, recycle_after=2
    )
    assert (plan.backend.name, plan.backend.algorithm, plan.backend.pruner) == ("optuna", "random", "none")
    assert plan.study == "tiny_digits" and plan.seed == 3
    assert plan.dataset.location == "digits" and plan.dataset.seed == 3
    assert plan.dataset.fingerprint == data.fingerprint
    # another backend than the space's does not inherit the space's algorithm
    other, _ = plan_search(tiny_space, dataset="digits", backend="keras-tuner")
    assert other.backend.algorithm == "random" and other.backend.name == "keras-tuner"


def test_a_study_on_local_data_loads_it_again_from_any_folder(tmp_path, tiny_space, monkeypatch):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    write_npz(data_dir / "shapes.npz")
    monkeypatch.chdir(data_dir)
    plan, data = plan_search(tiny_space, dataset="shapes.npz", seed=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert plan.dataset.location == str(data_dir / "shapes.npz")
    again = plan.dataset.load_same()
    assert again.fingerprint == data.fingerprint
    assert plan.dataset.mismatch(again) is None
    os.utime(data_dir / "shapes.npz")  # same bytes: still the same data
    assert plan.dataset.load_same().fingerprint == data.fingerprint
    write_npz(data_dir / "shapes.npz", x_test=unique_images(20, offset=100))
    with pytest.raises(StudyMismatchError, match=r"differs from the study's \(shapes, fingerprint"):
        plan.dataset.load_same()


def test_data_given_as_arrays_must_be_given_again(tiny_space):
    from sklearn.datasets import load_digits

    from autocnn.data import dataset_from_arrays

    digits = load_digits()
    digits_arrays = dataset_from_arrays(digits.images[..., None] / 16, digits.target, name="mine")
    plan, _ = plan_search(tiny_space, dataset=digits_arrays)
    assert plan.dataset.location is None
    with pytest.raises(
        DataError, match="was given as arrays, so it cannot be loaded again; pass the same data"
    ):
        plan.dataset.load(study="mine")
    assert plan.dataset.load(source=digits_arrays) is digits_arrays


def test_a_study_of_an_older_version_reads_with_its_first_runs_seed():
    flat = {
        "space_hash": "abc",
        "space_name": "quick",
        "dataset": "digits",
        "dataset_fingerprint": "f" * 64,
        "validation_fraction": 0.2,
        "objective": [{"metric": "val_accuracy", "direction": "maximize"}],
        "backend": "optuna",
        "algorithm": "random",
        "pruner": "none",
        "input_shape": [8, 8, 1],
        "num_classes": 10,
    }
    runs = (RunRecord.from_dict({"command_line": "autocnn search", "seed": 11}),)
    info = StudyInfo.from_attrs(flat, runs=runs)
    assert info.dataset is not None
    assert (info.dataset.location, info.dataset.seed, info.dataset.validation_fraction) == ("digits", 11, 0.2)
    assert info.input_shape == (8, 8, 1) and info.backend.description == "optuna / random / none"
    assert runs[0].limits is None
    assert StudyInfo.from_attrs(info.to_attrs()) == info


def test_a_worker_follows_its_run_from_the_study(write_space, workdir):
    space = write_space(TINY_SPACE)
    study = search(space, dataset="digits", workdir=workdir, max_trials=2, retrain=False, recycle_after=1)
    info = read_info(study.optuna_study)
    assert study.optuna_study.user_attrs[INFO_ATTR]["dataset_seed"] == info.dataset.seed == 0
    run = study.runs[-1]
    assert run.limits is not None and run.limits.max_trials == 2 and run.limits.recycle_after == 1
    assert not run.tracked
    command = worker_command(
        study=study.name, storage="sqlite:///x.db", workdir="w", run=run.id, slot=WorkerSlot(0, None)
    )
    assert command[command.index("--run") + 1] == run.id
    assert not {"--max-trials", "--timeout", "--recycle-after", "--max-rss-mb", "--no-tracking"} & set(
        command
    )
    # the run's two trials are done: a worker following it starts none
    assert run_worker(study.name, workdir=workdir, run=run.id) is LoopEnd.DONE
    assert len(load_study(study.name, workdir=workdir).trials()) == 2
    # with more trials allowed, it recycles after the run's quota of one trial per process
    assert run_worker(study.name, workdir=workdir, run=run.id, max_trials=4) is LoopEnd.RECYCLE
    assert len(load_study(study.name, workdir=workdir).trials()) == 3
    with pytest.raises(ConfigError, match="has no run 'nope'"):
        run_worker(study.name, workdir=workdir, run="nope")


def test_a_worker_of_an_untracked_search_records_nothing(write_space, workdir, tmp_path):
    from autocnn.tracking import make_tracker

    study = search(write_space(TINY_SPACE), dataset="digits", workdir=workdir, max_trials=1, retrain=False)
    store = tmp_path / "mlflow.db"
    tracker = make_tracker(workdir=workdir, tracking_uri=str(store))
    assert tracker.worker_environment() == {"MLFLOW_TRACKING_URI": f"sqlite:///{store}"}
    run = study.runs[-1].id
    assert run_worker(study.name, workdir=workdir, run=run, max_trials=2, callbacks=[tracker]) is LoopEnd.DONE
    assert len(load_study(study.name, workdir=workdir).trials()) == 2
    assert not store.exists()
    # a worker joining by hand (no run) tracks as it is told
    run_worker(study.name, workdir=workdir, max_trials=2, callbacks=[tracker])
    assert store.exists()


def test_the_view_ranks_and_counts_like_the_study(write_space, workdir):
    import optuna

    study = search(write_space(TINY_SPACE), dataset="digits", workdir=workdir, max_trials=3, retrain=False)
    view = StudyView(study)
    view.refresh()
    assert [r.number for r in view.ranked()] == [r.number for r in study.ranked()]
    assert view.counted == 3 and view.running == 0
    # a trial that proposed a configuration and was left running, then failed and retried as lost
    lost = study.optuna_study.ask(dict(study.optuna_study.trials[0].distributions))
    view.refresh()
    assert view.running == 1
    assert mark_trial_lost(study.optuna_study, study.optuna_study.trials[lost.number], reason="lost")
    view.refresh()
    assert view.counted == 3  # the lost trial does not count: its retry, queued, takes its place
    assert view.running == 0 and study.optuna_study.trials[-1].state is optuna.trial.TrialState.WAITING
    assert TrialStatus.of(study.optuna_study.trials[-2]) is TrialStatus.FAILED
