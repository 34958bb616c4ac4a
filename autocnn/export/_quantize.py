"""Post-training int8 quantization for TFLite, and how much it changes the model's answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["QuantizationReport", "int8_converter_options", "quantization_report"]


@dataclass(frozen=True)
class QuantizationReport:
    """How an int8 model's answers compare with the float model's on the verification sample.

    Attributes:
        scheme: ``"int8"``: int8 weights and activations, float32 input and output.
        samples: Images compared.
        calibration_samples: Training images the converter calibrated the activation ranges on.
        top1_agreement: Share of images where both models give the same top class.
        float_accuracy: The float model's accuracy on the sample's labels (None without labels).
        quantized_accuracy: The int8 model's accuracy on the same labels (None without labels).
        accuracy_drop: ``float_accuracy - quantized_accuracy`` (negative: int8 did better).
        min_agreement: The agreement below which the export was refused.

    """

    scheme: str
    samples: int
    calibration_samples: int
    top1_agreement: float
    float_accuracy: float | None
    quantized_accuracy: float | None
    accuracy_drop: float | None
    min_agreement: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def int8_converter_options(calibration: np.ndarray) -> dict[str, Any]:
    """Return TFLite converter settings for full int8 quantization calibrated on ``calibration``.

    Inputs and outputs stay float32, so the exported model takes the same preprocessed images.
    """
    import tensorflow as tf

    images = np.ascontiguousarray(calibration, dtype=np.float32)

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for index in range(len(images)):
            yield [images[index : index + 1]]

    generator: Callable[[], Iterator[list[np.ndarray]]] = representative_dataset
    return {
        "optimizations": [tf.lite.Optimize.DEFAULT],
        "representative_dataset": generator,
        "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        "inference_input_type": tf.float32,
        "inference_output_type": tf.float32,
    }


def quantization_report(
    reference: np.ndarray,
    quantized: np.ndarray,
    *,
    labels: np.ndarray | None,
    calibration_samples: int,
    min_agreement: float,
) -> QuantizationReport:
    """Compare the float model's outputs ``reference`` with the int8 model's ``quantized``."""
    float_top = reference.argmax(axis=1)
    quantized_top = quantized.argmax(axis=1)
    agreement = float(np.mean(float_top == quantized_top))
    float_accuracy = quantized_accuracy = drop = None
    if labels is not None:
        truth = np.asarray(labels).reshape(-1)
        float_accuracy = float(np.mean(float_top == truth))
        quantized_accuracy = float(np.mean(quantized_top == truth))
        drop = float_accuracy - quantized_accuracy
    return QuantizationReport(
        scheme="int8",
        samples=len(reference),
        calibration_samples=calibration_samples,
        top1_agreement=agreement,
        float_accuracy=float_accuracy,
        quantized_accuracy=quantized_accuracy,
        accuracy_drop=drop,
        min_agreement=min_agreement,
    )
