"""The typed, frozen SearchSpace and its sections, validated from a space file."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autocnn.config import TrialConfig
from autocnn.space._dimensions import Dimension, Fixed
from autocnn.space._fields import Spec

Algorithm = Literal["random", "grid", "tpe", "gp", "cmaes", "nsga2", "bayesian", "hyperband"]
PrunerName = Literal["none", "median", "quartile", "asha", "hyperband"]
Backend = Literal["optuna", "keras-tuner"]
Metric = Literal["val_accuracy", "val_loss", "params", "flops", "train_time"]

RUNG_METRICS = ("val_accuracy", "val_loss")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "swish", "tanh", "sigmoid")

_IntFilters = Annotated[Dimension, Spec("int", ge=1, le=4096)]
_Kernel = Annotated[Dimension, Spec("int", ge=1, le=7)]
_Stride = Annotated[Dimension, Spec("int", ge=1, le=4)]
_Padding = Annotated[Dimension, Spec("str", options=("same", "valid"))]
_Dilation = Annotated[Dimension, Spec("int", ge=1, le=8)]
_Activation = Annotated[Dimension, Spec("str", options=ACTIVATIONS)]
_Bool = Annotated[Dimension, Spec("bool")]
_Convs = Annotated[Dimension, Spec("int", ge=1, le=4)]
_Pooling = Annotated[Dimension, Spec("str", options=("max", "avg", "none"))]
_PoolSize = Annotated[Dimension, Spec("int", ge=1, le=8)]
_Dropout = Annotated[Dimension, Spec("float", ge=0.0, lt=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dimensions(self) -> dict[str, Dimension]:
        """Return this section's searchable entries by field name."""
        return {name: value for name, value in self.__dict__.items() if isinstance(value, Dimension)}


class BlockOverrides(_Section):
    """Entries that differ for one block (``per_block``); unset ones follow ``blocks``."""

    filters: _IntFilters | None = None
    kernel_size: _Kernel | None = None
    strides: _Stride | None = None
    padding: _Padding | None = None
    dilation: _Dilation | None = None
    activation: _Activation | None = None
    batch_norm: _Bool | None = None
    convs: _Convs | None = None
    pooling: _Pooling | None = None
    pool_size: _PoolSize | None = None
    pool_strides: _PoolSize | None = None
    dropout: _Dropout | None = None


