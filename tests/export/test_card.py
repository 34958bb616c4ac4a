"""The model card next to every export: what it says, how several exports share it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autocnn.errors import ConfigError
from autocnn.export import CARD_JSON, class_names_for, export_model, read_model_card
from tests.export.conftest import CLASS_NAMES


def test_card_describes_input_preprocessing_classes_and_versions(exported: dict[str, Any]) -> None:
    folder: Path = exported["folder"]
    card = json.loads((folder / CARD_JSON).read_text())
    assert card["model"]["input_shape"] == [8, 8, 1]
    assert card["model"]["num_classes"] == 10
    assert card["preprocessing"]["dtype"] == "float32" and card["preprocessing"]["layout"] == "NHWC"
    assert card["preprocessing"]["color"] == "grayscale"
    assert "[0, 1]" in card["preprocessing"]["description"]
    assert card["class_names"] == CLASS_NAMES
    assert card["metrics"] == {"test_accuracy": 0.9}
    assert card["extra"] == {"owner": "tests"}
    for package in ("tensorflow", "keras", "python", "onnxruntime", "ai-edge-litert"):
        assert card["versions"][package] not in ("", "not installed")


def test_one_card_lists_every_export_of_the_same_model(exported: dict[str, Any]) -> None:
    folder: Path = exported["folder"]
    card = json.loads((folder / CARD_JSON).read_text())
    files = {entry["file"]: entry for entry in card["exports"]}
    assert set(files) == {"model.keras", "saved_model", "model.tflite", "model_int8.tflite", "model.onnx"}
    assert files["model_int8.tflite"]["quantization"]["accuracy_drop"] is not None
    assert all(entry["verified"] for entry in files.values())
    markdown = (folder / "MODEL.md").read_text()
    for text in (
        "## Input and preprocessing",
        "(batch, 8, 8, 1)",
        "| 3 | three |",
        "test_accuracy",
        "onnxruntime",
    ):
        assert text in markdown
    assert "top-1 agreement" in markdown


def test_card_of_another_model_is_replaced_with_a_note(
    tmp_path: Path, trained_model: Any, digits: Any
) -> None:
    from autocnn import TrialConfig, build_model

    other = build_model(TrialConfig(), input_shape=(8, 8, 1), num_classes=10)
    export_model(other, format="keras", out=tmp_path / "other.keras", sample=digits.x_test[:5])
    result = export_model(
        trained_model, format="keras", out=tmp_path / "model.keras", sample=digits.x_test[:5]
    )
    assert any("described another model" in note for note in result.notes)
    card = json.loads((tmp_path / CARD_JSON).read_text())
    assert [entry["file"] for entry in card["exports"]] == ["model.keras"]


def test_class_names_come_from_the_card_only_for_the_model_it_describes(
    exported: dict[str, Any], trained_model: Any
) -> None:
    from autocnn import TrialConfig, build_model

    path = exported["keras"].path
    assert class_names_for(path, model=trained_model) == tuple(CLASS_NAMES)
    stranger = build_model(TrialConfig(), input_shape=(8, 8, 1), num_classes=10)
    assert class_names_for(path, model=stranger) is None
    assert read_model_card(path) is not None
    assert read_model_card(path.with_name("renamed.keras")) is None


def test_class_names_must_fit_the_model(tmp_path: Path, trained_model: Any, digits: Any) -> None:
    with pytest.raises(ConfigError, match=r"must name 10 classes.*got 3"):
        export_model(
            trained_model,
            format="keras",
            out=tmp_path / "m.keras",
            sample=digits.x_test[:5],
            card={"class_names": ["a", "b", "c"]},
        )
    assert list(tmp_path.iterdir()) == []
