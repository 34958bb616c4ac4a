"""Every script in examples/ runs as a user would run it, and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.py"))


def run_example(name: str, tmp_path) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), "--trials", "2", "--workdir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_every_example_is_tested():
    assert {path.name for path in EXAMPLES} == {
        "digits_end_to_end.py",
        "custom_numpy_dataset.py",
        "space_in_python.py",
    }


def test_digits_end_to_end(tmp_path):
    stdout = run_example("digits_end_to_end.py", tmp_path)
    assert "test accuracy of the retrained best model: 0." in stdout
    assert (tmp_path / "runs" / "example_report" / "index.html").is_file()
    assert (tmp_path / "runs" / "example_export" / "model.tflite").is_file()
    assert "max abs diff" in stdout


def test_custom_numpy_dataset(tmp_path):
    stdout = run_example("custom_numpy_dataset.py", tmp_path)
    assert "shapes: train 1439, validation 160, test 401" in stdout  # stratified 20% test, 10% validation
    accuracy = float(stdout.rsplit("test accuracy", 1)[1].split()[0])
    assert accuracy > 0.5  # three easy shapes: far above chance (0.33)


@pytest.mark.parametrize("name", ["space_in_python.py"])
def test_space_in_python(tmp_path, name):
    stdout = run_example(name, tmp_path)
    assert "block2.filters           [32, 64]" in stdout
    lines = [line for line in stdout.splitlines() if line[:1].isdigit()]
    assert len(lines) == 2 and all(" complete " in line for line in lines)
