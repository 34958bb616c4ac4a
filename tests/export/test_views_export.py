"""A final model that averages views of each image exports to every format, and its card says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autocnn.config import PredictionViews
from autocnn.export import CARD_JSON, export_model
from autocnn.model import with_views


@pytest.mark.parametrize(
    ("format", "quantize"),
    [("keras", "none"), ("savedmodel", "none"), ("tflite", "none"), ("tflite", "int8"), ("onnx", "none")],
)
def test_every_format_reproduces_the_averaged_predictions(
    tmp_path: Path, trained_model: Any, digits: Any, format: str, quantize: str
) -> None:
    averaged = with_views(trained_model, PredictionViews(shift=1, flip="horizontal"))
    result = export_model(
        averaged,
        format=format,
        out=tmp_path / "out",
        sample=digits.x_test[:32],
        quantize=quantize,
        calibration=digits.x_train[:64],
        labels=digits.y_test[:32],
    )
    assert result.verified, (result.max_abs_diff, result.notes)
    card = json.loads((result.card_json_path).read_text())
    assert card["model"]["views"] == 6
    assert card["model"]["output"] == "class probabilities (softmax, averaged over 6 views of the image)"
    assert [layer["name"] for layer in card["model"]["layers"]] == [
        layer.name for layer in trained_model.layers
    ]
    assert "each prediction averages 6 views of the image" in result.card_path.read_text()


def test_a_plain_network_card_says_one_view(tmp_path: Path, trained_model: Any, digits: Any) -> None:
    result = export_model(trained_model, format="keras", out=tmp_path / "out", sample=digits.x_test[:8])
    card = json.loads((tmp_path / "out" / CARD_JSON).read_text())
    assert card["model"]["views"] == 1
    assert card["model"]["output"] == "class probabilities (softmax)"
    assert "test-time augmentation" not in result.card_path.read_text()
