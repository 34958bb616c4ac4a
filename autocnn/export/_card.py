"""The model card written next to every export: ``MODEL.md`` for people, ``model_card.json`` for tools."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autocnn._files import write_text_atomically
from autocnn._system import package_versions
from autocnn._version import __version__
from autocnn.errors import ConfigError

if TYPE_CHECKING:
    import keras

__all__ = [
    "CARD_JSON",
    "CARD_MARKDOWN",
    "CARD_SCHEMA",
    "build_card",
    "card_class_names",
    "class_names_for",
    "format_bytes",
    "model_facts",
    "read_model_card",
    "render_markdown",
    "weights_digest",
    "write_card",
]

CARD_JSON = "model_card.json"
CARD_MARKDOWN = "MODEL.md"
CARD_SCHEMA = "autocnn-model-card/1"

#: Keys of the caller's ``card`` dict that have their own place in the card; others go under "extra".
KNOWN_KEYS = (
    "title",
    "class_names",
    "config",
    "architecture",
    "metrics",
    "dataset",
    "study",
    "source",
    "training",
)

PREPROCESSING_TEXT = (
    "Images are float32 arrays in NHWC layout (batch, height, width, channels) with pixel values "
    "scaled to [0, 1] (8-bit pixels divided by 255). Grayscale images get a channel axis "
    "(height, width) -> (height, width, 1); the model takes {color} images of exactly "
    "{height}x{width} pixels (height x width). Nothing else is applied: no mean/std normalization, "
    "no resizing inside the model."
)


def weights_digest(model: keras.Model) -> str:
    """Return a sha256 hex digest of the model's weights (identifies a trained model)."""
    import numpy as np

    digest = hashlib.sha256()
    for weights in model.get_weights():
        array = np.ascontiguousarray(weights)
        digest.update(f"{array.shape}|{array.dtype.str}|".encode())
        digest.update(array.data)
    return digest.hexdigest()


def model_facts(model: keras.Model) -> dict[str, Any]:
    """Return what the model itself says: input shape, classes, parameters, layers, views, weights digest.

    The layers are the network's; a model that averages views of each image (test-time
    augmentation) says how many in ``views``.
    """
    from autocnn.model import network_of, view_count

    network = network_of(model)
    input_shape = [int(size) for size in model.input_shape[1:]]
    output_shape = model.output_shape
    last = network.layers[-1] if network.layers else None
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    views = view_count(model)
    averaged = f", averaged over {views} views of the image" if views > 1 else ""
    return {
        "name": str(model.name),
        "input_shape": input_shape,
        "num_classes": int(output_shape[-1]),
        "output": f"class probabilities (softmax{averaged})" if activation == "softmax" else "class scores",
        "params": int(model.count_params()),
        "layers": [
            {"name": layer.name, "type": type(layer).__name__, "params": int(layer.count_params())}
            for layer in network.layers
        ],
        "views": views,
        "weights_sha256": weights_digest(model),
    }


def build_card(
    model: keras.Model, *, card: Mapping[str, Any] | None, export: dict[str, Any], versions: dict[str, str]
) -> dict[str, Any]:
    """Return the model card's data: the caller's ``card`` dict plus what the model and export say.

    Raises:
        ConfigError: ``card["class_names"]`` does not name one class per model output.

    """
    given = dict(card or {})
    facts = model_facts(model)
    class_names = card_class_names(given, num_classes=facts["num_classes"])
    height, width, channels = (facts["input_shape"] + [1, 1, 1])[:3]
    color = (
        "grayscale (1 channel)"
        if channels == 1
        else "RGB (3 channels)"
        if channels == 3
        else f"{channels}-channel"
    )
    return {
        "schema": CARD_SCHEMA,
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "autocnn": __version__,
        "title": str(given.get("title") or facts["name"]),
        "source": str(given.get("source") or "a Keras model given to autocnn.export.export_model"),
        "model": {**facts, "architecture": given.get("architecture")},
        "preprocessing": {
            "dtype": "float32",
            "layout": "NHWC",
            "height": height,
            "width": width,
            "channels": channels,
            "color": "grayscale" if channels == 1 else "rgb" if channels == 3 else f"{channels} channels",
            "scale": "pixel / 255, in [0, 1]",
            "description": PREPROCESSING_TEXT.format(color=color, height=height, width=width),
        },
        "class_names": class_names,
        "config": given.get("config"),
        "metrics": dict(given.get("metrics") or {}),
        "dataset": given.get("dataset"),
        "study": given.get("study"),
        "training": given.get("training"),
        "versions": {**package_versions(), **versions},
        "exports": [export],
        "extra": {key: value for key, value in given.items() if key not in KNOWN_KEYS},
    }


