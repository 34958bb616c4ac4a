"""What a study shows in a notebook: an HTML summary (ranking and winner) and plots shown inline."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autocnn.errors import SearchError

if TYPE_CHECKING:
    from autocnn.core.study import Study

_SHOWN_TRIALS = 10
_COLUMNS = ("rank", "trial", "state", "val_accuracy", "params", "architecture")


@dataclass(frozen=True)
class PlotImage:
    """A plot saved as a PNG file, which Jupyter shows inline."""

    path: Path

    def _repr_png_(self) -> bytes:
        return self.path.read_bytes()


def study_html(study: Study) -> str:
    """Return the study's name, its top trials as a table and its final model, as HTML."""
    frame = study.leaderboard()
    title = f"<p><b>autocnn study {html.escape(study.name)}</b>: {len(frame)} trials</p>"
    if frame.empty:
        return title
    shown = frame[[column for column in _COLUMNS if column in frame.columns]].head(_SHOWN_TRIALS)
    table = shown.to_html(index=False, na_rep="", float_format=lambda value: f"{value:.4f}", escape=True)
    final = study.final
    if final is not None:
        winner = (
            f"final model (trial #{final.trial_number}): test accuracy {final.test_accuracy:.4f}, "
            f"{html.escape(final.kept_summary)}; {html.escape(final.model_path)}"
        )
    else:
        best = study.best_trial
        winner = f"best trial #{best.number} (not retrained: run the search with its final retrain)"
    return f"{title}{table}<p>{winner}</p>"


def plot_image(study: Study, *, kind: str) -> PlotImage:
    """Draw the study's ``kind`` plot ("history" or "curves") under its report folder; return it."""
    from autocnn.reporting._facts import collect
    from autocnn.reporting._plots import plot_history, plot_learning_curves

    directory = study.report_directory
    facts = collect(study)
    figure = plot_history(facts, directory) if kind == "history" else plot_learning_curves(facts, directory)
    if figure is None:
        raise SearchError(f"study {study.name!r} has no completed trial to plot yet")
    return PlotImage(directory / figure.filename)
