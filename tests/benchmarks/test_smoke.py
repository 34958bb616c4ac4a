"""A smoke-size run of every benchmark script: it runs, writes its files, and its numbers make sense."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autocnn.space import load_space
from tests.conftest import REPO

# The budget benchmark's smoke size: 10 s per contender on half of digits.
BUDGET_SMOKE = ("--budget", "10s", "--subset", "0.5", "--dataset", "digits")


def run_benchmark(script: str, *args: str, out, returncode: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=out,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == returncode, result.stderr[-3000:]
    return result


def test_storage_scaling(tmp_path):
    run_benchmark("storage_scaling.py", "--trials", "20", "--bucket", "10", out=tmp_path)
    results = json.loads((tmp_path / "storage_scaling.json").read_text())
    assert results["trials"] == 20 and len(results["buckets"]) == 2
    assert all(0 < bucket["mean_ms"] < 5000 for bucket in results["buckets"])


def test_search_overhead(tmp_path):
    run_benchmark("search_overhead.py", "--trials", "3", out=tmp_path)
    results = json.loads((tmp_path / "search_overhead.json").read_text())
    for run in ("no_tracking", "mlflow_tracking"):
        assert results[run]["trials"] == 3
        assert results[run]["ratio"] > 1.0  # the search takes longer than its model.fit calls alone
    assert "| mlflow_tracking | 3 |" in (tmp_path / "search_overhead.md").read_text()


def test_input_pipeline(tmp_path):
    run_benchmark(
        "input_pipeline.py",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--rounds",
        "1",
        "--no-augmentation-row",
        "--no-reference-row",
        out=tmp_path,
    )
    assert list(tmp_path.glob("input_pipeline.json")) and list(tmp_path.glob("input_pipeline.md"))


@pytest.mark.slow
def test_compare_backends(tmp_path):
    run_benchmark("compare_backends.py", "--budget", "6s", "--dataset", "digits", out=tmp_path)
    results = json.loads((tmp_path / "compare_backends.json").read_text())
    assert [row["backend"] for row in results["results"]] == [
        "optuna tpe",
        "optuna random",
        "keras-tuner bayesian",
        "keras-tuner hyperband",
    ]
    assert all(row["trials"] >= 1 for row in results["results"])
    assert (tmp_path / "compare_backends.png").stat().st_size > 1000


@pytest.mark.slow
def test_workers_throughput(tmp_path):
    run_benchmark("workers_throughput.py", "--budget", "20s", "--workers", "1", "2", out=tmp_path)
    rows = json.loads((tmp_path / "workers_throughput.json").read_text())["results"]
    assert [row["workers"] for row in rows] == [1, 2]
    assert all(row["trials_finished"] >= 1 and row["database_locked_errors"] == 0 for row in rows)


@pytest.mark.slow
def test_fashion_mnist_budget(tmp_path):
    run_benchmark("fashion_mnist_budget.py", *BUDGET_SMOKE, out=tmp_path)
    results = json.loads((tmp_path / "digits_10s.json").read_text())["results"]
    assert set(results) == {"autocnn", "autocnn_planned", "keras_tuner", "optuna", "autokeras", "hand_made"}
    # AutoKeras runs, patched, and its note says how (it is skipped only where it does not import)
    # AutoKeras really ran (with the patch; without it fit raises): a trial at least started, and a
    # finished one scores well (on a busy machine its first trial may not finish in 10 s)
    autokeras = results["autokeras"]
    assert autokeras["trials"] >= 1 and "casts it to int" in autokeras["note"]
    assert autokeras["test_accuracy"] is None or autokeras["test_accuracy"] > 0.5
    assert (
        results["autocnn"]["winner"]["retrain_epochs"] >= 1 and results["autocnn"]["winner"]["architecture"]
    )
    # which model was kept, and why, is recorded: any model but the plain retrain comes with a reason
    winner = results["autocnn"]["winner"]
    assert winner["kept"] in {"retrained", "retrained_lower_lr", "retrained_shorter", "trial_model"}
    assert winner["kept"] == "retrained" or winner["kept_reason"]
    for name in ("autocnn_planned", "keras_tuner", "optuna", "hand_made"):
        assert 0.0 < results[name]["test_accuracy"] <= 1.0
    table = (tmp_path / "digits_10s.md").read_text()
    fraction = load_space("fashion_mnist").search.trial_train_fraction
    assert (
        "| autocnn |" in table and f"autocnn's trials train on {fraction:.0%} of the training split" in table
    )
    # A contender run again on its own is merged into the earlier run's results, the others kept.
    run_benchmark("fashion_mnist_budget.py", *BUDGET_SMOKE, "--only", "hand_made", out=tmp_path)
    merged = json.loads((tmp_path / "digits_10s.json").read_text())["results"]
    assert set(merged) == set(results)
    assert merged["keras_tuner"] == results["keras_tuner"]
    assert merged["hand_made"]["date"] >= results["hand_made"]["date"]
    assert merged["hand_made"]["command"].endswith("--only hand_made --out " + str(tmp_path))
    # --render runs nothing: it writes the table and the plot again from the JSON, left as it was.
    before = (tmp_path / "digits_10s.json").read_text()
    table = (tmp_path / "digits_10s.md").read_text()
    (tmp_path / "digits_10s.md").unlink()
    (tmp_path / "digits_10s.png").unlink()
    run_benchmark("fashion_mnist_budget.py", *BUDGET_SMOKE, "--render", out=tmp_path)
    assert (tmp_path / "digits_10s.json").read_text() == before
    assert (tmp_path / "digits_10s.md").read_text() == table
    assert (tmp_path / "digits_10s.png").stat().st_size > 5_000


def test_fashion_mnist_budget_render_without_results_says_what_to_run(tmp_path):
    result = run_benchmark("fashion_mnist_budget.py", "--render", out=tmp_path, returncode=1)
    assert "no results with --subset 1.0" in result.stderr and "run the contenders first" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_norm_speed(tmp_path):
    run_benchmark("batch_norm_speed.py", "--rounds", "1", "--steps", "6", "--size", "16", out=tmp_path)
    results = json.loads((tmp_path / "batch_norm_speed.json").read_text())
    rows = {row["variant"]: row for row in results["results"]}
    assert set(rows) == {"fused BN (autocnn)", "Keras BN", "no BN"}
    keras_step = rows["Keras BN"]["step_ms_per_round"][0]
    for row in rows.values():  # each ratio is the variant's step time over Keras BN's in the same round
        assert row["ratio_vs_keras_bn"] == pytest.approx(row["step_ms_per_round"][0] / keras_step, abs=0.01)
    assert all(row["step_ms_median"] > 0 and len(row["step_ms_per_round"]) == 1 for row in rows.values())
    assert "| fused BN (autocnn) |" in (tmp_path / "batch_norm_speed.md").read_text()


@pytest.mark.slow
def test_planned_space(tmp_path):
    # 25 s: the planner's probe and a first trial need more than 12 s on a machine twice as slow
    smoke = ("--budget", "25s", "--scale", "0.05", "--datasets", "folder_3_classes")
    run_benchmark("planned_space.py", *smoke, out=tmp_path)
    results = json.loads((tmp_path / "planned_space.json").read_text())["results"]
    outcomes = results["25s"]["folder_3_classes"]
    assert set(outcomes) == {"autocnn_planned", "keras_tuner", "hand_made"}
    assert all(0.0 < outcome["test_accuracy"] <= 1.0 for outcome in outcomes.values())
    accuracies = [outcomes[name]["test_accuracy"] for name in ("autocnn_planned", "keras_tuner", "hand_made")]
    margin = 100 * (accuracies[0] - max(accuracies[1:]))
    assert f"| folder_3_classes | {accuracies[0]:.4f} | " in (tmp_path / "planned_space.md").read_text()
    assert f"| {margin:+.2f} |" in (tmp_path / "planned_space.md").read_text()
    # A contender run again on its own is merged in; the others' outcomes stay as they were.
    run_benchmark("planned_space.py", *smoke, "--only", "hand_made", out=tmp_path)
    merged = json.loads((tmp_path / "planned_space.json").read_text())["results"]["25s"]["folder_3_classes"]
    assert merged["keras_tuner"] == outcomes["keras_tuner"] and set(merged) == set(outcomes)
    assert (tmp_path / "planned_space.png").stat().st_size > 5_000
    # --render runs nothing: the table and the plot are written again from the JSON, left as it was.
    before = (tmp_path / "planned_space.json").read_text()
    table = (tmp_path / "planned_space.md").read_text()
    (tmp_path / "planned_space.md").unlink()
    run_benchmark("planned_space.py", "--scale", "0.05", "--render", out=tmp_path)
    assert (tmp_path / "planned_space.json").read_text() == before
    assert (tmp_path / "planned_space.md").read_text() == table


def test_a_lever_is_switched_off_in_a_copy_of_the_plan_and_a_lever_the_plan_lacks_is_not_run():
    from benchmarks.ablation import LEVERS, switched_off

    by_name = {lever.name: lever for lever in LEVERS}
    plan = {
        "training": {"lr_schedule": "cosine"},
        "search": {"pruner": "quartile", "final_rung": {"epochs": 6}},
    }
    changed = switched_off(plan, by_name["quartile_pruner"])
    assert changed == {
        "training": {"lr_schedule": "cosine"},
        "search": {"pruner": "median", "final_rung": {"epochs": 6}},
    }
    assert plan["search"]["pruner"] == "quartile"  # the plan itself is left as it was
    assert switched_off(plan, by_name["cosine_schedule"])["training"] == {"lr_schedule": "constant"}
    # absent entries are at their defaults, which are the levers' off values
    assert switched_off(plan, by_name["final_rung"]) is None
    assert switched_off(plan, by_name["augmentation_check"]) is None
    assert switched_off({"training": {"label_smoothing": 0.0}}, by_name["label_smoothing"]) is None


@pytest.mark.slow
def test_ablation(tmp_path):
    import yaml

    smoke = ("--budget", "10s", "--dataset", "digits", "--subset", "0.3")
    run_benchmark("ablation.py", *smoke, "--only", "all", "label_smoothing", out=tmp_path)
    saved = json.loads((tmp_path / "ablation_digits_10s.json").read_text())
    results = saved["results"]
    assert set(results) == {"all", "label_smoothing"}
    assert all(0.0 < results[name]["test_accuracy"] <= 1.0 for name in results)
    # the planner searches label smoothing; that row ran without it
    assert yaml.safe_load(saved["plan_yaml"])["training"]["label_smoothing"] == [0.0, 0.1]
    assert results["label_smoothing"]["change"] == "training.label_smoothing: [0.0, 0.1] -> 0.0"
    difference = 100 * (results["label_smoothing"]["test_accuracy"] - results["all"]["test_accuracy"])
    assert f"| {difference:+.2f} |" in (tmp_path / "ablation_digits_10s.md").read_text()
    # a later part ablates the same plan and keeps the earlier rows
    run_benchmark("ablation.py", *smoke, "--only", "cosine_schedule", out=tmp_path)
    merged = json.loads((tmp_path / "ablation_digits_10s.json").read_text())
    assert merged["plan_yaml"] == saved["plan_yaml"]
    assert merged["results"]["all"] == results["all"] and set(merged["results"]) == {
        *results,
        "cosine_schedule",
    }
    assert merged["results"]["cosine_schedule"]["change"] == "training.lr_schedule: 'cosine' -> 'constant'"


def test_planned_space_render_without_results_says_what_to_run(tmp_path):
    result = run_benchmark("planned_space.py", "--render", out=tmp_path, returncode=1)
    assert "no results with --scale 1.0" in result.stderr and "run the contenders first" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_inputs(tmp_path):
    run_benchmark("bad_inputs.py", "--spaces", "24", "--datasets", "8", out=tmp_path)
    cases = json.loads((tmp_path / "bad_inputs.json").read_text())["cases"]
    assert len(cases) == 32 and {case["outcome"] for case in cases} <= {"loaded", "refused clearly"}
    table = (tmp_path / "bad_inputs.md").read_text()
    assert "| **all** | **32** |" in table and "| wrong type | 2 |" in table


def test_faults_in_the_retrain_and_of_an_export_lose_nothing(tmp_path):
    run_benchmark("faults.py", "--kills", "1", "--trials", "3", "--only", "retrain", "export", out=tmp_path)
    scenarios = {
        entry["key"]: entry for entry in json.loads((tmp_path / "faults.json").read_text())["scenarios"]
    }
    assert set(scenarios) == {"retrain", "export"}
    for entry in scenarios.values():
        assert (entry["tried"], entry["kept"], entry["problems"]) == (1, 1, [])
    assert scenarios["retrain"]["kills"] == 1  # killed while it retrained (or wrote the report right after)
    assert "kill -9 during the final retrain" in (tmp_path / "faults.md").read_text()


def test_test_time_augmentation_scores_one_network_with_each_set_of_views(tmp_path):
    run_benchmark("test_time_augmentation.py", "--dataset", "digits", "--epochs", "4", out=tmp_path)
    results = json.loads((tmp_path / "test_time_augmentation.json").read_text())
    (run,) = results["runs"]
    for split, images in (
        ("validation", results["images"]["validation"]),
        ("test", results["images"]["test"]),
    ):
        scores = run["scores"][split]
        assert set(scores) == {"plain", "flip", "shifts", "flip and shifts"}
        # each score is a count of right images over the split's images
        assert all(abs(score * images - round(score * images)) < 1e-6 for score in scores.values())
        assert scores["plain"] > 0.5  # four epochs on digits learn well past chance (0.1); two did not always
    assert "| mean gain | test |" in (tmp_path / "test_time_augmentation.md").read_text()
