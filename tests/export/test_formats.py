"""Every format round-trips with matching outputs; bad exports, paths and missing extras are refused."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autocnn.errors import ConfigError, ExportError, MissingExtraError
from autocnn.export import ExportResult, export_model
from tests.export.conftest import reference_outputs


def _run_independently(format: str, path: Path, images: np.ndarray) -> np.ndarray:
    """Load an export with its own runtime, without autocnn's code."""
    if format == "keras":
        import keras

        return np.asarray(keras.models.load_model(path, compile=False).predict(images, verbose=0))
    if format == "savedmodel":
        import tensorflow as tf

        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        return next(iter(serve(tf.constant(images)).values())).numpy()
    if format == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        detail = interpreter.get_input_details()[0]
        interpreter.resize_tensor_input(detail["index"], list(images.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], images)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]


@pytest.mark.parametrize("key", ["keras", "savedmodel", "tflite", "onnx"])
def test_every_format_round_trips_with_matching_outputs(
    key: str, exported: dict[str, Any], trained_model: Any, digits: Any
) -> None:
    result: ExportResult = exported[key]
    assert result.path.exists()
    assert result.verified and result.samples == len(digits.x_test)
    assert 0 <= result.max_abs_diff < 1e-4
    assert result.size_bytes > 1000
    images = digits.x_test[:50]
    outputs = _run_independently(result.format, result.path, images)
    assert np.abs(outputs - reference_outputs(trained_model, images)).max() < 1e-4
    assert not list(result.path.parent.glob(".*tmp*")), "the temporary export was left behind"


def test_summary_names_file_runtime_and_difference(exported: dict[str, Any]) -> None:
    text = exported["onnx"].summary()
    assert str(exported["onnx"].path) in text
    assert "onnxruntime" in text and "max abs diff" in text and "MODEL.md" in text


def test_an_export_that_does_not_reproduce_the_model_is_refused_and_removed(
    tmp_path: Path, trained_model: Any, digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autocnn.export import _export

    real = _export.run_export

    def off_by_a_bit(path: Path, *, format: str, images: np.ndarray) -> tuple[np.ndarray, str]:
        outputs, runtime = real(path, format=format, images=images)
        return outputs + 1e-3, runtime

    monkeypatch.setattr(_export, "run_export", off_by_a_bit)
    out = tmp_path / "model.keras"
    with pytest.raises(ExportError, match=r"differ by up to 0\.001"):
        export_model(trained_model, format="keras", out=out, sample=digits.x_test[:20])
    assert list(tmp_path.iterdir()) == []


def test_tolerance_is_the_limit(
    tmp_path: Path, trained_model: Any, digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autocnn.export import _export

    real = _export.run_export
    monkeypatch.setattr(
        _export,
        "run_export",
        lambda path, *, format, images: (real(path, format=format, images=images)[0] + 1e-3, "fake"),
    )
    result = export_model(
        trained_model, format="keras", out=tmp_path / "m.keras", sample=digits.x_test[:20], tolerance=1e-2
    )
    assert result.max_abs_diff == pytest.approx(1e-3, rel=1e-2)


def test_onnx_without_its_extra_names_the_install_command(
    tmp_path: Path, trained_model: Any, digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # makes `import tf2onnx` fail
    with pytest.raises(MissingExtraError, match=r"pip install 'autocnn\[onnx\]'") as caught:
        export_model(trained_model, format="onnx", out=tmp_path / "model.onnx", sample=digits.x_test[:5])
    assert "tf2onnx" in str(caught.value)
    assert caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_onnxruntime_missing_is_reported_too(
    tmp_path: Path, trained_model: Any, digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"'onnxruntime'.*pip install 'autocnn\[onnx\]'"):
        export_model(trained_model, format="onnx", out=tmp_path / "model.onnx", sample=digits.x_test[:5])


def test_tflite_falls_back_to_tf_lite_interpreter_without_ai_edge_litert(
    tmp_path: Path, trained_model: Any, digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    result = export_model(
        trained_model, format="tflite", out=tmp_path / "m.tflite", sample=digits.x_test[:20]
    )
    assert "tf.lite.Interpreter" in result.runtime
    assert result.max_abs_diff < 1e-4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"format": "pt"},
            r"'format' parameter must be one of 'keras', 'savedmodel', 'tflite', 'onnx'; got 'pt'",
        ),
        ({"format": "keras", "quantize": "int4"}, r"'quantize' parameter must be one of 'none', 'int8'"),
        ({"format": "onnx", "quantize": "int8"}, r"'int8' needs format 'tflite'"),
        (
            {"format": "tflite", "quantize": "int8"},
            r"'calibration' parameter must be an array of training images",
        ),
        ({"format": "keras", "tolerance": 0}, r"'tolerance' parameter must be a positive float"),
        ({"format": "keras", "out": "model.h5"}, r"'out' parameter must end with '\.keras'"),
        ({"format": "tflite", "out": "model.keras"}, r"must end with '\.tflite'"),
    ],
)
def test_invalid_options_are_refused_before_any_work(
    tmp_path: Path, trained_model: Any, digits: Any, options: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"out": "model.keras", "sample": digits.x_test[:5], **options}
    arguments["out"] = tmp_path / arguments["out"]
    with pytest.raises(ConfigError, match=message):
        export_model(trained_model, **arguments)
    assert list(tmp_path.iterdir()) == []


