"""Text rendering helpers shared by the CLI: one place for how things look on a terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.table import Table

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


def resolve_space_argument(space: str | None) -> str:
    """Return the space to use: the given file or ready-made name, else ``auto`` (planned for the data)."""
    return "auto" if space is None else space


def score_label(*, balanced: bool) -> str:
    """Return the short name of the validation score: balanced accuracy counts every class the same."""
    return "bal_acc" if balanced else "val_acc"


BALANCED_NOTE = "bal_acc: validation accuracy with every class counting the same (unbalanced classes)"


def leaderboard_rows(frame: object, *, top: int) -> list[tuple[str, ...]]:
    """Return printable rows (rank, trial, state, val_acc, params, epochs, time, architecture)."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    rows: list[tuple[str, ...]] = []
    for _, row in frame.head(top).iterrows():
        rank = "" if pd.isna(row["rank"]) else str(row["rank"])
        accuracy = "" if pd.isna(row["val_accuracy"]) else f"{row['val_accuracy']:.4f}"
        params = "" if pd.isna(row["params"]) else f"{int(row['params']):,}"
        duration = "" if pd.isna(row["duration_s"]) else f"{row['duration_s']:.1f}s"
        rows.append(
            (
                rank,
                str(row["trial"]),
                str(row["state"]),
                accuracy,
                params,
                str(row["epochs_trained"]),
                duration,
                str(row["architecture"]),
            )
        )
    return rows


@dataclass(frozen=True)
class Column:
    """A column of a terminal table: dropped first when ``optional``, cut to fit when ``stretch``."""

    header: str
    optional: bool = False
    stretch: bool = False
    justify: Literal["left", "right"] = "left"


def fitting_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, width: int, title: str | None = None
) -> Table:
    """Return a table of one line per row that fits ``width``: optional columns go, long text is cut.

    Optional columns are dropped from the last while the table is wider than ``width``; what is
    still too wide is cut with an ellipsis in the ``stretch`` columns (and, at last, in any).
    """
    kept = list(range(len(columns)))

    def natural_width(indices: list[int]) -> int:
        widths = [max([len(columns[i].header), *(len(row[i]) for row in rows)]) for i in indices]
        return sum(widths) + 3 * len(widths) + 1  # "│ cell " per column and the closing "│"

    for index in reversed(range(len(columns))):
        if natural_width(kept) <= width:
            break
        if columns[index].optional:
            kept.remove(index)
    table = Table(title=title, title_justify="left", width=min(width, natural_width(kept)))
    for index in kept:
        column = columns[index]
        table.add_column(
            column.header,
            no_wrap=True,
            overflow="ellipsis",
            justify=column.justify,
            ratio=1 if column.stretch else None,
            min_width=None if column.stretch else len(column.header),
        )
    for row in rows:
        table.add_row(*(row[index] for index in kept))
    return table
