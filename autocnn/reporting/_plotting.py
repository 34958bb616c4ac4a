"""Matplotlib helpers: figures drawn with the Agg canvas (no pyplot state), one house style."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autocnn._files import replacing

DPI = 130
WINNER_COLOR = "#d62728"
MAIN_COLOR = "#1f77b4"
MUTED_COLOR = "#9e9e9e"
FRONT_COLOR = "#ff7f0e"
TOP_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e")

STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the report's plot style for the duration of the block."""
    with mpl.rc_context(cast(Any, STYLE)):
        yield


def new_figure(width: float, height: float) -> Figure:
    """Return an empty figure (inches) on an Agg canvas, with constrained layout."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG without the software metadata; return ``path``."""
    with replacing(path) as temporary:
        figure.savefig(temporary, dpi=DPI, metadata={"Software": None})
    figure.clear()
    return path


def short_name(name: str, *, width: int = 18) -> str:
    """Return a parameter name wrapped at its dots so that it fits in ``width`` characters a line."""
    if len(name) <= width:
        return name
    lines: list[str] = []
    current = ""
    for piece in name.split("."):
        candidate = f"{current}.{piece}" if current else piece
        if current and len(candidate) > width:
            lines.append(current + ".")
            current = piece
        else:
            current = candidate
    lines.append(current)
    return "\n".join(lines)


def ellipsize(text: str, *, width: int) -> str:
    """Cut ``text`` to ``width`` characters, ending with an ellipsis when shortened."""
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def legend_below(figure: Figure, *axes: Any, columns: int = 4) -> None:
    """Draw one legend for ``axes`` under the plots, where it cannot cover any data."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        figure.legend(
            handles, labels, loc="outside lower center", ncols=min(columns, len(handles)), frameon=False
        )


def frame_image(ax: Any) -> None:
    """Hide an image axis's ticks and draw a thin frame all around it."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#bbbbbb")
        spine.set_linewidth(0.8)


def count_axis(axis: Any) -> None:
    """Label a (log-scaled) axis of counts compactly: ``2 k``, ``10 k``, ``1.5 M``."""
    from autocnn._format import format_si

    _log_labels(axis, format_si)


def plain_log_axis(axis: Any) -> None:
    """Label a log-scaled axis with plain numbers (``0.01``, ``0.02``) instead of powers of ten."""
    _log_labels(axis, lambda value: f"{value:.3g}")


def _log_labels(axis: Any, text: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: text(value)))
    axis.set_minor_formatter(FuncFormatter(lambda value, _: text(value) if _minor_label(value) else ""))


def _minor_label(value: float) -> bool:
    """Return whether a minor log tick gets a label (2, 3 and 5 times a power of ten)."""
    import math

    if value <= 0:
        return False
    mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
    return mantissa in (2.0, 3.0, 5.0)
