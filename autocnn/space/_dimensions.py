"""The three kinds of value a search-space entry can take: fixed, a choice, or a range."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

Scalar: TypeAlias = bool | int | float | str
ValueKind: TypeAlias = Literal["int", "float", "str", "bool"]

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class Suggester(Protocol):
    """What a backend offers to turn a dimension into a concrete value for one trial."""

    def suggest_int(self, name: str, low: int, high: int, *, step: int, log: bool) -> int:
        """Return an integer in [low, high]."""
        ...

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None, log: bool) -> float:
        """Return a float in [low, high]."""
        ...

    def suggest_categorical(self, name: str, choices: tuple[Scalar, ...]) -> Scalar:
        """Return one of the choices."""
        ...


@dataclass(frozen=True)
class Fixed:
    """A value that is not searched."""

    value: Scalar

    def size(self) -> float:
        """Return how many distinct values this dimension has."""
        return 1

    def contains(self, value: Any) -> bool:
        """Return whether ``value`` is one this dimension can take."""
        return bool(value == self.value)

    def sample(self, name: str, suggester: Suggester) -> Scalar:
        """Return the fixed value (no suggestion is recorded)."""
        return self.value

    def values(self) -> tuple[Scalar, ...]:
        """Return every value this dimension can take."""
        return (self.value,)

    def describe(self) -> str:
        """Return a short human description."""
        return scalar_text(self.value)

    def to_yaml(self) -> Any:
        """Return the value as it would be written in a space file."""
        return self.value


@dataclass(frozen=True)
class Choice:
    """A value picked from a list of options."""

    options: tuple[Scalar, ...]

    def size(self) -> float:
        """Return how many distinct values this dimension has."""
        return len(self.options)

    def contains(self, value: Any) -> bool:
        """Return whether ``value`` is one this dimension can take."""
        return any(value == option and type(value) is type(option) for option in self.options) or (
            not isinstance(value, bool) and value in self.options
        )

    def sample(self, name: str, suggester: Suggester) -> Scalar:
        """Ask the suggester for one of the options."""
        return suggester.suggest_categorical(name, self.options)

    def values(self) -> tuple[Scalar, ...]:
        """Return every value this dimension can take."""
        return self.options

    def describe(self) -> str:
        """Return a short human description."""
        return "[" + ", ".join(scalar_text(option) for option in self.options) + "]"

    def to_yaml(self) -> Any:
        """Return the value as it would be written in a space file."""
        return list(self.options)


@dataclass(frozen=True)
class IntRange:
    """An integer range ``low..high`` (both included), with an optional step or log scale."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def size(self) -> float:
        """Return how many distinct values this dimension has."""
        return (self.high - self.low) // self.step + 1

    def contains(self, value: Any) -> bool:
        """Return whether ``value`` is one this dimension can take."""
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def sample(self, name: str, suggester: Suggester) -> Scalar:
        """Ask the suggester for an integer in the range."""
        return int(suggester.suggest_int(name, self.low, self.high, step=self.step, log=self.log))

    def values(self) -> tuple[Scalar, ...]:
        """Return every value this dimension can take."""
        return tuple(range(self.low, self.high + 1, self.step))

    def describe(self) -> str:
        """Return a short human description."""
        extra = f" step {self.step}" if self.step != 1 else ""
        return f"{self.low}..{self.high}{extra}" + (" (log)" if self.log else "")

    def to_yaml(self) -> Any:
        """Return the value as it would be written in a space file."""
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step != 1:
            out["step"] = self.step
        if self.log:
            out["log"] = True
        return out


@dataclass(frozen=True)
class FloatRange:
    """A float range ``low..high``, with an optional step or log scale."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def size(self) -> float:
        """Return how many distinct values this dimension has (infinite without a step)."""
        if self.step is None:
            return math.inf
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1

    def contains(self, value: Any) -> bool:
        """Return whether ``value`` is one this dimension can take."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return self.low - 1e-12 <= float(value) <= self.high + 1e-12

    def sample(self, name: str, suggester: Suggester) -> Scalar:
        """Ask the suggester for a float in the range."""
        return float(suggester.suggest_float(name, self.low, self.high, step=self.step, log=self.log))

    def values(self) -> tuple[Scalar, ...]:
        """Return every value of a stepped range; continuous ranges cannot be listed."""
        if self.step is None:
            raise ValueError("a continuous range has no finite list of values")
        count = int(self.size())
        return tuple(round(self.low + index * self.step, 12) for index in range(count))

    def describe(self) -> str:
        """Return a short human description."""
        extra = f" step {self.step:g}" if self.step is not None else ""
        return f"{self.low:g}..{self.high:g}{extra}" + (" (log)" if self.log else "")

    def to_yaml(self) -> Any:
        """Return the value as it would be written in a space file."""
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        if self.log:
            out["log"] = True
        return out


Dimension: TypeAlias = Fixed | Choice | IntRange | FloatRange


def as_number(raw: Any) -> Any:
    """Turn strings such as ``"1e-4"`` (how PyYAML reads them) into numbers; leave the rest."""
    if isinstance(raw, str) and _NUMBER.match(raw.strip()):
        text = raw.strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    return raw


def scalar_text(value: Scalar) -> str:
    """Return a value as it is written in a space file (``true``, ``1e-04``, ``relu``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
