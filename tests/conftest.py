"""Shared test setup: quiet TensorFlow, paths to the ready-made spaces."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pytest

REPO = Path(__file__).resolve().parents[1]
SPACES = REPO / "autocnn" / "space" / "ready_made"


@pytest.fixture
def spaces_dir() -> Path:
    return SPACES


@pytest.fixture
def write_space(tmp_path: Path):
    def _write(text: str, name: str = "space.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "runs"
