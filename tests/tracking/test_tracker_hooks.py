"""The MLflow tracker driven through its hooks: states, secrets, live epochs, failures, interruptions."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from autocnn.config import TrialConfig
from autocnn.core.callbacks import SearchCallback, SearchInfo
from autocnn.core.records import EpochRecord, TrialRecord
from autocnn.errors import SearchInterrupted
from autocnn.space import load_space
from autocnn.tracking import MLflowTracker, default_tracking_uri
from tests.finals import final_result
from tests.search_info import search_info
from tests.tracking.conftest import PASSWORD

CONFIG = TrialConfig.from_dict({"model": {"blocks": [{"filters": 8}]}, "training": {"epochs": 2}})
CURVE = (
    EpochRecord(epoch=1, loss=1.5, accuracy=0.5, val_loss=1.2, val_accuracy=0.6, seconds=0.1),
    EpochRecord(epoch=2, loss=0.9, accuracy=0.7, val_loss=0.8, val_accuracy=0.75, seconds=0.1),
)


class FakeStudy:
    """What the tracker reads from a Study at the end of a search."""

    def __init__(self, records: list[TrialRecord]) -> None:
        self.records = records
        self.final = None

    def trials(self) -> list[TrialRecord]:
        return self.records

    def ranked(self) -> list[TrialRecord]:
        return [record for record in self.records if record.status == "complete"]


def make_info(
    space_file: Path, workdir: Path, *, storage: str = "sqlite:///x.db", command: str = ""
) -> SearchInfo:
    return search_info(
        load_space(space_file),
        study_name="hooks",
        workdir=str(workdir),
        storage=storage,
        space_file=str(space_file),
        command=command,
        versions={"mlflow": "3.17.2"},
    )


def make_record(
    number: int, status: Any, *, reason: str = "", curve: tuple[EpochRecord, ...] = CURVE
) -> TrialRecord:
    started = datetime(2026, 1, 1, 12, 0, 0)
    return TrialRecord(
        number=number,
        status=status,
        config=CONFIG,
        values=(curve[-1].val_accuracy,) if status == "complete" and curve else None,
        reason=reason,
        metrics={
            "params": 1234.0,
            "flops": 5678.0,
            **({"val_accuracy": curve[-1].val_accuracy} if curve else {}),
        },
        curve=curve,
        started=started,
        finished=started + timedelta(seconds=3),
    )


def run_trial(tracker: MLflowTracker, record: TrialRecord) -> None:
    tracker.on_trial_start(record.number, CONFIG, seed_name="")
    for epoch in record.curve:
        tracker.on_epoch_end(record.number, epoch)
    tracker.on_trial_end(record)


def scan_for(workdir: Path, text: str) -> list[Path]:
    files = list(workdir.glob("mlflow.db*")) + [
        p for p in (workdir / "mlartifacts").rglob("*") if p.is_file()
    ]
    assert files, "nothing was written"
    return [path for path in files if text.encode() in path.read_bytes()]


def test_each_trial_state_gets_its_mlflow_status_and_tags(workdir, small_space):
    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    tracker.on_search_start(make_info(small_space, workdir))
    states = {
        0: ("complete", "", "FINISHED"),
        1: ("pruned", "pruned after epoch 1", "KILLED"),
        2: ("failed", "loss became nan at epoch 1", "FAILED"),
        3: ("rejected", "block 1: 0x0 feature map", "FAILED"),
        4: ("interrupted", "stopped by Ctrl-C or SIGTERM", "KILLED"),
    }
    records = []
    for number, (status, reason, _) in states.items():
        record = make_record(number, status, reason=reason, curve=CURVE if status != "rejected" else ())
        records.append(record)
        run_trial(tracker, record)
    tracker.on_search_end(FakeStudy(records))
    client = tracker._client
    runs = {run.info.run_name: run for run in client.search_runs([tracker.experiment_id])}
    for number, (status, reason, mlflow_status) in states.items():
        run = runs[f"trial {number}"]
        assert run.info.status == mlflow_status, status
        assert run.data.tags["state"] == status
        assert run.data.tags.get("reason", "") == reason
        assert run.data.tags["trial"] == str(number)
    parent = client.get_run(tracker.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["best_trial"] == "0"
    assert parent.data.metrics["trials.pruned"] == 1


def test_an_error_or_an_interruption_ends_the_parent_run_accordingly(workdir, small_space):
    uri = default_tracking_uri(workdir)
    outcomes = []
    for kwargs in ({"error": "3 trials in a row failed"}, {"interrupted": True}):
        tracker = MLflowTracker(tracking_uri=uri)
        tracker.on_search_start(make_info(small_space, workdir))
        tracker.on_trial_start(0, CONFIG)  # still running when the search stops
        tracker.on_epoch_end(0, CURVE[0])
        tracker.on_search_end(FakeStudy([]), **kwargs)
        parent = tracker._client.get_run(tracker.parent_run_id)
        trial = tracker._client.search_runs(
            [tracker.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{tracker.parent_run_id}'"
        )[0]
        outcomes.append(
            (
                parent.info.status,
                parent.data.tags["state"],
                parent.data.tags.get("error"),
                trial.info.status,
                trial.data.tags["state"],
            )
        )
        assert [m.step for m in tracker._client.get_metric_history(trial.info.run_id, "loss")] == [1]
    assert outcomes == [
        ("FAILED", "failed", "3 trials in a row failed", "FAILED", "failed"),
        ("KILLED", "interrupted", None, "KILLED", "interrupted"),
    ]


def test_an_exception_the_loop_does_not_report_fails_the_run_but_an_older_one_does_not(workdir, small_space):
    uri = default_tracking_uri(workdir)
    statuses = []
    try:
        raise ValueError("handled by the caller before the search")
    except ValueError:
        tracker = MLflowTracker(tracking_uri=uri)
        tracker.on_search_start(make_info(small_space, workdir))
        tracker.on_search_end(FakeStudy([]))
        statuses.append(tracker._client.get_run(tracker.parent_run_id).info.status)
    tracker = MLflowTracker(tracking_uri=uri)
    tracker.on_search_start(make_info(small_space, workdir))
    try:
        raise RuntimeError("a bug in the loop")
    except RuntimeError:
        tracker.on_search_end(FakeStudy([]))
    run = tracker._client.get_run(tracker.parent_run_id)
    statuses.append(run.info.status)
    assert statuses == ["FINISHED", "FAILED"]
    assert run.data.tags["error"] == "RuntimeError: a bug in the loop"


def test_secrets_given_to_the_tracker_are_masked_everywhere(workdir, tmp_path):
    space = tmp_path / "secret.yaml"
    space.write_text(
        f"# results also go to postgresql://bob:{PASSWORD}@db/studies\n"
        "name: secret\nmodel: {blocks: {count: 1, filters: 4}}\ntraining: {epochs: 1}\n"
    )
    info = make_info(
        space,
        workdir,
        storage=f"postgresql://bob:{PASSWORD}@db:5432/studies",
        command=f"autocnn search --storage postgresql://bob:{PASSWORD}@db/studies",
    )
    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    tracker.on_search_start(info)
    record = make_record(0, "failed", reason=f"cannot reach mysql://root:{PASSWORD}@10.0.0.1/x")
    run_trial(tracker, record)
    tracker.on_search_end(FakeStudy([record]), error=f"lost https://me:{PASSWORD}@host/db")
    assert tracker.active
    assert scan_for(workdir, PASSWORD) == []
    parent = tracker._client.get_run(tracker.parent_run_id)
    assert parent.data.params["storage"] == "postgresql://bob:***@db:5432/studies"
    assert parent.data.tags["error"] == "lost https://me:***@host/db"
    assert scan_for(workdir, "bob:***@db/studies")  # the masked text is there: it was logged


def test_epoch_metrics_wait_for_the_trial_end_unless_flush_interval_passed(workdir, small_space):
    histories = {}
    for interval in (0.0, 3600.0):
        tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir), flush_interval=interval)
        tracker.on_search_start(make_info(small_space, workdir))
        tracker.on_trial_start(0, CONFIG)
        tracker.on_epoch_end(0, CURVE[0])
        run_id = tracker._trials[0].run_id
        before_end = [m.value for m in tracker._client.get_metric_history(run_id, "val_accuracy")]
        tracker.on_epoch_end(0, CURVE[1])
        tracker.on_trial_end(make_record(0, "complete"))
        after_end = [m.value for m in tracker._client.get_metric_history(run_id, "val_accuracy")]
        histories[interval] = (before_end, after_end)
        tracker.on_search_end(FakeStudy([]))
    assert histories[0.0] == ([0.6], [0.6, 0.75])
    assert histories[3600.0] == ([], [0.6, 0.75])


def test_an_unreachable_server_warns_once_and_records_nothing(capsys, small_space, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tracker = MLflowTracker(tracking_uri=f"http://user:{PASSWORD}@127.0.0.1:{port}")
    tracker.on_search_start(make_info(small_space, tmp_path))
    run_trial(tracker, make_record(0, "complete"))
    tracker.on_search_end(FakeStudy([]))
    err = capsys.readouterr().err
    assert err.count("warning: MLflow tracking stopped") == 1, err
    assert "the search goes on without tracking" in err
    assert PASSWORD not in err and "user:***@127.0.0.1" in err
    assert not tracker.active and tracker.parent_run_id is None


class BreakMlflow(SearchCallback):
    """Make the tracker's MLflow client fail from the second trial on."""

    def __init__(self, tracker: MLflowTracker) -> None:
        self.tracker = tracker

    def on_trial_start(self, number: int, config: TrialConfig, *, seed_name: str = "") -> None:
        if number == 1:

            def broken(*args: Any, **kwargs: Any) -> None:
                raise RuntimeError("database is locked")

            self.tracker._client.log_batch = broken
            self.tracker._client.create_run = broken


