"""The one small interface every backend implements: propose configurations, hear results."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from autocnn.config import TrialConfig
from autocnn.core.records import EpochRecord, TrialStatus
from autocnn.space import SearchSpace

PRUNERS = ("none", "median", "quartile", "asha", "hyperband")
#: The share of trials (in percent) a percentile pruner lets go on at an epoch, by the finished
#: trials' scores at that epoch: ``median`` the upper half, ``quartile`` all but the lowest quarter.
PERCENTILE_PRUNERS = {"median": 50.0, "quartile": 75.0}


def pruning_warmup_epochs(space: SearchSpace) -> int:
    """Return the epochs a percentile pruner waits before judging a trial: a third of the longest trial's.

    In the first epochs augmentation and regularisation only slow a network down, so a trial with
    them would rarely get past epoch 1.
    """
    return math.ceil(longest_trial_epochs(space) / 3)


def longest_trial_epochs(space: SearchSpace) -> int:
    """Return the most epochs a trial of ``space`` may train."""
    return max(int(value) for value in space.training.epochs.values())


@dataclass(frozen=True)
class Proposal:
    """A configuration a backend proposes for one trial."""

    config: TrialConfig
    seed_name: str = ""
    max_epochs: int | None = None
    initial_weights: str | None = None
    initial_epoch: int = 0


class Backend(ABC):
    """Proposes configurations for autocnn's trial loop and receives their results.

    autocnn owns the loop (ask → check → build → train → tell → record). Each trial is an Optuna
    trial in the study storage, which is autocnn's record store whatever the backend; a backend
    that is not Optuna only reads and writes its own state beside it.
    """

    name: ClassVar[str]

    def __init__(self, space: SearchSpace, *, algorithm: str, pruner: str, seed: int) -> None:
        """Create a backend for ``space`` with the given algorithm, pruner and seed."""
        self.space = space
        self.algorithm = algorithm
        self.pruner_name = pruner
        self.seed = seed

    def sampler(self) -> Any:
        """Return the Optuna sampler the record study uses (the real one for the Optuna backend)."""
        import optuna

        return optuna.samplers.RandomSampler(seed=self.seed)

    def pruner(self) -> Any:
        """Return the Optuna pruner the record study uses."""
        import optuna

        return optuna.pruners.NopPruner()

    def bind(self, study: Any, *, directory: Path) -> None:  # noqa: B027 (a hook, empty by default)
        """Attach to the record study; ``directory`` is where the backend may keep its own files."""

    def prepare(self, study: Any, *, new: bool) -> None:  # noqa: B027 (a hook, empty by default)
        """Get ready before the first proposal (e.g. enqueue the space's seeds in a new study)."""

    @abstractmethod
    def propose(self, trial: Any) -> Proposal:
        """Return the configuration for ``trial`` (an ``optuna.Trial`` that records it)."""

    def should_prune(self, trial: Any, record: EpochRecord) -> bool:
        """Return whether to stop ``trial`` after the epoch in ``record``."""
        return False

    def finish(  # noqa: B027 (a hook, empty by default)
        self, trial: Any, *, status: TrialStatus, values: tuple[float, ...] | None, weights_path: str | None
    ) -> None:
        """Hear how ``trial`` ended."""

    def weights_path(self, trial: Any) -> Path | None:
        """Return where the loop should save ``trial``'s trained weights, if the backend needs them."""
        return None

    def exhausted(self, study: Any) -> bool:
        """Return whether the backend has nothing left to propose (e.g. a finished grid)."""
        return False

    def close(self) -> None:  # noqa: B027 (a hook, empty by default)
        """Release what the backend holds at the end of a search."""
