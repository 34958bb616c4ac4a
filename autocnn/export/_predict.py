"""Load a saved model without running code from it, and classify image files with it."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn._checks import check_positive_int
from autocnn.errors import ConfigError, DataError

if TYPE_CHECKING:
    import keras

__all__ = ["ClassScore", "ImagePrediction", "load_model_safely", "predict_images", "read_image"]


@dataclass(frozen=True)
class ClassScore:
    """One class and the probability the model gives it."""

    index: int
    name: str
    probability: float


@dataclass(frozen=True)
class ImagePrediction:
    """The most probable classes of one image, best first."""

    path: Path
    top: tuple[ClassScore, ...]

    @property
    def label(self) -> str:
        """The name of the most probable class."""
        return self.top[0].name

    @property
    def probability(self) -> float:
        """The probability of the most probable class."""
        return self.top[0].probability

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "path": str(self.path),
            "top": [{"index": s.index, "name": s.name, "probability": s.probability} for s in self.top],
        }

    def summary(self) -> str:
        """Return one line, e.g. ``digit.png: 7 (98.1%), 1 (1.2%), 9 (0.3%)``."""
        scores = ", ".join(f"{score.name} ({score.probability:.1%})" for score in self.top)
        return f"{self.path}: {scores}"


def load_model_safely(path: Path, *, unsafe: bool = False) -> keras.Model:
    """Load a ``.keras`` model in Keras' safe mode, refusing files that hold Python code.

    A Lambda layer stores Python bytecode that loading would run; such a file is refused
    (ConfigError naming the layers) unless ``unsafe=True``, which you should pass only for files
    from a source you trust.

    Raises:
        ConfigError: no such file, not a ``.keras`` file, unreadable, or holding code (safe mode).

    Example:
        >>> from pathlib import Path
        >>> from autocnn.export import load_model_safely
        >>> model = load_model_safely(Path("autocnn_runs/quick_digits/best_model.keras"))  # doctest: +SKIP
        >>> model.input_shape  # doctest: +SKIP
        (None, 8, 8, 1)

    """
    import keras

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such model file")
    if path.is_dir() or path.suffix.lower() != ".keras":
        raise ConfigError(
            f"{path}: predictions need a Keras model file (.keras, the 'keras' export format); export one "
            "with `autocnn export --format keras --out model.keras`"
        )
    config = _read_config(path)
    lambdas = sorted({name for kind, name in _layers(config) if kind == "Lambda"})
    if lambdas and not unsafe:
        raise ConfigError(
            f"{path}: refusing to load it: it holds Python code (Lambda layer "
            f"{', '.join(repr(name) for name in lambdas)}) that loading would run. If you trust where the "
            "file comes from, turn on `unsafe`"
        )
    try:
        return keras.models.load_model(path, compile=False, safe_mode=not unsafe)
    except ValueError as error:
        if "safe_mode" in str(error):
            raise ConfigError(
                f"{path}: refusing to load it: Keras' safe mode found Python code in it ({_first_line(error)}). "
                "If you trust where the file comes from, turn on `unsafe`"
            ) from None
        raise ConfigError(f"{path}: cannot be loaded as a Keras model: {_first_line(error)}") from None
    except (TypeError, KeyError, OSError) as error:
        raise ConfigError(
            f"{path}: cannot be loaded as a Keras model ({type(error).__name__}: {_first_line(error)}); "
            "a model with custom layers needs their code imported and registered first"
        ) from None


def read_image(path: Path, *, height: int, width: int, channels: int, resize: bool = False) -> np.ndarray:
    """Read an image file as the model's input: float32 ``(height, width, channels)`` in [0, 1].

    Colour is converted the way training data is read: grayscale (``"L"``) for one channel, RGB
    for three (transparency dropped). An image of another size is refused (DataError naming both
    sizes) unless ``resize=True``, which resizes it bilinearly.
    """
    from PIL import Image, UnidentifiedImageError

    if channels not in (1, 3):
        raise ConfigError(
            f"the model takes images with {channels} channels; only 1 (grayscale) or 3 (RGB) can be read "
            "from image files"
        )
    path = Path(path)
    try:
        with Image.open(path) as image:
            converted = image.convert("L" if channels == 1 else "RGB")
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"{path}: cannot be read as an image ({error})") from None
    if converted.size != (width, height):
        if not resize:
            raise DataError(
                f"{path}: the image is {converted.width}x{converted.height} pixels but the model expects "
                f"{width}x{height} (width x height); resize it first, or turn on `resize` to "
                "resize it bilinearly"
            )
        converted = converted.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(converted, dtype=np.float32) / np.float32(255.0)
    return pixels[..., np.newaxis] if channels == 1 else pixels


def predict_images(
    model: keras.Model,
    paths: Sequence[Path],
    *,
    class_names: Sequence[str] | None = None,
    top: int = 3,
    resize: bool = False,
) -> list[ImagePrediction]:
    """Classify PNG/JPEG files with ``model``; return the ``top`` classes of each, best first.

    Images get the training preprocessing (see :func:`read_image`). ``class_names`` default to
    the class indices ("0", "1", ...); :func:`class_names_for` reads them from the model card.

    Raises:
        ConfigError: ``top`` is not a positive int, or ``class_names`` does not fit the model.
        DataError: an image is missing, unreadable or of the wrong size.

    Example:
        >>> from pathlib import Path
        >>> from autocnn.export import class_names_for, load_model_safely, predict_images
        >>> path = Path("dist/model.keras")
        >>> model = load_model_safely(path)  # doctest: +SKIP
        >>> names = class_names_for(path, model=model)  # doctest: +SKIP
        >>> predict_images(model, [Path("digit.png")], class_names=names)[0].label  # doctest: +SKIP
        '7'

    """
    check_positive_int(top, parameter="top")
    input_shape = tuple(model.input_shape[1:])
    if len(input_shape) != 3 or any(size is None for size in input_shape):
        raise ConfigError(
            f"the model's input shape {model.input_shape} is not (batch, height, width, channels) images"
        )
    height, width, channels = (int(size) for size in input_shape)
    num_classes = int(model.output_shape[-1])
    names = [str(index) for index in range(num_classes)] if class_names is None else list(class_names)
    if len(names) != num_classes:
        raise ConfigError(
            f"The 'class_names' parameter must name {num_classes} classes (the model's outputs); "
            f"got {len(names)} instead."
        )
    paths = [Path(path) for path in paths]
    if not paths:
        return []
    batch = np.stack(
        [read_image(path, height=height, width=width, channels=channels, resize=resize) for path in paths]
    )
    from autocnn.training import predict_outputs

    probabilities = np.asarray(predict_outputs(model, batch), dtype=np.float64)
    count = min(int(top), num_classes)
    predictions = []
    for path, row in zip(paths, probabilities, strict=True):
        order = np.argsort(-row, kind="stable")[:count]
        scores = tuple(ClassScore(int(i), names[int(i)], float(row[int(i)])) for i in order)
        predictions.append(ImagePrediction(path=path, top=scores))
    return predictions


def _read_config(path: Path) -> Any:
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ConfigError(
            f"{path}: cannot be read as a .keras model file (a zip archive with config.json): {error}"
        ) from None


def _layers(config: Any) -> Iterator[tuple[str, str]]:
    """Yield ``(class_name, name)`` of every serialized object in a Keras config, nested ones included."""
    if isinstance(config, dict):
        class_name = config.get("class_name")
        if isinstance(class_name, str):
            inner = config.get("config")
            name = inner.get("name") if isinstance(inner, dict) else None
            yield class_name, str(name or class_name)
        for value in config.values():
            yield from _layers(value)
    elif isinstance(config, list):
        for value in config:
            yield from _layers(value)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
