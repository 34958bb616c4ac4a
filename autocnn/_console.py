"""Text rendering helpers shared by the CLI: one place for how things look on a terminal."""

from __future__ import annotations

import math

from autocnn.space import Choice, Dimension, Fixed, FloatRange, IntRange, SearchSpace


def dimension_kind(dimension: Dimension) -> str:
    """Return a word for what kind of entry a dimension is."""
    if isinstance(dimension, Fixed):
        return "fixed"
    if isinstance(dimension, Choice):
        return "choice"
    if isinstance(dimension, IntRange):
        return "int range"
    assert isinstance(dimension, FloatRange)
    return "float range"


def format_size(size: float) -> str:
    """Return a space size for people: a count, or 'infinite' for continuous ranges."""
    if math.isinf(size):
        return "infinitely many configurations (continuous ranges)"
    count = int(size)
    return f"{count:,} configuration" + ("" if count == 1 else "s")


def space_rows(space: SearchSpace, *, searched_only: bool = False) -> list[tuple[str, str, str]]:
    """Return (name, kind, values) rows describing a space."""
    parameters = space.searched() if searched_only else space.parameters()
    return [(name, dimension_kind(value), value.describe()) for name, value in parameters.items()]
