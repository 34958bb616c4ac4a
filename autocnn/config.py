"""TrialConfig: the concrete values one trial uses; round-trips through dict and JSON."""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autocnn.errors import ConfigError

__all__ = [
    "Activation",
    "AugmentationConfig",
    "BlockConfig",
    "HeadConfig",
    "ModelConfig",
    "PredictionViews",
    "TrainingConfig",
    "TrialConfig",
    "format_validation_error",
]

Activation: TypeAlias = Literal["relu", "leaky_relu", "elu", "gelu", "swish", "tanh", "sigmoid"]
Padding: TypeAlias = Literal["same", "valid"]
Pooling: TypeAlias = Literal["max", "avg", "none"]
HeadPooling: TypeAlias = Literal["flatten", "global_avg", "global_max"]
Optimizer: TypeAlias = Literal["sgd", "adam", "adamw", "rmsprop"]
LRSchedule: TypeAlias = Literal["constant", "cosine"]
Flip: TypeAlias = Literal["none", "horizontal", "vertical", "horizontal_and_vertical"]
ClassWeight: TypeAlias = Literal["none", "balanced"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class BlockConfig(_Frozen):
    """One convolutional block: ``convs`` conv layers, optional BN, pooling and dropout."""

    filters: int = Field(32, ge=1, le=4096)
    kernel_size: int = Field(3, ge=1, le=7)
    strides: int = Field(1, ge=1, le=4)
    padding: Padding = "same"
    dilation: int = Field(1, ge=1, le=8)
    activation: Activation = "relu"
    batch_norm: bool = False
    convs: int = Field(1, ge=1, le=4)
    pooling: Pooling = "max"
    pool_size: int = Field(2, ge=1, le=8)
    pool_strides: int | None = Field(None, ge=1, le=8)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class HeadConfig(_Frozen):
    """The classifier on top of the blocks: pooling, dense layers and dropout."""

    pooling: HeadPooling = "flatten"
    dense_units: tuple[int, ...] = ()
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class ModelConfig(_Frozen):
    """The network: conv blocks then a head."""

    blocks: tuple[BlockConfig, ...] = Field(default=(BlockConfig(),), min_length=1)
    head: HeadConfig = HeadConfig()


class AugmentationConfig(_Frozen):
    """Random transformations applied to training images only."""

    flip: Flip = "none"
    rotation: float = Field(0.0, ge=0.0, le=0.5)
    translation: float = Field(0.0, ge=0.0, le=0.5)
    zoom: float = Field(0.0, ge=0.0, le=0.5)
    contrast: float = Field(0.0, ge=0.0, le=1.0)
    erasing: float = Field(0.0, ge=0.0, le=1.0)

    @property
    def enabled(self) -> bool:
        """Whether any transformation is on."""
        return self.flip != "none" or any(
            value > 0 for value in (self.rotation, self.translation, self.zoom, self.contrast, self.erasing)
        )


class PredictionViews(_Frozen):
    """Which views of each image a final model averages its predictions over (test-time augmentation)."""

    shift: int = Field(0, ge=0, description="pixels each of the four shifted views moves the image; 0: none")
    flip: Flip = Field("none", description="the mirror image is one more view; none: no mirrored view")

    @property
    def count(self) -> int:
        """Return how many views are averaged, the image itself included."""
        return 1 + (4 if self.shift else 0) + (0 if self.flip == "none" else 1)

    @property
    def description(self) -> str:
        """Return the views in words, e.g. "the image and its 4 shifts by 1 pixel"."""
        from autocnn._format import format_number_of

        parts = []
        if self.shift:
            parts.append(f"its 4 shifts by {format_number_of(self.shift, 'pixel')}")
        if self.flip != "none":
            parts.append("its mirror image" if self.flip != "vertical" else "its upside-down image")
        return "the image and " + " and ".join(parts) if parts else "the image alone"


class TrainingConfig(_Frozen):
    """How the network is trained."""

    optimizer: Optimizer = "adam"
    learning_rate: float = Field(1e-3, gt=0.0, le=10.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    weight_decay: float = Field(1e-4, ge=0.0, le=1.0)
    lr_schedule: LRSchedule = "constant"
    batch_size: int = Field(64, ge=1, le=4096)
    epochs: int = Field(3, ge=1, le=1000)
    l1: float = Field(0.0, ge=0.0, le=1.0)
    l2: float = Field(0.0, ge=0.0, le=1.0)
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    # "balanced": the loss weighs each image by its class so that every class counts the same
    class_weight: ClassWeight = "none"
    augmentation: AugmentationConfig = AugmentationConfig()
    mixed_precision: bool = False
    jit_compile: bool = False


class TrialConfig(_Frozen):
    """Every value one trial uses. Build it with :func:`autocnn.build_model`.

    Example:
        >>> config = TrialConfig.from_dict({"model": {"blocks": [{"filters": 16}]}})
        >>> config.model.blocks[0].filters
        16
        >>> TrialConfig.from_json(config.to_json()) == config
        True

    """

    name: str | None = None
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain nested dicts and lists (JSON-ready)."""
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = None) -> str:
        """Return the configuration as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "config") -> TrialConfig:
        """Validate nested dicts into a TrialConfig; ConfigError names the bad entry."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ConfigError(format_validation_error(error, prefix=where)) from None

    @classmethod
    def from_json(cls, text: str) -> TrialConfig:
        """Parse a JSON string made by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"config: not valid JSON ({error})") from None
        return cls.from_dict(data)

    def flat(self) -> dict[str, bool | int | float | str]:
        """Return readable flat names and values, e.g. ``block1.filters`` or ``training.learning_rate``."""
        out: dict[str, bool | int | float | str] = {"blocks.count": len(self.model.blocks)}
        for index, block in enumerate(self.model.blocks, start=1):
            for key, value in block.model_dump().items():
                out[f"block{index}.{key}"] = "auto" if value is None else value
        head = self.model.head
        out["head.pooling"] = head.pooling
        out["head.dense_layers"] = len(head.dense_units)
        for index, units in enumerate(head.dense_units, start=1):
            out[f"head.dense{index}.units"] = units
        out["head.activation"] = head.activation
        out["head.dropout"] = head.dropout
        for key, value in self.training.model_dump().items():
            if key == "augmentation":
                for aug_key, aug_value in value.items():
                    out[f"training.augmentation.{aug_key}"] = aug_value
            else:
                out[f"training.{key}"] = value
        return out


