"""Load an export back with its own runtime and run it, to compare it with the Keras model."""

from __future__ import annotations

import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from autocnn.errors import ExportError, MissingExtraError
from autocnn.export._formats import ONNX_INSTALL, ExportFormat, quiet_native_output, require_module

__all__ = ["run_export", "tflite_interpreter"]


def run_export(path: Path, *, format: ExportFormat, images: np.ndarray) -> tuple[np.ndarray, str]:
    """Return the outputs of the export at ``path`` on ``images`` and the runtime that ran it.

    Each format is read the way its users will read it: ``keras.models.load_model`` in safe mode,
    the SavedModel's ``serving_default`` signature, the LiteRT interpreter, onnxruntime.

    Raises:
        ExportError: the export cannot be loaded or run by its runtime.
        MissingExtraError: the runtime (onnxruntime) is not installed.

    """
    runners = {"keras": _run_keras, "savedmodel": _run_saved_model, "tflite": _run_tflite, "onnx": _run_onnx}
    try:
        with warnings.catch_warnings(), quiet_native_output():
            warnings.simplefilter("ignore")
            outputs, runtime = runners[format](path, np.ascontiguousarray(images, dtype=np.float32))
    except (ExportError, MissingExtraError):
        raise
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExportError(
            f"the {format!r} export at {path} could not be loaded back and run with its own runtime: "
            f"{type(error).__name__}: {first[:500]}"
        ) from error
    return np.asarray(outputs, dtype=np.float32), runtime


def tflite_interpreter() -> tuple[Any, str]:
    """Return the LiteRT ``Interpreter`` class and its name; ``tf.lite.Interpreter`` when ai-edge-litert is absent."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, f"ai-edge-litert {_version('ai-edge-litert')} (Interpreter)"
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter, f"tensorflow {_version('tensorflow')} (tf.lite.Interpreter)"


def _run_keras(path: Path, images: np.ndarray) -> tuple[Any, str]:
    import keras

    from autocnn.training import predict_outputs

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" not in str(error):
            raise
        raise ExportError(
            f"the saved file {path} can be loaded only with Keras' safe mode off (it holds Python code, "
            "e.g. a Lambda layer); autocnn exports only models that load in safe mode"
        ) from None
    outputs = predict_outputs(model, images)
    return outputs, f"keras {_version('keras')} (keras.models.load_model, safe mode)"


def _run_saved_model(path: Path, images: np.ndarray) -> tuple[Any, str]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    _, inputs = signature.structured_input_signature
    (input_name,) = inputs
    batches = []
    for start in range(0, len(images), 256):
        result = signature(**{input_name: tf.constant(images[start : start + 256])})
        (output,) = result.values()
        batches.append(output.numpy())
    return np.concatenate(
        batches
    ), f"tensorflow {_version('tensorflow')} (tf.saved_model.load, serving_default)"


def _run_tflite(path: Path, images: np.ndarray) -> tuple[Any, str]:
    interpreter_class, runtime = tflite_interpreter()
    interpreter = interpreter_class(model_path=str(path))
    (input_detail,) = interpreter.get_input_details()
    output_detail = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(input_detail["index"], list(images.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_detail["index"], images.astype(input_detail["dtype"]))
    interpreter.invoke()
    return interpreter.get_tensor(output_detail["index"]).copy(), runtime


def _run_onnx(path: Path, images: np.ndarray) -> tuple[Any, str]:
    onnxruntime = require_module(
        "onnxruntime", package="onnxruntime", install=ONNX_INSTALL, purpose="checking the 'onnx' export"
    )
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (input_info,) = session.get_inputs()
    (outputs, *_) = session.run(None, {input_info.name: images})
    return outputs, f"onnxruntime {_version('onnxruntime')}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "(version unknown)"
