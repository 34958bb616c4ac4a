"""int8 TFLite: really quantized, checked by top-1 agreement, accuracy drop reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autocnn.errors import ExportError
from autocnn.export import export_model


def test_int8_reports_a_sane_accuracy_drop(exported: dict[str, Any], trained_model: Any, digits: Any) -> None:
    result = exported["int8"]
    report = result.quantization
    assert report is not None and result.quantize == "int8"
    float_accuracy = float(
        np.mean(trained_model.predict(digits.x_test, verbose=0).argmax(1) == digits.y_test)
    )
    assert report.float_accuracy == pytest.approx(float_accuracy)
    assert report.float_accuracy > 0.7
    assert report.quantized_accuracy is not None and report.quantized_accuracy > 0.7
    assert report.accuracy_drop == pytest.approx(report.float_accuracy - report.quantized_accuracy)
    assert abs(report.accuracy_drop) < 0.05
    assert 0.9 <= report.top1_agreement <= 1.0
    assert report.samples == len(digits.x_test) and report.calibration_samples == 200
    assert "int8: top-1 agreement" in result.summary() and "drop" in result.summary()


def test_int8_file_holds_int8_tensors_with_float_input_and_output(exported: dict[str, Any]) -> None:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(exported["int8"].path))
    interpreter.allocate_tensors()
    dtypes = {detail["dtype"] for detail in interpreter.get_tensor_details()}
    assert np.int8 in dtypes
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    assert interpreter.get_output_details()[0]["dtype"] == np.float32
    assert exported["int8"].size_bytes < exported["tflite"].size_bytes


def test_int8_without_labels_reports_agreement_only(tmp_path: Path, trained_model: Any, digits: Any) -> None:
    result = export_model(
        trained_model,
        format="tflite",
        quantize="int8",
        out=tmp_path / "q.tflite",
        sample=digits.x_test[:50],
        calibration=digits.x_train[:50],
    )
    assert result.quantization is not None
    assert result.quantization.accuracy_drop is None and result.quantization.float_accuracy is None
    assert result.quantization.top1_agreement > 0.8


def test_int8_refused_below_the_agreement_floor(
    tmp_path: Path, trained_model: Any, digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autocnn.export import _export

    real = _export.run_export

    def shifted(path: Path, *, format: str, images: np.ndarray) -> tuple[np.ndarray, str]:
        outputs, runtime = real(path, format=format, images=images)
        return np.roll(outputs, 1, axis=1), runtime  # every top class moves to the next class

    monkeypatch.setattr(_export, "run_export", shifted)
    with pytest.raises(ExportError, match=r"agrees with the Keras model on the top class of only 0\.0%"):
        export_model(
            trained_model,
            format="tflite",
            quantize="int8",
            out=tmp_path / "q.tflite",
            sample=digits.x_test[:50],
            calibration=digits.x_train[:50],
        )
    assert list(tmp_path.iterdir()) == []
