"""autocnn as a stranger gets it: a built wheel in a fresh virtual environment, run from an empty folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.packaging

TWO_SEARCHES = """
import json, sys
import autocnn
import autocnn.tracking, autocnn.data, autocnn.export, autocnn.reporting, autocnn.model, autocnn.training
results = []
for round in (1, 2):
    study = autocnn.search("quick", dataset="digits", max_trials=round, retrain=False, workdir="lib_runs")
    results.append([record.status for record in study.trials()])
print(json.dumps({"file": autocnn.__file__, "rounds": results}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel and install it, without dependencies, into a venv that sees the test environment's."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = root.glob("autocnn-*.whl")
    environment = root / "venv"
    venv.create(environment, system_site_packages=True, with_pip=False)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(environment / "bin" / "python"),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return environment / "bin"


def run_in(folder: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")
    }
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=600, env={**env, "COLUMNS": "80"}
    )


def test_the_wheel_holds_the_ready_made_spaces_and_is_the_one_imported(installed: Path, tmp_path: Path):
    result = run_in(tmp_path, [str(installed / "python"), "-c", "import autocnn; print(autocnn.__file__)"])
    assert result.returncode == 0, result.stderr
    assert str(installed.parent) in result.stdout and str(REPO) not in result.stdout
    listed = run_in(tmp_path, [str(installed / "autocnn"), "spaces", "list"])
    assert listed.returncode == 0, listed.stderr
    for name in ("quick", "mnist", "fashion_mnist", "cifar10", "seed_cnns"):
        assert f"│ {name} " in listed.stdout
    assert "Small enough for a demo" in listed.stdout
    shown = run_in(tmp_path, [str(installed / "autocnn"), "spaces", "show", "fashion_mnist"])
    assert shown.returncode == 0, shown.stderr
    assert "search space 'fashion_mnist'" in shown.stdout and "max trials 200" in shown.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def test_a_search_from_an_empty_folder_runs_and_says_only_autocnns_lines(installed: Path, tmp_path: Path):
    result = run_in(
        tmp_path,
        [
            str(installed / "autocnn"),
            "search",
            "--dataset",
            "digits",
            "--max-trials",
            "2",
            "--timeout",
            "45s",
        ],
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "study planned_digits (new)" in output
    assert "planned space: 1 pooling block: 8 px -> 4 px" in output
    assert "final model (trial #" in output
    # Only autocnn's lines: no library log records ("2026/12/02 16:53:34 INFO mlflow...", "WARNING:tensorflow:").
    foreign = [
        line
        for line in output.splitlines()
        if re.match(r"^(\d{4}/\d\d/\d\d |[A-Z]+:\w+:|INFO|WARNING)", line)
    ]
    assert foreign == [], foreign
    assert "Creating initial MLflow database tables" not in output
    runs = tmp_path / "autocnn_runs"
    assert (runs / "planned_digits" / "best_model.keras").exists()
    assert (runs / "reports" / "planned_digits" / "index.html").exists()  # reports live in the work directory
    assert sorted(path.name for path in tmp_path.iterdir()) == ["autocnn_runs"]


def test_the_library_searches_twice_in_one_process(installed: Path, tmp_path: Path):
    result = run_in(tmp_path, [str(installed / "python"), "-c", TWO_SEARCHES])
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert str(installed.parent) in answer["file"]
    assert answer["rounds"] == [["complete"], ["complete", "complete"]]  # the second call continues the study


def test_sdist_and_wheel_are_publishable(tmp_path: Path) -> None:
    """``python -m build`` makes both; ``twine check --strict`` passes; metadata and files are complete."""
    import tarfile
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (sdist,) = tmp_path.glob("autocnn-*.tar.gz")
    (wheel,) = tmp_path.glob("autocnn-*.whl")
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0 and checked.stdout.count("PASSED") == 2, checked.stdout + checked.stderr
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    assert "autocnn/py.typed" in names and "autocnn/space/ready_made/quick.yaml" in names
    assert "Classifier: Typing :: Typed" in metadata and "Keywords: automl" in metadata
    assert "Requires-Dist: optuna" in metadata and "Provides-Extra: onnx" in metadata
    with tarfile.open(sdist) as archive:
        assert any(name.endswith("/CHANGELOG.md") for name in archive.getnames())