def test_mlflow_failing_mid_search_warns_once_and_the_search_goes_on(workdir, small_space, capsys):
    from autocnn.core.session import search

    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    study = search(
        small_space,
        dataset="digits",
        workdir=workdir,
        max_trials=2,
        retrain=False,
        callbacks=[BreakMlflow(tracker), tracker],
    )
    assert [record.status for record in study.trials()] == ["complete", "complete"]
    err = capsys.readouterr().err
    assert (
        err.count(
            "warning: MLflow tracking stopped while starting trial 1 (RuntimeError: database is locked)"
        )
        == 1
    )
    assert not tracker.active
    first = tracker._client.search_runs([tracker.experiment_id], filter_string="tags.trial = '0'")
    assert [run.info.status for run in first] == ["FINISHED"]


class StopAtTrial(SearchCallback):
    """Press Ctrl-C during the first epoch of trial ``number``."""

    def __init__(self, number: int) -> None:
        self.number = number

    def on_epoch_end(self, number: int, record: EpochRecord) -> None:
        if number == self.number:
            raise KeyboardInterrupt


def test_ctrl_c_marks_the_running_trial_and_the_search_killed(workdir, small_space):
    from autocnn.core.session import search

    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    with pytest.raises(SearchInterrupted):
        search(
            small_space,
            dataset="digits",
            workdir=workdir,
            max_trials=2,
            retrain=False,
            callbacks=[tracker, StopAtTrial(1)],
        )
    client = tracker._client
    parent = client.get_run(tracker.parent_run_id)
    assert (parent.info.status, parent.data.tags["state"]) == ("KILLED", "interrupted")
    runs = {
        run.data.tags["trial"]: run
        for run in client.search_runs([tracker.experiment_id])
        if run.data.tags.get("kind") == "trial"
    }
    assert runs["0"].info.status == "FINISHED"
    assert (runs["1"].info.status, runs["1"].data.tags["state"]) == ("KILLED", "interrupted")
    assert [m.step for m in client.get_metric_history(runs["1"].info.run_id, "loss")] == [1]