def test_sample_of_the_wrong_shape_names_the_model_input(tmp_path: Path, trained_model: Any) -> None:
    with pytest.raises(ConfigError, match=r"shape \(N, 8, 8, 1\).*got shape \(3, 28, 28, 1\)"):
        export_model(trained_model, format="keras", out=tmp_path / "m.keras", sample=np.zeros((3, 28, 28, 1)))


def test_grayscale_sample_without_channel_axis_is_accepted(
    tmp_path: Path, trained_model: Any, digits: Any
) -> None:
    result = export_model(
        trained_model, format="keras", out=tmp_path / "m.keras", sample=digits.x_test[:10, :, :, 0]
    )
    assert result.samples == 10


def test_out_folder_gets_model_file_and_savedmodel_refuses_a_foreign_folder(
    tmp_path: Path, trained_model: Any, digits: Any
) -> None:
    result = export_model(trained_model, format="keras", out=tmp_path, sample=digits.x_test[:5])
    assert result.path == tmp_path / "model.keras"
    result = export_model(
        trained_model, format="onnx", out=tmp_path / "new" / "dist", sample=digits.x_test[:5]
    )
    assert result.path == tmp_path / "new" / "dist" / "model.onnx" and result.path.is_file()
    with pytest.raises(ConfigError, match="holds other files"):
        export_model(trained_model, format="savedmodel", out=tmp_path, sample=digits.x_test[:5])


def test_savedmodel_export_replaces_an_older_savedmodel(
    tmp_path: Path, trained_model: Any, digits: Any
) -> None:
    out = tmp_path / "sm"
    export_model(trained_model, format="savedmodel", out=out, sample=digits.x_test[:5])
    (out / "stale.txt").write_text("old")
    export_model(trained_model, format="savedmodel", out=out, sample=digits.x_test[:5])
    assert (out / "saved_model.pb").stat().st_size > 0
    assert not (out / "stale.txt").exists()


def test_onnx_export_of_a_gelu_network(tmp_path: Path) -> None:
    """Exact GELU becomes TensorFlow's Erfc, which tf2onnx 1.17 leaves unconverted without autocnn's fix."""
    from autocnn import TrialConfig, build_model

    config = TrialConfig.from_dict(
        {
            "model": {
                "blocks": [{"filters": 4, "activation": "gelu"}],
                "head": {"dense_units": [8], "activation": "gelu"},
            }
        }
    )
    model = build_model(config, input_shape=(8, 8, 1), num_classes=3)
    images = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    result = export_model(model, format="onnx", out=tmp_path / "gelu.onnx", sample=images)
    assert result.max_abs_diff < 1e-4


def test_mixed_precision_model_exports_to_tflite_in_float32(tmp_path: Path) -> None:
    from autocnn import TrialConfig, build_model

    config = TrialConfig.from_dict(
        {"model": {"blocks": [{"filters": 4}]}, "training": {"mixed_precision": True}}
    )
    model = build_model(config, input_shape=(8, 8, 1), num_classes=3)
    images = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    result = export_model(model, format="tflite", out=tmp_path / "mixed.tflite", sample=images)
    assert result.tolerance == 5e-3 and result.max_abs_diff < 5e-3
    assert any("computes in float32" in note for note in result.notes)
    assert any("float16" in note for note in result.notes)
