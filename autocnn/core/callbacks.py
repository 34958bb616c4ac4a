"""Hooks the search loop calls; progress displays and trackers implement the ones they need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from autocnn.config import TrialConfig
from autocnn.core.records import EpochRecord, RungResult, TrialRecord

if TYPE_CHECKING:
    import keras

    from autocnn.core.augmentation_check import AugmentationRun
    from autocnn.core.study import FinalResult, Study
    from autocnn.space import SearchSpace


@dataclass(frozen=True)
class SearchInfo:
    """What a search is about to do, given to ``on_search_start``."""

    study_name: str
    storage: str  # secrets masked
    workdir: str
    space: SearchSpace
    space_file: str | None
    dataset_name: str
    dataset_fingerprint: str
    input_shape: tuple[int, int, int]
    num_classes: int
    backend: str
    algorithm: str
    pruner: str
    max_trials: int | None
    timeout: float | None
    seed: int
    resumed: bool
    trials_before: int
    command_line: str
    versions: dict[str, str] = field(default_factory=dict)
    worker: bool = False  # a worker process joining the study (autocnn worker), not the search that made it
    space_summary: str = ""  # how the space was made, when autocnn planned it


class SearchCallback:
    """Do-nothing hooks of the search loop; override the ones you need.

    With several worker processes, the process that started them replays the trials they finish
    to callbacks whose ``observes_remote_trials`` is true (progress displays); trackers set it
    false because each worker records its own trials.
    """

    observes_remote_trials: ClassVar[bool] = True

    def on_search_start(self, info: SearchInfo) -> None:
        """Handle the start of the search, before the first trial."""

    def on_trial_start(self, number: int, config: TrialConfig, *, seed_name: str = "") -> None:
        """Handle a trial whose configuration is known, before it is checked and trained."""

    def on_epoch_end(self, number: int, record: EpochRecord) -> None:
        """Handle the end of one training epoch of a trial."""

    def on_trial_end(self, record: TrialRecord, *, model: keras.Model | None = None) -> None:
        """Handle a trial that ended, whatever its status (complete, pruned, failed, rejected, ...)."""

    def on_trials_end(self, reason: str) -> None:
        """Handle the end of the trials of this process; ``reason`` says, in a sentence, why no other starts."""

    def on_final_rung_start(self, numbers: Sequence[int], *, epochs: int) -> None:
        """Handle the start of the final rung: trials ``numbers`` trained again for ``epochs`` on all images."""

    def on_final_rung_result(self, result: RungResult) -> None:
        """Handle one trial judged by the final rung (its result is already in the study)."""

    def on_augmentation_check_run(self, trial_number: int, run: AugmentationRun) -> None:
        """Handle one run of the augmentation check of trial ``trial_number`` (already in the study)."""

    def on_retrain_start(self, number: int, config: TrialConfig, *, epochs: int) -> None:
        """Handle the start of the final retrain of the best configuration on train + validation."""

    def on_retrain_note(self, message: str) -> None:
        """Handle a sentence about the final retrain, e.g. that it diverged and is retried."""

    def on_retrain_end(self, final: FinalResult, *, model: keras.Model, example: Any) -> None:
        """Handle the final model kept (see ``final.kept``), evaluated once on the test split and saved."""

    def on_search_end(self, study: Study, *, interrupted: bool = False, error: str | None = None) -> None:
        """Handle the end of the search, also after Ctrl-C or an error that stopped it."""

    def worker_environment(self) -> dict[str, str] | None:
        """Return what worker processes need in their environment to record as this callback does.

        None (the default): workers have no counterpart of this callback. A tracker returns where
        it records, and the search's workers then track their own trials there.
        """
        return None


def say_retrain_note(callbacks: Sequence[SearchCallback], message: str) -> None:
    """Tell every callback ``message`` about what happens before or in the final retrain."""
    for callback in callbacks:
        callback.on_retrain_note(message)
