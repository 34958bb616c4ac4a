"""`autocnn search --workers 2` whose retrain diverges: the user is told; every record keeps the trial's model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.search.conftest import TINY_SPACE

# The parent process of a --workers search runs only the final retrain, so every fit there diverges.
DIVERGING_CLI = """
import sys
import autocnn.training as training
real_fit = training.fit_config
def diverging_fit(config, dataset, **kwargs):
    rate = config.training.learning_rate * 3000
    config = config.model_copy(update={"training": config.training.model_copy(update={"learning_rate": rate})})
    return real_fit(config, dataset, **kwargs)
training.fit_config = diverging_fit
from autocnn.cli import main_exit
sys.argv = ["autocnn", *sys.argv[1:]]
main_exit()
"""


def run(args: list[str], *, cwd: Path, script: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = [sys.executable, "-c", script] if script else [sys.executable, "-m", "autocnn"]
    return subprocess.run(
        [*prefix, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_workers_search_whose_retrain_diverges_ships_the_trials_own_model(tmp_path):
    from mlflow import MlflowClient

    from autocnn.core.study import load_study

    space = tmp_path / "tiny.yaml"
    # Whichever configurations the workers draw, their trials learn, so a diverged retrain is clearly worse.
    space.write_text(
        TINY_SPACE.replace("pooling: [flatten, global_avg]", "pooling: flatten").replace(
            "learning_rate: [3e-3, 1e-2, 3e-2]", "learning_rate: [1e-2, 3e-2]"
        )
    )
    workdir = tmp_path / "runs"
    searched = run(
        [
            "search",
            "--space",
            str(space),
            "--dataset",
            "digits",
            "--workers",
            "2",
            "--max-trials",
            "3",
            "--workdir",
            str(workdir),
        ],
        cwd=tmp_path,
        script=DIVERGING_CLI,
    )
    assert searched.returncode == 0, searched.stderr[-3000:]
    lines = searched.stdout.splitlines()
    warning = [line for line in lines if line.startswith("final model: ")]
    assert len(warning) == 1 and "clearly below the trial's own model" in warning[0], lines
    kept_line = next(line for line in lines if line.startswith("final model (trial #"))
    assert "the trial's own model, trained on the training split" in kept_line
    assert any(line.strip().startswith("kept    the trial's own model") for line in lines)

    study = load_study("tiny_digits", workdir=workdir)
    final = study.final
    assert final is not None and final.kept.value == "trial_model"
    assert final.test_accuracy > 0.5

    client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tiny_digits")
    parents = [
        run for run in client.search_runs([experiment.experiment_id]) if run.data.tags.get("kind") == "search"
    ]
    assert len(parents) == 1
    tags = parents[0].data.tags
    assert tags["final.kept"] == "trial_model"
    assert "clearly below" in tags["final.kept_reason"]
    assert parents[0].data.metrics["final.test_accuracy"] == final.test_accuracy

    report = (workdir / "reports" / "tiny_digits" / "report.md").read_text()
    assert "The final retrain did not hold up" in report

    exported = run(
        [
            "export",
            "--study",
            "tiny_digits",
            "--format",
            "keras",
            "--out",
            str(tmp_path / "dist" / "m.keras"),
            "--workdir",
            str(workdir),
        ],
        cwd=tmp_path,
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    card = json.loads((tmp_path / "dist" / "model_card.json").read_text())
    assert "own model, trained on the training split during the search" in card["source"]
    assert card["metrics"]["test_accuracy"] == final.test_accuracy
