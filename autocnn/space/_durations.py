"""Durations written the way people write them: ``90``, ``90s``, ``30m``, ``2h``, ``1h30m``."""

from __future__ import annotations

import re
from typing import Any

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float:
    """Return a duration in seconds; raise ValueError with the accepted forms otherwise.

    Example:
        >>> parse_duration("1h30m")
        5400.0
        >>> parse_duration(45)
        45.0

    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write seconds or e.g. 30m, 2h, 1h30m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(number + unit for number, unit in parts).lower() != text.lower():
                raise ValueError(
                    f"{value!r} is not a duration; write seconds or e.g. 30m, 2h, 1h30m"
                ) from None
            seconds = sum(float(number) * _UNIT_SECONDS[unit.lower()] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{value!r} is not a positive duration")
    return seconds


def format_duration(seconds: float) -> str:
    """Return ``seconds`` the way :func:`parse_duration` reads it back: ``90s``, ``30m``, ``2h``, ``1h30m``.

    Example:
        >>> format_duration(5400)
        '1h30m'

    """
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"
