"""Exporting a study's model: the retrained best by default, another trial retrained on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autocnn.errors import ConfigError
from autocnn.export import CARD_JSON, export_study

SPACE = """
name: tiny_export
model:
  blocks:
    count: 1
    filters: [4, 8]
    kernel_size: 3
    pooling: max
  head:
    pooling: flatten
    dense_layers: 0
training:
  optimizer: adam
  learning_rate: [3.0e-3, 1.0e-2]
  batch_size: 128
  epochs: 2
search:
  algorithm: random
  pruner: none
  max_trials: 2
  seed: 3
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from autocnn.core.session import search

    folder = tmp_path_factory.mktemp("study")
    space = folder / "space.yaml"
    space.write_text(SPACE)
    result = search(space, dataset="digits", study="export_test", workdir=folder / "runs", max_trials=2)
    assert result.final is not None
    return result


def test_default_exports_the_retrained_best_with_its_study_card(study: Any, tmp_path: Path) -> None:
    messages: list[str] = []
    result = export_study(study, format="keras", out=tmp_path / "best.keras", log=messages.append)
    final = study.final
    card = json.loads((tmp_path / CARD_JSON).read_text())
    assert card["study"]["name"] == "export_test" and card["study"]["trial"] == final.trial_number
    assert card["metrics"]["test_accuracy"] == pytest.approx(final.test_accuracy)
    assert card["config"] == final.config.to_dict()
    assert card["dataset"]["fingerprint"] == study.info.dataset.fingerprint
    assert card["dataset"]["split_seed"] == 3
    assert card["class_names"] == [str(i) for i in range(10)]
    assert "retrained on train + validation by the search" in card["source"]
    assert (
        (tmp_path / "MODEL.md")
        .read_text()
        .startswith(f"# Model card: study export_test, trial {final.trial_number}")
    )
    assert result.samples == 359 and result.max_abs_diff < 1e-4
    assert not any("retrain" in message for message in messages)
    assert result.notes == ()


def test_another_trial_is_retrained_and_says_so(study: Any, tmp_path: Path) -> None:
    other = next(r.number for r in study.ranked() if r.number != study.final.trial_number)
    messages: list[str] = []
    result = export_study(
        study, format="tflite", out=tmp_path / "other.tflite", trial=other, log=messages.append
    )
    assert any(f"trial {other} has no saved model" in message for message in messages)
    assert any("retrained for this export" in note for note in result.notes)
    card = json.loads((tmp_path / CARD_JSON).read_text())
    assert card["study"]["trial"] == other
    assert card["config"] == study.trials()[other].config.to_dict()
    guard = (
        card["training"]["data"].removeprefix("train + validation less ").removesuffix(" held-back images")
    )
    assert 1 <= int(guard) <= 1000 and card["training"]["seed"] == 3
    assert 0.0 <= card["training"]["held_back_accuracy"] <= 1.0
    assert 0.0 <= card["metrics"]["test_accuracy"] <= 1.0
    assert "trial_val_accuracy" in card["metrics"]


def test_int8_export_of_a_study_reports_the_drop(study: Any, tmp_path: Path) -> None:
    result = export_study(study, format="tflite", quantize="int8", out=tmp_path / "q.tflite")
    assert result.quantization is not None and result.quantization.accuracy_drop is not None
    assert result.quantization.calibration_samples == 256


def test_unknown_trial_is_a_clear_error(study: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no trial 99 \(trials: 0\.\.1\)"):
        export_study(study, format="keras", out=tmp_path / "m.keras", trial=99)


def test_bad_options_fail_before_any_retrain(study: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'int8' needs format 'tflite'"):
        export_study(study, format="onnx", quantize="int8", out=tmp_path / "m.onnx", trial=0)
    with pytest.raises(ConfigError, match=r"must end with '\.tflite'"):
        export_study(study, format="tflite", out=tmp_path / "m.onnx", trial=0)
    assert list(tmp_path.iterdir()) == []
