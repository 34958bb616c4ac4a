"""One small trained model and its exports, shared by the export tests (conversions are slowish)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="session")
def digits() -> Any:
    from autocnn.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def trained_model(digits: Any) -> Any:
    """A small CNN trained 3 epochs on the 8x8 digits (about 90% test accuracy, in about a second)."""
    from autocnn.config import TrialConfig
    from autocnn.training import fit_config

    config = TrialConfig.from_dict(
        {"model": {"blocks": [{"filters": 8}]}, "training": {"epochs": 3, "learning_rate": 0.01}}
    )
    return fit_config(config, digits, seed=0).model


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory, trained_model: Any, digits: Any) -> dict[str, Any]:
    """Every format (and int8 TFLite) exported once into one folder, with class names in the card."""
    from autocnn.export import export_model

    folder = tmp_path_factory.mktemp("dist")
    targets = {
        "keras": ("keras", "none", folder / "model.keras"),
        "savedmodel": ("savedmodel", "none", folder / "saved_model"),
        "tflite": ("tflite", "none", folder / "model.tflite"),
        "int8": ("tflite", "int8", folder / "model_int8.tflite"),
        "onnx": ("onnx", "none", folder / "model.onnx"),
    }
    results = {}
    for key, (format, quantize, out) in targets.items():
        results[key] = export_model(
            trained_model,
            format=format,
            out=out,
            sample=digits.x_test,
            labels=digits.y_test,
            quantize=quantize,
            calibration=digits.x_train[:200] if quantize == "int8" else None,
            card={"class_names": CLASS_NAMES, "metrics": {"test_accuracy": 0.9}, "owner": "tests"},
        )
    return {"folder": folder, **results}


def reference_outputs(model: Any, images: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(images, verbose=0))
