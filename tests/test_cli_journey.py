"""A new user's session with the CLI: each command a real subprocess, run from an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.search.conftest import TINY_SPACE


def autocnn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m autocnn ARGS`` as a user would, in an 80-column pipe."""
    result = subprocess.run(
        [sys.executable, "-m", "autocnn", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert result.returncode == 0, f"autocnn {' '.join(args)}: {result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
    return result


def test_search_register_quiet_export_predict_compare_and_datasets(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    from autocnn.core.study import load_study
    from autocnn.data import load_dataset

    home = tmp_path / "user"
    home.mkdir()
    (home / "tiny.yaml").write_text(TINY_SPACE)
    first = autocnn(
        "search", "--dataset", "digits", "--space", "tiny.yaml", "--study", "first", "--max-trials", "2",
        "--register", "digits-cnn", cwd=home,
    )  # fmt: skip
    study = load_study("first", workdir=home / "autocnn_runs")
    assert f"test accuracy {study.final.test_accuracy:.4f}" in first.stdout
    assert "top trials of study 'first'" in first.stdout and "study first (new) in" in first.stdout
    assert "#0 " in first.stdout  # one line per trial
    client = MlflowClient(tracking_uri=f"sqlite:///{home / 'autocnn_runs' / 'mlflow.db'}")
    versions = client.search_model_versions("name='digits-cnn'")
    assert [int(version.version) for version in versions] == [1]
    registered_from = client.get_run(
        versions[0].run_id
    ).data.tags  # the search run, which holds the final model
    assert registered_from["kind"] == "search" and registered_from["final.kept"] == study.final.kept.value

    quiet = autocnn(
        "search", "--dataset", "digits", "--space", "tiny.yaml", "--study", "second", "--max-trials", "1",
        "--no-retrain", "--no-tracking", "-q", cwd=home,
    )  # fmt: skip
    assert "top trials of study 'second'" in quiet.stdout
    assert "#0 " not in quiet.stdout and "(new) in" not in quiet.stdout and quiet.stderr.strip() == ""

    exported = autocnn("export", "--study", "first", "--format", "keras", "--out", "model.keras", cwd=home)
    assert (home / "model.keras").is_file() and "model.keras" in exported.stdout

    digits = load_dataset("digits")
    pixels = np.round(np.asarray(digits.x_test[:3, ..., 0]) * 255).astype(np.uint8)
    for index, image in enumerate(pixels):
        Image.fromarray(image, mode="L").save(home / f"digit{index}.png")
    predicted = autocnn(
        "predict",
        "--model",
        "model.keras",
        "--json",
        "--top",
        "1",
        *(f"digit{i}.png" for i in range(3)),
        cwd=home,
    )
    import keras

    model = keras.saving.load_model(home / "model.keras")
    expected = np.argmax(model.predict(pixels[..., None].astype("float32") / 255, verbose=0), axis=1)
    assert [row["top"][0]["index"] for row in json.loads(predicted.stdout)] == expected.tolist()

    autocnn("report", "--compare", "first,second", cwd=home)
    compared = (home / "autocnn_runs" / "reports" / "first_vs_second" / "index.html").read_text()
    assert "first" in compared and "second" in compared

    listed = autocnn("datasets", "list", cwd=home)
    assert "digits" in listed.stdout and "fashion_mnist" in listed.stdout
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
