"""Export a Keras model, verify the export with its own runtime, and write its model card."""

from __future__ import annotations

import math
import numbers
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn._files import remove_leftovers, temporary_beside
from autocnn.errors import ConfigError, ExportError
from autocnn.export._card import build_card, card_class_names, format_bytes, write_card
from autocnn.export._formats import (
    EXPORT_FORMATS,
    QUANTIZE_MODES,
    ExportFormat,
    Quantize,
    check_requirements,
    computes_in_half_precision,
    extra_versions,
    float32_copy,
    resolve_output,
    write_export,
)
from autocnn.export._quantize import QuantizationReport, int8_converter_options, quantization_report
from autocnn.export._verify import run_export

if TYPE_CHECKING:
    import keras

__all__ = ["HALF_PRECISION_TOLERANCE", "ExportResult", "check_export_options", "export_model"]

#: The smallest tolerance used for models that compute in float16 (its precision is about 1e-3).
HALF_PRECISION_TOLERANCE = 5e-3


@dataclass(frozen=True)
class ExportResult:
    """A verified export: where it is, how closely it reproduces the Keras model, its model card.

    Attributes:
        path: The exported file (``.keras``, ``.tflite``, ``.onnx``) or SavedModel folder.
        format: ``"keras"``, ``"savedmodel"``, ``"tflite"`` or ``"onnx"``.
        quantize: ``"none"`` or ``"int8"``.
        max_abs_diff: Largest absolute difference between the export's outputs and the Keras
            model's on the sample (class probabilities).
        tolerance: The largest difference accepted (float exports; int8 is judged by agreement).
        verified: True: the export was loaded back with its own runtime and matched.
        runtime: What ran the export for the check, with its version.
        samples: Images compared.
        size_bytes: Size of the file or folder.
        seconds: Time the export and its check took.
        card_path: ``MODEL.md`` next to the export.
        card_json_path: ``model_card.json`` next to the export.
        quantization: For int8: top-1 agreement, float and int8 accuracy and the drop.
        notes: Things worth telling the user (e.g. that a trial was retrained to export it).

    """

    path: Path
    format: ExportFormat
    quantize: Quantize
    max_abs_diff: float
    tolerance: float
    verified: bool
    runtime: str
    samples: int
    size_bytes: int
    seconds: float
    card_path: Path
    card_json_path: Path
    quantization: QuantizationReport | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "path": str(self.path),
            "format": self.format,
            "quantize": self.quantize,
            "max_abs_diff": self.max_abs_diff,
            "tolerance": self.tolerance,
            "verified": self.verified,
            "runtime": self.runtime,
            "samples": self.samples,
            "size_bytes": self.size_bytes,
            "seconds": self.seconds,
            "card_path": str(self.card_path),
            "card_json_path": str(self.card_json_path),
            "quantization": None if self.quantization is None else self.quantization.to_dict(),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """Return a few lines for people: file, check, int8 accuracy, model card, notes."""
        kind = self.format if self.quantize == "none" else f"{self.format}, {self.quantize}"
        lines = [f"exported {self.path} ({kind}, {format_bytes(self.size_bytes)}) in {self.seconds:.1f} s"]
        check = f"verified with {self.runtime} on {self.samples} images: max abs diff {self.max_abs_diff:.2e}"
        if self.quantization is None:
            check += f" (tolerance {self.tolerance:.0e})"
        lines.append(f"  {check}")
        report = self.quantization
        if report is not None:
            text = f"  int8: top-1 agreement {report.top1_agreement:.1%} with the float model"
            if report.accuracy_drop is not None:
                assert report.float_accuracy is not None and report.quantized_accuracy is not None
                text += (
                    f"; accuracy {report.float_accuracy:.2%} -> {report.quantized_accuracy:.2%} "
                    f"(drop {report.accuracy_drop * 100:+.2f} points)"
                )
            lines.append(text)
        lines.append(f"  model card: {self.card_path} and {self.card_json_path.name}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def export_model(
    model: keras.Model,
    *,
    format: ExportFormat,
    out: Path,
    sample: np.ndarray,
    quantize: Quantize = "none",
    calibration: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    card: Mapping[str, Any] | None = None,
    tolerance: float = 1e-4,
    min_agreement: float = 0.9,
) -> ExportResult:
    """Export ``model`` to ``out`` in ``format``, verify it, and write its model card beside it.

    The export is written to a hidden file first, loaded back with its own runtime (Keras in safe
    mode, ``tf.saved_model.load``, the LiteRT interpreter, onnxruntime) and run on ``sample``; it is
    moved to ``out`` only if its outputs match the Keras model's within ``tolerance``. With
    ``quantize="int8"`` (TFLite only; ``calibration`` training images set the activation ranges)
    the check is top-1 agreement of at least ``min_agreement``, and the accuracy drop on
    ``labels`` (the sample's labels) is reported. ``MODEL.md`` and ``model_card.json`` are written
    in ``out``'s folder from ``card`` (keys ``class_names``, ``config``, ``architecture``,
    ``metrics``, ``dataset``, ``study``, ``training``, ``source``; others are kept under
    ``extra``) and what the model says about itself.

    Raises:
        ConfigError: an invalid option, path or array shape.
        MissingExtraError: ONNX export without ``pip install 'autocnn[onnx]'``.
        ExportError: the converter failed, or the export does not reproduce the model.

    Example:
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from autocnn import TrialConfig, build_model
        >>> from autocnn.export import export_model
        >>> model = build_model(TrialConfig(), input_shape=(8, 8, 1), num_classes=10)
        >>> result = export_model(model, format="keras", out=Path("dist/model.keras"),
        ...                       sample=np.random.rand(16, 8, 8, 1).astype("float32"))  # doctest: +SKIP
        >>> result.max_abs_diff < 1e-4  # doctest: +SKIP
        True

    """
    started = time.monotonic()
    check_export_options(format=format, quantize=quantize, tolerance=tolerance)
    if (
        isinstance(min_agreement, bool)
        or not isinstance(min_agreement, numbers.Real)
        or not 0 <= min_agreement <= 1
    ):
        raise ConfigError(
            f"The 'min_agreement' parameter must be a float in [0, 1]; got {min_agreement!r} instead."
        )
    images = _images("sample", sample, model)
    truth = _labels(labels, count=len(images))
    calibration_images: np.ndarray | None = None
    if quantize == "int8":
        if calibration is None:
            raise ConfigError(
                "The 'calibration' parameter must be an array of training images for quantize='int8'; "
                "got None instead."
            )
        calibration_images = _images("calibration", calibration, model)
    card_class_names(card, num_classes=int(model.output_shape[-1]))
    check_requirements(format)
    target = resolve_output(Path(out), format)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    temporary = temporary_beside(target)
    _remove(temporary)
    from autocnn.training import predict_outputs

    reference = np.asarray(predict_outputs(model, images), dtype=np.float32)
    notes: list[str] = []
    converted = model
    if computes_in_half_precision(model):
        if tolerance < HALF_PRECISION_TOLERANCE:
            tolerance = HALF_PRECISION_TOLERANCE
            notes.append(
                f"the model computes in float16 (mixed precision), so the check allows differences up to "
                f"{HALF_PRECISION_TOLERANCE:g}"
            )
        if format == "tflite":
            converted = float32_copy(model)
            notes.append(
                "the TFLite file computes in float32 (LiteRT's builtin ops need it); the weights are the same"
            )
    report: QuantizationReport | None = None
    try:
        options = int8_converter_options(calibration_images) if calibration_images is not None else None
        write_export(converted, temporary, format=format, converter_options=options)
        outputs, runtime = run_export(temporary, format=format, images=images)
        if outputs.shape != reference.shape:
            raise ExportError(
                f"the {format!r} export gives outputs of shape {outputs.shape} for {len(images)} images; "
                f"the Keras model gives {reference.shape}"
            )
        difference = np.abs(outputs - reference)
        max_abs_diff = float(difference.max()) if np.isfinite(difference).all() else math.inf
        if calibration_images is not None:
            report = quantization_report(
                reference,
                outputs,
                labels=truth,
                calibration_samples=len(calibration_images),
                min_agreement=float(min_agreement),
            )
            if report.top1_agreement < min_agreement:
                raise ExportError(
                    f"the int8 TFLite model agrees with the Keras model on the top class of only "
                    f"{report.top1_agreement:.1%} of {len(images)} images (at least {min_agreement:.0%} "
                    "needed); quantization hurts this model too much: export it without `quantize`, or "
                    "calibrate on more training images"
                )
        elif max_abs_diff > tolerance:
            raise ExportError(
                f"the {format!r} export does not reproduce the Keras model: its outputs differ by up to "
                f"{max_abs_diff:.3g} on {len(images)} images (tolerance {tolerance:g}; checked with "
                f"{runtime}); nothing was written to {target}"
            )
        _move_into_place(temporary, target)
    finally:
        _remove(temporary)
    export_entry: dict[str, Any] = {
        "file": target.name,
        "format": format,
        "quantize": quantize,
        "size_bytes": _size_of(target),
        "max_abs_diff": max_abs_diff,
        "tolerance": float(tolerance),
        "runtime": runtime,
        "samples": len(images),
        "verified": True,
        "quantization": None if report is None else report.to_dict(),
    }
    card_data = build_card(model, card=card, export=export_entry, versions=extra_versions(format))
    card_path, card_json_path, replaced = write_card(target.parent, card_data)
    if replaced:
        notes.append(f"{card_json_path} described another model; it now describes this one")
    return ExportResult(
        path=target,
        format=format,
        quantize=quantize,
        max_abs_diff=max_abs_diff,
        tolerance=float(tolerance),
        verified=True,
        runtime=runtime,
        samples=len(images),
        size_bytes=export_entry["size_bytes"],
        seconds=time.monotonic() - started,
        card_path=card_path,
        card_json_path=card_json_path,
        quantization=report,
        notes=tuple(notes),
    )