def card_class_names(card: Mapping[str, Any] | None, *, num_classes: int) -> list[str]:
    """Return the card's class names (default: the indices); ConfigError unless one per class."""
    names = [str(name) for name in (card or {}).get("class_names") or range(num_classes)]
    if len(names) != num_classes:
        raise ConfigError(
            f"The 'card[\"class_names\"]' entry must name {num_classes} classes (one per model output); "
            f"got {len(names)} names instead."
        )
    return names


def write_card(directory: Path, data: dict[str, Any]) -> tuple[Path, Path, bool]:
    """Write ``MODEL.md`` and ``model_card.json`` in ``directory``; return their paths and a flag.

    A card already there for the same weights keeps its other exports (one card lists e.g. the
    ``.keras`` file and the ``.tflite`` file); a card of another model is replaced, and the flag
    says so.
    """
    json_path, markdown_path = directory / CARD_JSON, directory / CARD_MARKDOWN
    existing = _read_json(json_path)
    replaced = False
    if existing is not None:
        same_model = existing.get("model", {}).get("weights_sha256") == data["model"]["weights_sha256"]
        if same_model:
            files = {entry.get("file") for entry in data["exports"]}
            kept = [entry for entry in existing.get("exports", []) if entry.get("file") not in files]
            data = {
                **data,
                "exports": [*kept, *data["exports"]],
                "versions": {**existing.get("versions", {}), **data["versions"]},
            }
        else:
            replaced = True
    directory.mkdir(parents=True, exist_ok=True)
    write_text_atomically(json_path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    write_text_atomically(markdown_path, render_markdown(data))
    return markdown_path, json_path, replaced


def read_model_card(path: Path, *, model: keras.Model | None = None) -> dict[str, Any] | None:
    """Return the model card next to the model file or SavedModel folder ``path``, if it describes it.

    With ``model``, the card must carry that model's weights digest; without, it must list
    ``path``'s file name among its exports. Otherwise (or with no readable card) return None.
    """
    path = Path(path)
    data = _read_json(path.parent / CARD_JSON)
    if data is None:
        return None
    if model is not None:
        return data if data.get("model", {}).get("weights_sha256") == weights_digest(model) else None
    files = {entry.get("file") for entry in data.get("exports", [])}
    return data if path.name in files else None


def class_names_for(path: Path, *, model: keras.Model) -> tuple[str, ...] | None:
    """Return the class names from the model card next to ``path`` if it describes ``model``, else None.

    Example:
        >>> from pathlib import Path
        >>> from autocnn.export import class_names_for, load_model_safely
        >>> model = load_model_safely(Path("dist/model.keras"))  # doctest: +SKIP
        >>> class_names_for(Path("dist/model.keras"), model=model)  # doctest: +SKIP
        ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')

    """
    data = read_model_card(path, model=model)
    names = None if data is None else data.get("class_names")
    if not isinstance(names, list) or len(names) != int(model.output_shape[-1]):
        return None
    return tuple(str(name) for name in names)


def render_markdown(data: dict[str, Any]) -> str:
    """Return ``MODEL.md``'s text for a card's data."""
    model, pre = data["model"], data["preprocessing"]
    height, width, channels = pre["height"], pre["width"], pre["channels"]
    lines = [
        f"# Model card: {data.get('title') or model['name']}",
        "",
        f"{_sentence(data['source'])} Written by autocnn {data['autocnn']} on {data['created']}.",
        "",
        "## Input and preprocessing",
        "",
        f"- shape: `(batch, {height}, {width}, {channels})`, dtype float32, NHWC",
        f"- colour: {pre['color']}",
        f"- {pre['description']}",
        "",
        "```python",
        "import numpy as np",
        "from PIL import Image",
        f'image = Image.open("image.png").convert("{"L" if channels == 1 else "RGB"}")'
        f"  # must be {width}x{height} pixels",
        "x = np.asarray(image, dtype=np.float32) / 255.0",
        *(["x = x[..., np.newaxis]  # grayscale: add the channel axis"] if channels == 1 else []),
        "batch = x[np.newaxis]  # (1, height, width, channels)",
        "```",
        "",
        "## Output",
        "",
        f"{model['num_classes']} {model['output']}, in the order of the classes below.",
        "",
        "## Classes",
        "",
        "| index | name |",
        "| ---: | --- |",
        *(f"| {index} | {_cell(name)} |" for index, name in enumerate(data["class_names"])),
        "",
        "## Metrics",
        "",
    ]
    metrics = data.get("metrics") or {}
    if metrics:
        lines += ["| metric | value |", "| --- | ---: |"]
        lines += [f"| {_cell(key)} | {_number(value)} |" for key, value in metrics.items()]
    else:
        lines.append("No metrics were given.")
    lines += ["", "## Model", ""]
    if model.get("architecture"):
        lines.append(f"- architecture: `{model['architecture']}`")
    lines += [
        f"- parameters: {model['params']:,}",
        f"- layers: {', '.join(layer['type'] for layer in model['layers'])}",
        f"- weights sha256: `{model['weights_sha256']}`",
    ]
    if model.get("views", 1) > 1:
        lines.append(
            f"- test-time augmentation: each prediction averages {model['views']} views of the image "
            f"({model['views']} passes of the network)"
        )
    if data.get("config") is not None:
        lines += [
            "",
            "Configuration:",
            "",
            "```json",
            json.dumps(data["config"], indent=2, sort_keys=True),
            "```",
        ]
    lines += ["", "## Data", ""]
    dataset = data.get("dataset")
    if isinstance(dataset, Mapping) and dataset:
        lines += [f"- {_cell(key)}: {_cell(value)}" for key, value in dataset.items()]
    else:
        lines.append("No dataset was given.")
    study = data.get("study")
    if isinstance(study, Mapping) and study:
        lines += ["", "## Study", ""]
        lines += [f"- {_cell(key)}: {_cell(value)}" for key, value in study.items()]
    training = data.get("training")
    if isinstance(training, Mapping) and training:
        lines += ["", "## Training", ""]
        lines += [f"- {_cell(key)}: {_cell(value)}" for key, value in training.items()]
    lines += [
        "",
        "## Exports",
        "",
        "Each file was loaded back with its own runtime and its outputs compared with the Keras model's "
        "on test images before it was reported done.",
        "",
        "| file | format | quantization | size | max abs diff | runtime |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for entry in data["exports"]:
        lines.append(
            f"| `{entry['file']}` | {entry['format']} | {entry['quantize']} | "
            f"{format_bytes(entry.get('size_bytes', 0))} | {_number(entry.get('max_abs_diff'))} | "
            f"{_cell(entry.get('runtime', ''))} |"
        )
    for entry in data["exports"]:
        report = entry.get("quantization")
        if report:
            lines += [
                "",
                f"`{entry['file']}` (int8): top-1 agreement with the float model "
                f"{report['top1_agreement']:.2%} on {report['samples']} images"
                + (
                    f"; accuracy {report['float_accuracy']:.2%} (float) -> {report['quantized_accuracy']:.2%} "
                    f"(int8), a drop of {report['accuracy_drop'] * 100:.2f} points"
                    if report.get("accuracy_drop") is not None
                    else ""
                )
                + f"; calibrated on {report['calibration_samples']} training images. Input and output "
                "stay float32.",
            ]
    lines += ["", "## Load it", "", "```python", *_load_snippets(data["exports"]), "```"]
    lines += ["", "## Versions", "", "| package | version |", "| --- | --- |"]
    lines += [f"| {package} | {version} |" for package, version in sorted(data["versions"].items())]
    extra = data.get("extra") or {}
    if extra:
        lines += ["", "## Other", "", "```json", json.dumps(extra, indent=2, default=str), "```"]
    return "\n".join(lines) + "\n"


def _load_snippets(exports: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for entry in exports:
        file, format = entry["file"], entry["format"]
        if format == "keras":
            code = ["import keras", f'model = keras.models.load_model("{file}", compile=False)']
        elif format == "savedmodel":
            code = [
                "import tensorflow as tf",
                f'serve = tf.saved_model.load("{file}").signatures["serving_default"]',
            ]
        elif format == "tflite":
            code = [
                "from ai_edge_litert.interpreter import Interpreter",
                f'interpreter = Interpreter(model_path="{file}")',
            ]
        else:
            code = [
                "import onnxruntime",
                f'session = onnxruntime.InferenceSession("{file}", providers=["CPUExecutionProvider"])',
            ]
        lines += [*([""] if lines else []), f"# {file} ({format})", *code]
    return lines


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else f"{text}."


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _cell(value)


def format_bytes(size: int) -> str:
    """Return a size in bytes for people, e.g. ``12.3 KB``."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
