"""Field specs: what kind of value a space entry holds, its bounds, and how it is parsed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from autocnn.space._dimensions import (
    Choice,
    Dimension,
    Fixed,
    FloatRange,
    IntRange,
    Scalar,
    ValueKind,
    as_number,
)

_RANGE_KEYS = {"low", "high", "step", "log"}


@dataclass(frozen=True)
class Spec:
    """What one search-space entry may hold: a value kind, bounds and allowed options."""

    kind: ValueKind
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    lt: float | None = None
    options: tuple[str, ...] | None = None

    def bounds_text(self) -> str:
        """Return the allowed values in words, e.g. ``1..7`` or ``>= 0 and < 1``."""
        if self.options is not None:
            return "one of " + ", ".join(self.options)
        if self.ge is not None and self.le is not None:
            return f"{_fmt(self.ge)}..{_fmt(self.le)}"
        parts = []
        if self.ge is not None:
            parts.append(f">= {_fmt(self.ge)}")
        if self.gt is not None:
            parts.append(f"> {_fmt(self.gt)}")
        if self.le is not None:
            parts.append(f"<= {_fmt(self.le)}")
        if self.lt is not None:
            parts.append(f"< {_fmt(self.lt)}")
        return " and ".join(parts) if parts else "any value"

    def check_scalar(self, raw: Any) -> Scalar:
        """Return ``raw`` as a value of this kind, or raise ValueError saying why it is not."""
        if self.kind == "bool":
            if isinstance(raw, bool):
                return bool(raw)
            raise ValueError(f"{raw!r} is not true or false")
        if self.kind == "str":
            if not isinstance(raw, str):
                raise ValueError(f"{raw!r} is not a name; expected {self.bounds_text()}")
            if self.options is not None and raw not in self.options:
                raise ValueError(f"{raw!r} is not allowed; expected {self.bounds_text()}")
            return raw
        value = as_number(raw)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{raw!r} is not a number")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"{raw!r} is not a whole number")
                value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an int beyond any float
                value = math.inf
            if not math.isfinite(value):
                raise ValueError(f"{raw!r} is not a finite number")
        if not self._within(value):
            raise ValueError(f"{_fmt(value)} is outside {self.bounds_text()}")
        number: int | float = value
        return number

    def _within(self, value: float) -> bool:
        return not (
            (self.ge is not None and value < self.ge)
            or (self.le is not None and value > self.le)
            or (self.gt is not None and value <= self.gt)
            or (self.lt is not None and value >= self.lt)
        )

    def parse(self, raw: Any) -> Dimension:
        """Parse a fixed value, a choice list or a range mapping into a Dimension."""
        if isinstance(raw, Dimension):
            return raw
        if isinstance(raw, Mapping):
            return self._parse_range(raw)
        if isinstance(raw, Sequence) and not isinstance(raw, str):
            if len(raw) == 0:
                raise ValueError("the choice list is empty; give at least one value")
            options = tuple(self.check_scalar(item) for item in raw)
            if len(set(options)) != len(options):
                raise ValueError(f"the choice list {list(raw)} repeats a value")
            return Fixed(options[0]) if len(options) == 1 else Choice(options)
        if raw is None:
            raise ValueError("is empty; give a value, a list of choices or {low: .., high: ..}")
        return Fixed(self.check_scalar(raw))

    def _parse_range(self, raw: Mapping[str, Any]) -> Dimension:
        if self.kind not in ("int", "float"):
            raise ValueError(
                f"a range {{low, high}} needs numbers; give one value or a list of {self.bounds_text()}"
            )
        unknown = sorted(set(raw) - _RANGE_KEYS)
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} in a range; a range has keys low, high, step, log")
        if "low" not in raw or "high" not in raw:
            raise ValueError("a range needs both 'low' and 'high'")
        low = self.check_scalar(raw["low"])
        high = self.check_scalar(raw["high"])
        assert isinstance(low, int | float) and isinstance(high, int | float)
        if low > high:
            raise ValueError(f"low ({_fmt(low)}) is greater than high ({_fmt(high)}); swap them")
        log = raw.get("log", False)
        if not isinstance(log, bool):
            raise ValueError(f"log must be true or false; got {log!r}")
        if log and low <= 0:
            raise ValueError(f"a log range needs low > 0; got {_fmt(low)}")
        step_raw = raw.get("step")
        if self.kind == "int":
            step = 1 if step_raw is None else as_number(step_raw)
            if not isinstance(step, int) or isinstance(step, bool) or step < 1:
                raise ValueError(f"step must be a whole number >= 1; got {step_raw!r}")
            if log and step != 1:
                raise ValueError("a log range cannot have a step; drop one of them")
            assert isinstance(low, int) and isinstance(high, int)
            return Fixed(low) if low == high else IntRange(low, high, step, log)
        step_value: float | None = None
        if step_raw is not None:
            step_number = as_number(step_raw)
            if isinstance(step_number, bool) or not isinstance(step_number, int | float):
                raise ValueError(f"step must be a number > 0; got {step_raw!r}")
            if step_number <= 0:
                raise ValueError(f"step must be a number > 0; got {step_raw!r}")
            if log:
                raise ValueError("a log range cannot have a step; drop one of them")
            step_value = float(step_number)
        return Fixed(float(low)) if low == high else FloatRange(float(low), float(high), step_value, log)

    def __get_pydantic_core_schema__(
        self, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let pydantic validate a field annotated ``Annotated[Dimension, Spec(...)]``."""
        return core_schema.no_info_plain_validator_function(
            self.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(_dimension_to_yaml),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Publish the accepted forms of this field in the JSON Schema."""
        return self.json_schema()

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of a fixed value, a choice list or a range of this kind."""
        scalar: dict[str, Any]
        if self.kind == "bool":
            scalar = {"type": "boolean"}
        elif self.kind == "str":
            scalar = {"type": "string"}
            if self.options is not None:
                scalar["enum"] = list(self.options)
        else:
            scalar = {"type": "integer" if self.kind == "int" else "number"}
            for key, name in (
                ("ge", "minimum"),
                ("le", "maximum"),
                ("gt", "exclusiveMinimum"),
                ("lt", "exclusiveMaximum"),
            ):
                bound = getattr(self, key)
                if bound is not None:
                    scalar[name] = bound
        variants: list[dict[str, Any]] = [scalar, {"type": "array", "items": scalar, "minItems": 1}]
        if self.kind in ("int", "float"):
            variants.append(
                {
                    "type": "object",
                    "properties": {
                        "low": scalar,
                        "high": scalar,
                        "step": {"type": "number", "exclusiveMinimum": 0},
                        "log": {"type": "boolean"},
                    },
                    "required": ["low", "high"],
                    "additionalProperties": False,
                }
            )
        return {"anyOf": variants}


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _dimension_to_yaml(dimension: Dimension) -> Any:
    return dimension.to_yaml()
