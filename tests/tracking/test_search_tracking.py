"""A real tracked search (digits, tiny space): what lands in MLflow, and what never does."""

from __future__ import annotations

from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest

from tests.tracking.conftest import PASSWORD, TRACKED_SPACE, TrackedSearch


def test_one_parent_run_per_search_and_one_nested_run_per_trial(tracked: TrackedSearch):
    parent = tracked.parent()
    runs = tracked.runs()
    trials = tracked.trial_runs()
    records = tracked.study.trials()
    assert [record.status for record in records] == ["rejected", "failed", "complete", "complete"]
    assert len(runs) == 1 + len(records)
    assert sorted(trials) == [record.number for record in records]
    for number, run in trials.items():
        assert run.info.run_name == f"trial {number}"
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert parent.info.run_name.startswith("search ")
    assert "mlflow.parentRunId" not in parent.data.tags
    experiment = tracked.client.get_experiment(tracked.experiment_id)
    assert experiment.name == "tracked_digits"
    assert experiment.artifact_location.startswith((tracked.workdir / "mlartifacts").resolve().as_uri())


def test_parent_run_holds_the_search_setup_and_its_outcome(tracked: TrackedSearch):
    parent = tracked.parent()
    params, tags, metrics = parent.data.params, parent.data.tags, parent.data.metrics
    study = tracked.study
    assert parent.info.status == "FINISHED"
    assert params["dataset"] == "digits"
    assert params["dataset_fingerprint"] == study.info.dataset.fingerprint
    assert (params["backend"], params["algorithm"], params["pruner"], params["seed"]) == (
        "optuna",
        "random",
        "none",
        "0",
    )
    assert params["input_shape"] == "8x8x1" and params["num_classes"] == "10"
    assert params["objective"] == "maximize val_accuracy"
    # What is installed, read from the packages themselves: the suite must pass on any allowed release.
    assert params["version.mlflow"] == mlflow.__version__
    assert params["version.keras"] == keras.__version__
    assert (
        tags["command_line"]
        == "autocnn search --storage postgresql://u:***@h/db --tracking-uri http://me:***@x"
    )
    best = study.best_trial
    assert tags["best_trial"] == str(best.number)
    assert metrics["best.trial"] == best.number
    assert metrics["best.val_accuracy"] == pytest.approx(best.val_accuracy)
    assert metrics["best.params"] == best.params
    assert (metrics["trials.complete"], metrics["trials.failed"], metrics["trials.rejected"]) == (2, 1, 1)
    assert metrics["final.test_accuracy"] == pytest.approx(study.final.test_accuracy)
    assert metrics["final.trial"] == study.final.trial_number
    space_text = tracked.client.download_artifacts(parent.info.run_id, "search_space.yaml")
    assert Path(space_text).read_text() == TRACKED_SPACE


def test_trial_runs_hold_flat_params_epoch_curves_metrics_and_artifacts(tracked: TrackedSearch):
    trials = tracked.trial_runs()
    complete = [record for record in tracked.study.trials() if record.status == "complete"]
    assert len(complete) == 2
    for record in complete:
        run = trials[record.number]
        assert run.info.status == "FINISHED"
        assert run.data.tags["state"] == "complete"
        expected = {
            key: ("true" if value is True else "false" if value is False else str(value))
            for key, value in record.config.flat().items()
        }
        assert run.data.params == expected
        assert run.data.params["block1.filters"] in ("4", "8")
        assert run.data.params["training.learning_rate"] in ("0.01", "0.02")
        for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
            history = tracked.client.get_metric_history(run.info.run_id, metric)
            assert [point.step for point in history] == [1, 2], metric
            curve = [getattr(epoch, metric) for epoch in record.curve]
            assert [point.value for point in history] == pytest.approx(curve), metric
        metrics = run.data.metrics
        assert metrics["params"] == record.params and metrics["flops"] == record.flops
        assert metrics["duration_s"] == pytest.approx(record.duration, abs=1e-3)
        assert metrics["duration_s"] > 0
        files = {item.path for item in tracked.client.list_artifacts(run.info.run_id)}
        assert files == {"config.json", "model_summary.txt"}
        summary = Path(tracked.client.download_artifacts(run.info.run_id, "model_summary.txt")).read_text()
        assert "Conv2D" in summary and f"{record.params:,}" in summary


def test_rejected_and_failed_trials_carry_their_state_reason_and_seed(tracked: TrackedSearch):
    trials = tracked.trial_runs()
    rejected, failed = trials[0], trials[1]
    assert rejected.info.status == "FAILED"
    assert rejected.data.tags["state"] == "rejected"
    assert rejected.data.tags["seed"] == "too_deep"
    assert "reduces 1x1 to 0x0" in rejected.data.tags["reason"]
    assert rejected.data.params["blocks.count"] == "4"
    assert tracked.client.get_metric_history(rejected.info.run_id, "val_accuracy") == []
    assert failed.info.status == "FAILED"
    assert failed.data.tags["state"] == "failed"
    assert failed.data.tags["seed"] == "exploding"
    assert "loss became" in failed.data.tags["reason"]
    assert "learning rate 10 may be too high" in failed.data.tags["mlflow.note.content"]


def test_registered_model_loads_back_and_predicts_like_the_best_model(tracked: TrackedSearch, monkeypatch):
    import mlflow.keras

    from autocnn.data import load_dataset

    registered = tracked.tracker.registered
    assert registered is not None and (registered.name, registered.version) == ("digits-cnn", "1")
    version = tracked.client.get_model_version("digits-cnn", "1")
    assert version.run_id == tracked.tracker.parent_run_id
    assert version.status == "READY"
    assert tracked.parent().data.tags["registered_model"] == "models:/digits-cnn/1"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracked.tracking_uri)
    loaded = mlflow.keras.load_model("models:/digits-cnn/1")
    images = load_dataset("digits").x_test[:6]
    expected = tracked.study.best_model().predict(images, verbose=0)
    got = loaded.predict(images, verbose=0)
    assert got.shape == (6, 10)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_no_password_reaches_any_param_tag_or_artifact(tracked: TrackedSearch):
    for run in tracked.runs():
        for key, value in [*run.data.params.items(), *run.data.tags.items()]:
            assert PASSWORD not in value, (run.info.run_name, key)
    stored = [path for path in tracked.workdir.glob("mlflow.db*")]
    stored += [path for path in (tracked.workdir / "mlartifacts").rglob("*") if path.is_file()]
    assert len(stored) > 10
    for path in stored:
        assert PASSWORD.encode() not in path.read_bytes(), path
    assert b"u:***@h/db" in (tracked.workdir / "mlflow.db").read_bytes()


def test_nothing_lands_in_the_current_folder(tracked: TrackedSearch):
    assert list(tracked.cwd.iterdir()) == []
    assert (tracked.workdir / "mlartifacts" / "tracked_digits").is_dir()


def test_logging_costs_little(tracked: TrackedSearch):
    tracker = tracked.tracker
    assert tracker.trials_logged == 4
    per_trial = tracker.timings["trials"] / tracker.trials_logged
    print(f"MLflow logging: {per_trial * 1000:.0f} ms per trial; timings {tracker.timings}")
    assert per_trial < 1.0, tracker.timings
    assert tracker.timings["model"] < 20, tracker.timings  # ~1-2 s; inferring requirements adds ~5 s
