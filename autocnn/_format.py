"""Number, size and duration formatting shared by the report, the console and the search's messages."""

from __future__ import annotations

import math

METRIC_LABELS = {
    "val_accuracy": "val accuracy",
    "val_loss": "val loss",
    "params": "parameters",
    "flops": "FLOPs",
    "train_time": "training time (s)",
}


def metric_label(metric: str) -> str:
    """Return a readable name of an objective metric, e.g. ``val accuracy``."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def is_missing(value: float | None) -> bool:
    """Return whether ``value`` is absent or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_metric(metric: str, value: float | None) -> str:
    """Format a metric's value the way people read it (accuracy to 4 places, counts grouped)."""
    if value is None or is_missing(value):
        return "–"
    if metric in ("params", "flops"):
        return format_count(value)
    if metric == "train_time":
        return format_seconds(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4f}"


def format_count(value: float | None) -> str:
    """Format a count with thousands separators (``1,234,567``)."""
    if value is None or is_missing(value):
        return "–"
    return f"{round(value):,}"


def format_si(value: float | None) -> str:
    """Format a large number compactly, e.g. ``19.5 k`` or ``1.23 M``."""
    if value is None or is_missing(value):
        return "–"
    for limit, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def format_seconds(value: float | None) -> str:
    """Format a duration: ``0.8 s``, ``42 s``, ``3 min 05 s`` or ``2 h 07 min``."""
    if value is None or is_missing(value):
        return "–"
    if value < 10:
        return f"{value:.1f} s"
    if value < 60:
        return f"{value:.0f} s"
    seconds = round(value)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {(seconds % 3600) // 60:02d} min"


def format_value(value: object) -> str:
    """Format a configuration value: floats to 4 significant digits, others as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_number_of(count: int, noun: str) -> str:
    """Return ``count`` with ``noun`` in the right number: ``1 trial``, ``3 trials``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
