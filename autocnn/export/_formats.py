"""Write a Keras model in one export format, and check that the format's packages are installed."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from autocnn.errors import ConfigError, ExportError, MissingExtraError

if TYPE_CHECKING:
    import keras

__all__ = [
    "EXPORT_FORMATS",
    "ONNX_INSTALL",
    "QUANTIZE_MODES",
    "ExportFormat",
    "Quantize",
    "check_requirements",
    "computes_in_half_precision",
    "extra_versions",
    "float32_copy",
    "quiet_native_output",
    "require_module",
    "resolve_output",
    "write_export",
]

ExportFormat: TypeAlias = Literal["keras", "savedmodel", "tflite", "onnx"]
Quantize: TypeAlias = Literal["none", "int8"]

EXPORT_FORMATS: tuple[ExportFormat, ...] = ("keras", "savedmodel", "tflite", "onnx")
QUANTIZE_MODES: tuple[Quantize, ...] = ("none", "int8")
ONNX_INSTALL = "pip install 'autocnn[onnx]'"

#: The file suffix each single-file format needs; a SavedModel is a folder.
SUFFIXES: dict[str, str] = {"keras": ".keras", "tflite": ".tflite", "onnx": ".onnx"}

#: Modules each format needs beyond TensorFlow and Keras: (module, pip package).
_REQUIREMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "onnx": (("tf2onnx", "tf2onnx"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime")),
}

#: Packages whose versions a model card records for each format.
_FORMAT_PACKAGES: dict[str, tuple[str, ...]] = {
    "tflite": ("ai-edge-litert",),
    "onnx": ("onnx", "tf2onnx", "onnxruntime"),
}


def require_module(module: str, *, package: str, install: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise MissingExtraError naming the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{purpose} needs the Python package {package!r}, which is not installed "
            f"({error}); install it with: {install}"
        ) from None


def check_requirements(format: ExportFormat) -> None:
    """Raise MissingExtraError if a package that ``format`` needs is missing (before any work)."""
    for module, package in _REQUIREMENTS.get(format, ()):
        require_module(module, package=package, install=ONNX_INSTALL, purpose=f"the {format!r} export")


def extra_versions(format: ExportFormat) -> dict[str, str]:
    """Return the installed versions of the packages ``format`` relies on beyond the core ones."""
    versions: dict[str, str] = {}
    for package in _FORMAT_PACKAGES.get(format, ()):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def resolve_output(out: Path, format: ExportFormat) -> Path:
    """Return where ``format`` is written for ``out``; ConfigError for an unusable path.

    A single-file format needs its suffix (``.keras``, ``.tflite``, ``.onnx``); a folder, or a new
    path without a suffix, gets ``model<suffix>`` inside it. A SavedModel is a folder: ``out``
    must not be a file, and an existing folder must be empty or hold a SavedModel (replaced).
    """
    out = Path(out)
    suffix = SUFFIXES.get(format)
    if suffix is None:
        if out.exists() and not out.is_dir():
            raise ConfigError(
                f"The 'out' parameter must be a folder for format 'savedmodel'; got the file {out} instead."
            )
        if out.is_dir() and any(out.iterdir()) and not (out / "saved_model.pb").exists():
            raise ConfigError(
                f"The 'out' parameter must be a new or empty folder, or a SavedModel to replace, for "
                f"format 'savedmodel'; got {out}, which holds other files, instead."
            )
        return out
    if out.is_dir() or (not out.suffix and not out.exists()):
        return out / f"model{suffix}"
    if out.suffix.lower() != suffix:
        raise ConfigError(
            f"The 'out' parameter must end with {suffix!r} for format {format!r} (or be a folder); got "
            f"{str(out)!r} instead."
        )
    return out


def computes_in_half_precision(model: keras.Model) -> bool:
    """Return whether any layer computes in float16 or bfloat16 (a mixed-precision model)."""
    return any(
        str(getattr(layer, "compute_dtype", "float32")) in ("float16", "bfloat16") for layer in model.layers
    )


def float32_copy(model: keras.Model) -> keras.Model:
    """Return a copy of ``model`` that computes in float32, with the same weights.

    Mixed-precision layers keep float32 weights and compute in float16; TFLite's builtin ops
    need float32 compute (float16 ones would need the Flex delegate, which LiteRT lacks).
    """
    import keras

    def as_float32(layer: Any) -> Any:
        return type(layer).from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=as_float32)
    copy.set_weights(model.get_weights())
    return copy


def write_export(
    model: keras.Model, path: Path, *, format: ExportFormat, converter_options: dict[str, Any] | None = None
) -> None:
    """Write ``model`` to ``path`` in ``format``; ExportError if the converter fails.

    ``converter_options`` are TFLite converter attributes (e.g. for int8 quantization).
    """
    try:
        with warnings.catch_warnings(), quiet_native_output():
            warnings.simplefilter("ignore")
            if format == "keras":
                model.save(path)
            elif format == "savedmodel":
                model.export(str(path), format="tf_saved_model", verbose=False)
            elif format == "tflite":
                model.export(str(path), format="litert", verbose=False, **(converter_options or {}))
            else:
                from autocnn.export._onnx import register_tf2onnx_fixes

                register_tf2onnx_fixes()
                model.export(str(path), format="onnx", verbose=False)
    except MissingExtraError:
        raise
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExportError(
            f"converting the model to {format!r} failed: {type(error).__name__}: {first[:500]}"
        ) from error


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Silence file descriptor 2 (TensorFlow's C++ converter logs) and tf2onnx's logger.

    Errors still arrive as Python exceptions. Set ``AUTOCNN_TF_LOGS=1`` to see the logs.
    """
    import logging

    if os.environ.get("AUTOCNN_TF_LOGS") == "1":
        yield
        return
    loggers = [logging.getLogger(name) for name in ("tf2onnx", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