def check_export_options(*, format: object, quantize: object, tolerance: object) -> None:
    """Raise ConfigError for an unknown format or quantization, int8 outside TFLite, or a bad tolerance."""
    _check_choice("format", format, EXPORT_FORMATS)
    _check_choice("quantize", quantize, QUANTIZE_MODES)
    if quantize == "int8" and format != "tflite":
        raise ConfigError(
            f"The 'quantize' parameter 'int8' needs format 'tflite'; got format {format!r} instead."
        )
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, numbers.Real)
        or not 0 < float(tolerance) < math.inf
    ):
        raise ConfigError(f"The 'tolerance' parameter must be a positive float; got {tolerance!r} instead.")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ConfigError(f"The {name!r} parameter must be one of {allowed}; got {value!r} instead.")


def _images(name: str, images: np.ndarray, model: keras.Model) -> np.ndarray:
    """Return ``images`` as float32 NHWC matching the model's input; ConfigError otherwise."""
    expected = tuple(int(size) for size in model.input_shape[1:])
    array = np.asarray(images)
    if array.ndim == 3 and len(expected) == 3 and expected[-1] == 1:
        array = array[..., np.newaxis]
    if array.ndim != 4 or tuple(array.shape[1:]) != expected or len(array) == 0:
        raise ConfigError(
            f"The {name!r} parameter must be a non-empty batch of images of shape (N, {', '.join(map(str, expected))}) "
            f"(the model's input); got shape {array.shape} instead."
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def _labels(labels: np.ndarray | None, *, count: int) -> np.ndarray | None:
    if labels is None:
        return None
    array = np.asarray(labels).reshape(-1)
    if len(array) != count:
        raise ConfigError(
            f"The 'labels' parameter must hold one label per sample image ({count}); got {len(array)} instead."
        )
    return array


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _move_into_place(source: Path, target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target)
    os.replace(source, target)


def _size_of(path: Path) -> int:
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size