def test_continuing_the_study_adds_a_parent_run_to_the_same_experiment(workdir, small_space):
    from autocnn.core.session import search

    first = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    with pytest.raises(SearchInterrupted):
        search(
            small_space,
            dataset="digits",
            workdir=workdir,
            max_trials=1,
            retrain=False,
            callbacks=[first, StopAtTrial(0)],
        )
    second = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    search(small_space, dataset="digits", workdir=workdir, max_trials=1, retrain=False, callbacks=[second])
    assert second.experiment_id == first.experiment_id
    client = second._client
    parents = client.search_runs([second.experiment_id], filter_string="tags.kind = 'search'")
    assert sorted(run.info.status for run in parents) == ["FINISHED", "KILLED"]
    resumed = client.get_run(second.parent_run_id).data.params
    assert (resumed["resumed"], resumed["trials_before"]) == ("true", "1")
    trials = client.search_runs([second.experiment_id], filter_string="tags.kind = 'trial'")
    assert sorted((run.data.tags["trial"], run.data.tags["state"]) for run in trials) == [
        ("0", "interrupted"),
        ("1", "complete"),
    ]


class BrokenModel:
    """A model that cannot even predict: logging it fails."""

    def predict_on_batch(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")


def test_a_model_that_cannot_be_logged_warns_and_the_rest_is_still_recorded(workdir, small_space, capsys):
    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir), register_name="never")
    tracker.on_search_start(make_info(small_space, workdir))
    final = final_result(config=CONFIG)
    tracker.on_retrain_end(final, model=BrokenModel(), example=[[0.0]])
    tracker.on_search_end(FakeStudy([]))
    err = capsys.readouterr().err
    assert (
        "warning: MLflow could not finish logging the final model (OSError: disk full); tracking goes on"
        in err
    )
    assert tracker.active and tracker.model_uri is None and tracker.registered is None
    parent = tracker._client.get_run(tracker.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["final.test_accuracy"] == 0.9


def test_final_rung_results_are_metrics_of_the_search_run(workdir, small_space):
    from autocnn.core.records import RungResult

    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    tracker.on_search_start(make_info(small_space, workdir))
    record = make_record(3, "complete", curve=CURVE)
    run_trial(tracker, record)
    tracker.on_final_rung_result(
        RungResult(
            trial_number=3,
            epochs=4,
            planned_epochs=4,
            train_images=900,
            val_accuracy=0.9375,
            val_loss=float("nan"),
            trial_val_accuracy=0.9,
            seconds=2.0,
        )
    )
    tracker.on_search_end(FakeStudy([record]))
    metrics = tracker._client.get_run(tracker.parent_run_id).data.metrics
    assert metrics["final_rung.trial_3.val_accuracy"] == 0.9375
    assert metrics["final_rung.trial_3.epochs"] == 4
    assert "final_rung.trial_3.val_loss" not in metrics  # NaN is not logged


def test_augmentation_check_runs_are_metrics_of_the_search_run(workdir, small_space):
    from autocnn.config import AugmentationConfig
    from autocnn.core.augmentation_check import AugmentationRun

    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    tracker.on_search_start(make_info(small_space, workdir))
    record = make_record(3, "complete", curve=CURVE)
    run_trial(tracker, record)
    shifted = AugmentationConfig(flip="horizontal", translation=0.06)
    tracker.on_augmentation_check_run(3, AugmentationRun(shifted, epochs=30, val_accuracy=0.91, seconds=9.0))
    tracker.on_augmentation_check_run(3, AugmentationRun(AugmentationConfig(), 30, 0.88, 7.0))
    tracker.on_search_end(FakeStudy([record]))
    metrics = tracker._client.get_run(tracker.parent_run_id).data.metrics
    assert metrics["augmentation_check.flip_horizontal_and_shift_0.06.val_accuracy"] == 0.91
    assert metrics["augmentation_check.none.val_accuracy"] == 0.88
    assert metrics["augmentation_check.none.epochs"] == 30


def test_the_final_models_views_are_recorded_beside_its_test_accuracy(workdir, small_space):
    from autocnn.config import PredictionViews
    from autocnn.core.test_time import ViewChoice

    tracker = MLflowTracker(tracking_uri=default_tracking_uri(workdir))
    tracker.on_search_start(make_info(small_space, workdir))
    final = final_result(
        config=CONFIG,
        test_accuracy=0.93,
        test_time_views=ViewChoice(
            views=PredictionViews(shift=1, flip="horizontal"), guard_accuracy=0.91, plain_guard_accuracy=0.9
        ),
        plain_test_accuracy=0.92,
    )
    tracker.on_retrain_end(final, model=BrokenModel(), example=[[0.0]])
    tracker.on_search_end(FakeStudy([]))
    metrics = tracker._client.get_run(tracker.parent_run_id).data.metrics
    assert metrics["final.views"] == 6
    assert metrics["final.views_guard_accuracy"] == 0.91 and metrics["final.plain_guard_accuracy"] == 0.9
    assert metrics["final.test_accuracy"] == 0.93 and metrics["final.plain_test_accuracy"] == 0.92