#: The most problems one validation error lists (a file with thousands of mistakes lists these).
MAX_LISTED_PROBLEMS = 8
#: A quoted value too long to show in full in a message (its first 57 characters are kept).
_LONG_NUMBER = re.compile(r"\d{21,}")
_LONG_QUOTE = re.compile(r"'([^'\n]{57})[^'\n]{4,}'")


def _shortened(text: str, *, limit: int = 60) -> str:
    """Return ``text``, cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_validation_error(error: ValidationError, *, prefix: str) -> str:
    """Turn a pydantic ValidationError into lines ``path: problem`` people can act on."""
    lines = []
    problems = error.errors()
    for item in problems[:MAX_LISTED_PROBLEMS]:
        location = (
            ".".join([prefix, *(str(part) for part in item["loc"])])
            if prefix
            else ".".join(str(part) for part in item["loc"])
        )
        kind = item["type"]
        message = item["msg"]
        if kind == "extra_forbidden":
            message = f"unknown key {item['loc'][-1]!r}; remove it or check its spelling"
            location = location.rsplit(".", 1)[0] if "." in location else location
        elif kind == "missing":
            message = "is required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        elif "input" in item and kind not in ("model_type", "dict_type"):
            message = f"{_shortened(repr(item['input']))}: {message[0].lower()}{message[1:]}"
        shown = _LONG_NUMBER.sub(
            lambda match: f"{match[0][:6]}…({len(match[0])} digits)", _LONG_QUOTE.sub("'\\1…'", message)
        )
        lines.append(f"{location}: {shown}")
    if len(problems) > MAX_LISTED_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_LISTED_PROBLEMS:,} more problems; fix these first")
    return "\n".join(lines)
