"""Checks of library arguments that raise a ConfigError naming the Python parameter."""

from __future__ import annotations

import numbers

from autocnn.errors import ConfigError


def check_positive_int(value: object, *, parameter: str) -> None:
    """Raise ConfigError naming ``parameter`` unless ``value`` is a whole number of at least 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"The {parameter!r} parameter must be a positive int; got {value!r} instead.")
