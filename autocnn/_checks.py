"""Checks of library arguments that raise a ConfigError naming the Python parameter."""

from __future__ import annotations

import numbers

from autocnn.errors import ConfigError


def check_positive_int(value: object, *, parameter: str) -> int:
    """Return ``value`` as an int if it is a whole number of at least 1 (not a bool), else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"The {parameter!r} parameter must be a positive int; got {value!r} instead.")
    return int(value)
