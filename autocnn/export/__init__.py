"""Export a model (.keras, SavedModel, TFLite with optional int8, ONNX), verify it, and predict with it.

Every export is loaded back with its own runtime and compared with the Keras model on test
images before it is reported done, and a model card (``MODEL.md`` and ``model_card.json``) is
written next to it.

Example:
    >>> from pathlib import Path
    >>> from autocnn.core.study import load_study
    >>> from autocnn.export import export_study
    >>> result = export_study(load_study("quick_digits"), format="onnx", out=Path("dist/model.onnx"))  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP

"""

from __future__ import annotations

from autocnn.export._card import CARD_JSON, CARD_MARKDOWN, class_names_for, read_model_card
from autocnn.export._export import ExportResult, export_model
from autocnn.export._formats import EXPORT_FORMATS, ONNX_INSTALL, QUANTIZE_MODES, ExportFormat, Quantize
from autocnn.export._predict import ClassScore, ImagePrediction, load_model_safely, predict_images, read_image
from autocnn.export._quantize import QuantizationReport
from autocnn.export._study import export_study

__all__ = [
    "CARD_JSON",
    "CARD_MARKDOWN",
    "EXPORT_FORMATS",
    "ONNX_INSTALL",
    "QUANTIZE_MODES",
    "ClassScore",
    "ExportFormat",
    "ExportResult",
    "ImagePrediction",
    "QuantizationReport",
    "Quantize",
    "class_names_for",
    "export_model",
    "export_study",
    "load_model_safely",
    "predict_images",
    "read_image",
    "read_model_card",
]