class BlocksSpace(_Section):
    """The conv blocks: how many, and what each block may be."""

    count: Annotated[Dimension, Spec("int", ge=1, le=12)] = Fixed(2)
    filters: _IntFilters = Fixed(32)
    kernel_size: _Kernel = Fixed(3)
    strides: _Stride = Fixed(1)
    padding: _Padding = Fixed("same")
    dilation: _Dilation = Fixed(1)
    activation: _Activation = Fixed("relu")
    batch_norm: _Bool = Fixed(False)
    convs: _Convs = Fixed(1)
    pooling: _Pooling = Fixed("max")
    pool_size: _PoolSize = Fixed(2)
    pool_strides: _PoolSize | None = None
    dropout: _Dropout = Fixed(0.0)
    per_block: dict[int, BlockOverrides] = Field(default_factory=dict)

    @field_validator("per_block", mode="before")
    @classmethod
    def _block_numbers(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                number = int(key) if isinstance(key, str) and key.isdigit() else key
                if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 12:
                    raise ValueError(f"block number {key!r} must be a whole number 1..12")
        return value

    def max_count(self) -> int:
        """Return the largest number of blocks the space allows."""
        return int(max(self.count.values()))  # type: ignore[type-var]

    def for_block(self, number: int) -> dict[str, Dimension]:
        """Return the entries of block ``number`` (1-based), overrides applied."""
        entries = {name: value for name, value in self.dimensions().items() if name != "count"}
        if self.pool_strides is None:
            entries.pop("pool_strides", None)
        override = self.per_block.get(number)
        if override is not None:
            entries.update(override.dimensions())
        return entries


class HeadSpace(_Section):
    """The classifier head."""

    pooling: Annotated[Dimension, Spec("str", options=("flatten", "global_avg", "global_max"))] = Fixed(
        "flatten"
    )
    dense_layers: Annotated[Dimension, Spec("int", ge=0, le=4)] = Fixed(1)
    units: Annotated[Dimension, Spec("int", ge=1, le=8192)] = Fixed(128)
    activation: _Activation = Fixed("relu")
    dropout: _Dropout = Fixed(0.0)


class ModelSpace(_Section):
    """What the network is made of."""

    blocks: BlocksSpace = BlocksSpace()
    head: HeadSpace = HeadSpace()


class AugmentationSpace(_Section):
    """Training-time augmentation, each transformation searchable."""

    flip: Annotated[
        Dimension, Spec("str", options=("none", "horizontal", "vertical", "horizontal_and_vertical"))
    ] = Fixed("none")
    rotation: Annotated[Dimension, Spec("float", ge=0.0, le=0.5)] = Fixed(0.0)
    translation: Annotated[Dimension, Spec("float", ge=0.0, le=0.5)] = Fixed(0.0)
    zoom: Annotated[Dimension, Spec("float", ge=0.0, le=0.5)] = Fixed(0.0)
    contrast: Annotated[Dimension, Spec("float", ge=0.0, le=1.0)] = Fixed(0.0)
    erasing: Annotated[Dimension, Spec("float", ge=0.0, le=1.0)] = Fixed(0.0)


class TrainingSpace(_Section):
    """How each network is trained."""

    optimizer: Annotated[Dimension, Spec("str", options=("sgd", "adam", "adamw", "rmsprop"))] = Fixed("adam")
    learning_rate: Annotated[Dimension, Spec("float", gt=0.0, le=10.0)] = Fixed(1e-3)
    momentum: Annotated[Dimension, Spec("float", ge=0.0, lt=1.0)] = Fixed(0.9)
    weight_decay: Annotated[Dimension, Spec("float", ge=0.0, le=1.0)] = Fixed(1e-4)
    lr_schedule: Annotated[Dimension, Spec("str", options=("constant", "cosine"))] = Fixed("constant")
    batch_size: Annotated[Dimension, Spec("int", ge=1, le=4096)] = Fixed(64)
    epochs: Annotated[Dimension, Spec("int", ge=1, le=1000)] = Fixed(3)
    l1: Annotated[Dimension, Spec("float", ge=0.0, le=1.0)] = Fixed(0.0)
    l2: Annotated[Dimension, Spec("float", ge=0.0, le=1.0)] = Fixed(0.0)
    label_smoothing: Annotated[Dimension, Spec("float", ge=0.0, lt=1.0)] = Fixed(0.0)
    class_weight: Annotated[Dimension, Spec("str", options=("none", "balanced"))] = Fixed("none")
    augmentation: AugmentationSpace = AugmentationSpace()
    mixed_precision: _Bool = Fixed(False)
    jit_compile: _Bool = Fixed(False)


class Objective(BaseModel):
    """One metric to optimize and its direction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Metric = "val_accuracy"
    direction: Literal["maximize", "minimize"] = "maximize"


class Constraints(BaseModel):
    """Limits a configuration must meet before it is trained."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_params: int | None = Field(None, ge=1)
    max_flops: int | None = Field(None, ge=1)


class FinalRung(BaseModel):
    """The final rung: the top trials trained again, longer and on all training images, before the retrain.

    Short trials on part of the data favour networks that learn fast; the rung judges the best
    of them where longer training shows, so the retrain starts from the one that gains most.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: int = Field(
        0, ge=0, le=20, description="how many of the top trials the rung trains again; 0: no rung"
    )
    epochs: int = Field(10, ge=1, le=1000, description="epochs of each rung run, on the whole training split")
    share: float = Field(
        0.15,
        gt=0.0,
        lt=1.0,
        description="the largest share of a time budget the search keeps for the rung; "
        "candidates that do not fit in it are left out",
    )

    @field_validator("candidates")
    @classmethod
    def _none_or_a_choice(cls, value: int) -> int:
        if value == 1:
            raise ValueError("1 judges nothing (the rung chooses among the top trials): use 0 or at least 2")
        return value


class AugmentationCheck(BaseModel):
    """The augmentation check: the winner trained with each augmentation the space allows, as long as the retrain.

    Short trials cannot see what augmentation gives a long retrain (it pays once the same images
    have been seen many times). The check trains the best configuration with each combination of
    the space's augmentation values for ``epochs`` on a ``train_fraction`` of the training split,
    judged on the whole validation split, and the retrain uses the best.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int = Field(
        0, ge=0, le=1000, description="epochs of each check run (about the retrain's); 0: no check"
    )
    train_fraction: float = Field(
        0.1, gt=0.0, le=1.0, description="fraction of the training split each check run trains on"
    )
    share: float = Field(
        0.1,
        gt=0.0,
        lt=1.0,
        description="the largest share of a time budget the search keeps for the check; "
        "its runs are shortened to fit it",
    )


class SearchSettings(BaseModel):
    """How the search runs; the command line can override these."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Backend = "optuna"
    algorithm: Algorithm = "tpe"
    pruner: PrunerName = "median"
    max_trials: int | None = Field(20, ge=1)
    timeout: float | None = Field(None, gt=0, description="seconds, or a duration like 30m or 2h")
    seed: int = 0
    objective: tuple[Objective, ...] = (Objective(),)
    constraints: Constraints = Constraints()
    max_consecutive_failures: int = Field(5, ge=1)
    validation_fraction: float = Field(0.1, gt=0.0, lt=0.9)
    trial_train_fraction: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="fraction of the training split each search trial trains on (a cheap fidelity); "
        "the final retrain uses all of it",
    )
    retrain_epochs: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="epochs of the final retrain on train + validation (default: the best trial's own); "
        "cut to what fits in the time budget",
    )
    retrain_share: float = Field(
        0.75,
        gt=0.0,
        le=1.0,
        description="the largest share of a time budget the search keeps for the final retrain; "
        "trials always get the rest, and a longer retrain is cut to it",
    )
    balanced_validation: bool = Field(
        False,
        description="judge trials by balanced accuracy: every class counts the same in val_accuracy and "
        "val_loss, however many validation images it has (for unbalanced data whose images to come may "
        "not share the training split's class shares)",
    )
    test_time_augmentation: bool = Field(
        True,
        description="the final model may average its predictions over shifted (and mirrored) views of each "
        "image, the transformations it trained with, when that scores higher on the validation images held "
        "back from the retrain; each view costs one more pass of the network per prediction",
    )
    final_rung: FinalRung = FinalRung()
    augmentation_check: AugmentationCheck = AugmentationCheck()

    @field_validator("objective", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return (value,)
        if isinstance(value, str):
            return ({"metric": value, "direction": _default_direction(value)},)
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        from autocnn.space._durations import parse_duration

        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _distinct_metrics(self) -> SearchSettings:
        metrics = [objective.metric for objective in self.objective]
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"objective lists a metric twice: {metrics}")
        if self.final_rung.candidates and (len(metrics) != 1 or metrics[0] not in RUNG_METRICS):
            raise ValueError(
                f"final_rung judges one validation metric; with the objectives {metrics} set "
                "final_rung.candidates to 0, or keep one objective (val_accuracy or val_loss)"
            )
        if self.final_rung.candidates and self.retrain_share + self.final_rung.share >= 1:
            raise ValueError(
                f"retrain_share {self.retrain_share:g} and final_rung.share {self.final_rung.share:g} leave "
                "no time for trials; keep their sum below 1"
            )
        kept = self.retrain_share + (self.final_rung.share if self.final_rung.candidates else 0.0)
        if self.augmentation_check.epochs and kept + self.augmentation_check.share >= 1:
            raise ValueError(
                f"retrain_share {self.retrain_share:g}, the final rung's share and augmentation_check.share "
                f"{self.augmentation_check.share:g} leave no time for trials; keep their sum below 1"
            )
        return self


def _default_direction(metric: str) -> str:
    return "maximize" if metric == "val_accuracy" else "minimize"


class SearchSpace(BaseModel):
    """A validated, frozen search space: model, training, search settings and seeds.

    Load one with :func:`autocnn.load_space`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    model: ModelSpace = ModelSpace()
    training: TrainingSpace = TrainingSpace()
    search: SearchSettings = SearchSettings()
    seeds: tuple[TrialConfig, ...] = ()

    def parameters(self) -> dict[str, Dimension]:
        """Return every searchable entry by its flat name (per-block ones for every possible block).

        Names match :meth:`TrialConfig.flat`: ``blocks.count``, ``block2.filters``,
        ``head.dense1.units``, ``training.learning_rate``, ``training.augmentation.zoom``.
        """
        out: dict[str, Dimension] = {"blocks.count": self.model.blocks.count}
        for number in range(1, self.model.blocks.max_count() + 1):
            for key, value in self.model.blocks.for_block(number).items():
                out[f"block{number}.{key}"] = value
        head = self.model.head
        out["head.pooling"] = head.pooling
        out["head.dense_layers"] = head.dense_layers
        for number in range(1, int(max(head.dense_layers.values())) + 1):  # type: ignore[call-overload]
            out[f"head.dense{number}.units"] = head.units
        out["head.activation"] = head.activation
        out["head.dropout"] = head.dropout
        for key, value in self.training.dimensions().items():
            out[f"training.{key}"] = value
        for key, value in self.training.augmentation.dimensions().items():
            out[f"training.augmentation.{key}"] = value
        return out

    def searched(self) -> dict[str, Dimension]:
        """Return only the entries that take more than one value."""
        return {name: value for name, value in self.parameters().items() if value.size() > 1}

    def size(self) -> float:
        """Return how many distinct configurations the space holds (``math.inf`` if continuous)."""
        blocks = self.model.blocks
        head = self.model.head
        product = 1.0
        for key, value in self.parameters().items():
            if not key.startswith(("block", "head.dense")):
                product *= value.size()
        block_variants = 0.0
        for count in blocks.count.values():
            variants = 1.0
            for number in range(1, int(count) + 1):
                for value in blocks.for_block(number).values():
                    variants *= value.size()
            block_variants += variants
        head_variants = sum(head.units.size() ** int(layers) for layers in head.dense_layers.values())
        return product * block_variants * head_variants
