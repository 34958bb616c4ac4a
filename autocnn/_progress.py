"""Search progress on a terminal: a live line for the running trial, one line per finished trial."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from autocnn._console import BALANCED_NOTE, score_label
from autocnn._format import format_number_of
from autocnn.config import TrialConfig
from autocnn.core.callbacks import SearchCallback, SearchInfo
from autocnn.core.final_model import FinalSource
from autocnn.core.records import EpochRecord, RungResult, TrialRecord, TrialStatus

if TYPE_CHECKING:
    import keras

    from autocnn.core.study import FinalResult, Study

_STATUS_STYLE = {
    "complete": "green",
    "pruned": "yellow",
    "failed": "red",
    "rejected": "magenta",
    "interrupted": "red",
}


class ConsoleProgress(SearchCallback):
    """Prints what the search does, for people watching a terminal."""

    def __init__(self, console: Console) -> None:
        """Print to ``console``; a live line is shown only on an interactive terminal."""
        self.console = console
        self.live: Live | None = None
        self.info: SearchInfo | None = None
        self.started = time.monotonic()
        self.best: float | None = None
        self.maximize = True
        self.current = ""
        self.epochs = 0
        self.score = score_label(balanced=False)

    def on_search_start(self, info: SearchInfo) -> None:
        """Print the study, storage, data and budget."""
        self.info = info
        self.started = time.monotonic()
        self.maximize = info.space.search.objective[0].direction == "maximize"
        self.score = score_label(balanced=info.space.search.balanced_validation)
        state = f"continuing, {info.trials_before} trials so far" if info.resumed else "new"
        self.console.print(f"study {info.study_name} ({state}) in {info.storage}")
        self.console.print(
            f"data {info.dataset_name}: {_shape(info.input_shape)}, {info.num_classes} classes, "
            f"fingerprint {info.dataset_fingerprint[:12]}"
        )
        budget = [
            f"max {format_number_of(info.max_trials, 'trial')}" if info.max_trials else "no trial limit"
        ]
        budget.append(f"timeout {_duration(info.timeout)}" if info.timeout else "no timeout")
        if info.space_summary:
            self.console.print(info.space_summary)
        if info.space.search.balanced_validation:
            self.console.print(BALANCED_NOTE)
        self.console.print(
            f"search {info.backend} · {info.algorithm} · pruner {info.pruner} · {', '.join(budget)} · seed {info.seed}"
        )

    def on_trial_start(self, number: int, config: TrialConfig, *, seed_name: str = "") -> None:
        """Start the live line of a trial."""
        from autocnn.model import describe_config

        label = f" [{seed_name}]" if seed_name else ""
        self.current = f"#{number:<3} {describe_config(config)}{label}"
        self.epochs = config.training.epochs
        if self.console.is_terminal:
            self.live = Live(Text(self.current), console=self.console, transient=True, refresh_per_second=4)
            self.live.start()

    def on_epoch_end(self, number: int, record: EpochRecord) -> None:
        """Update the live line with the epoch and its validation accuracy."""
        if self.live is None:
            return
        best = f"  best {self.best:.4f}" if self.best is not None else ""
        value = f"  {self.score} {record.val_accuracy:.4f}" if record.val_accuracy is not None else ""
        self.live.update(
            Text(f"{self.current}  epoch {record.epoch}/{self.epochs}{value}{best}{self._eta()}")
        )

    def on_trial_end(self, record: TrialRecord, *, model: keras.Model | None = None) -> None:
        """Print the trial's outcome."""
        if self.live is not None:
            self.live.stop()
            self.live = None
        if record.status is TrialStatus.COMPLETE and record.values:
            value = record.values[0]
            if self.best is None or (value > self.best if self.maximize else value < self.best):
                self.best = value
        text = Text(self.current + "  ")
        text.append(record.status, style=_STATUS_STYLE.get(record.status, ""))
        if record.val_accuracy is not None:
            text.append(f"  {self.score} {record.val_accuracy:.4f}")
        if record.epochs_trained:
            text.append(f"  {record.epochs_trained} ep")
        if record.duration is not None:
            text.append(f"  {record.duration:.1f}s")
        if record.reason and record.status is not TrialStatus.COMPLETE:
            text.append(f"  ({record.reason})", style="dim")
        if self.best is not None:
            text.append(f"  best {self.best:.4f}", style="bold")
        self.console.print(text)

    def on_trials_end(self, reason: str) -> None:
        """Say why the search starts no other trial."""
        self.console.print(f"no more trials: {reason}", style="dim")

    def on_final_rung_start(self, numbers: Sequence[int], *, epochs: int) -> None:
        """Say which top trials the final rung trains again."""
        listed = ", ".join(f"#{number}" for number in numbers)
        self.console.print(
            f"final rung: training trials {listed} again for {format_number_of(epochs, 'epoch')} "
            "on all training images ..."
        )

    def on_final_rung_result(self, result: RungResult) -> None:
        """Print one trial's rung result beside what the trial itself reached."""
        before = "" if result.trial_val_accuracy is None else f" (trial {result.trial_val_accuracy:.4f})"
        cut = (
            ""
            if result.completed
            else f", cut at the deadline after {format_number_of(result.epochs, 'epoch')}"
        )
        self.console.print(
            f"final rung #{result.trial_number}: {self.score} {result.val_accuracy:.4f}{before}, "
            f"{result.seconds:.1f}s{cut}"
        )

    def on_retrain_start(self, number: int, config: TrialConfig, *, epochs: int) -> None:
        """Say that the winner is being retrained."""
        self.console.print(
            f"retraining trial #{number} on train + validation for {format_number_of(epochs, 'epoch')} ..."
        )

    def on_retrain_note(self, message: str) -> None:
        """Say what happened to the retrain (it collapsed and is retried)."""
        self.console.print(message, style="yellow")

    def on_retrain_end(self, final: FinalResult, *, model: keras.Model, example: Any) -> None:
        """Print which model is kept, why when it is not the retrain as it is, and its test accuracy."""
        if final.kept_reason:
            self.console.print(f"final model: {final.kept_reason}", style="yellow")
        kept = "" if final.kept is FinalSource.RETRAINED else f", {final.kept.description}"
        self.console.print(
            f"final model (trial #{final.trial_number}{kept}): test accuracy {final.test_accuracy:.4f}, "
            f"{format_number_of(final.epochs, 'epoch')} in {final.train_seconds:.1f}s"
        )
        if final.views_summary:
            self.console.print(final.views_summary)

    def on_search_end(self, study: Study, *, interrupted: bool = False, error: str | None = None) -> None:
        """Stop any live line."""
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _eta(self) -> str:
        if self.info is None or self.info.timeout is None:
            return ""
        left = self.info.timeout - (time.monotonic() - self.started)
        return f"  budget left {_duration(max(left, 0))}"


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(size) for size in shape)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"
