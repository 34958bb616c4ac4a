"""Turn a SearchSpace into one TrialConfig, asking a backend's suggester for each searched value."""

from __future__ import annotations

import math
import random
from typing import Any

from autocnn.config import TrialConfig
from autocnn.space._dimensions import Dimension, Scalar, Suggester
from autocnn.space._schema import SearchSpace


def sample_config(space: SearchSpace, suggester: Suggester) -> TrialConfig:
    """Return a configuration drawn from ``space``.

    Per-block entries are asked for only for blocks that exist (``block3.*`` only when
    ``blocks.count >= 3``), so backends see a conditional space.
    """

    def pick(name: str, dimension: Dimension) -> Any:
        return dimension.sample(name, suggester)

    blocks_space = space.model.blocks
    count = int(pick("blocks.count", blocks_space.count))
    blocks = []
    for number in range(1, count + 1):
        entries = blocks_space.for_block(number)
        blocks.append({key: pick(f"block{number}.{key}", value) for key, value in entries.items()})
    head_space = space.model.head
    layers = int(pick("head.dense_layers", head_space.dense_layers))
    head = {
        "pooling": pick("head.pooling", head_space.pooling),
        "dense_units": [pick(f"head.dense{n}.units", head_space.units) for n in range(1, layers + 1)],
        "activation": pick("head.activation", head_space.activation),
        "dropout": pick("head.dropout", head_space.dropout),
    }
    training: dict[str, Any] = {
        key: pick(f"training.{key}", value) for key, value in space.training.dimensions().items()
    }
    training["augmentation"] = {
        key: pick(f"training.augmentation.{key}", value)
        for key, value in space.training.augmentation.dimensions().items()
    }
    return TrialConfig.from_dict(
        {"model": {"blocks": blocks, "head": head}, "training": training}, where="sampled config"
    )


class RandomSuggester:
    """A seeded uniform (log-uniform where asked) suggester, for tests and plain random search."""

    def __init__(self, *, seed: int | None = None) -> None:
        """Create a suggester drawing from its own seeded generator."""
        self._random = random.Random(seed)
        self.asked: dict[str, Scalar] = {}

    def suggest_int(self, name: str, low: int, high: int, *, step: int, log: bool) -> int:
        """Return an integer in [low, high] on the step grid."""
        if log:
            value = round(math.exp(self._random.uniform(math.log(low), math.log(high))))
            value = min(max(value, low), high)
        else:
            value = low + step * self._random.randint(0, (high - low) // step)
        self.asked[name] = value
        return value

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None, log: bool) -> float:
        """Return a float in [low, high]."""
        if log:
            value = math.exp(self._random.uniform(math.log(low), math.log(high)))
        elif step is not None:
            value = low + step * self._random.randint(0, int((high - low) / step + 1e-9))
        else:
            value = self._random.uniform(low, high)
        self.asked[name] = value
        return value

    def suggest_categorical(self, name: str, choices: tuple[Scalar, ...]) -> Scalar:
        """Return one of the choices."""
        value = self._random.choice(choices)
        self.asked[name] = value
        return value
