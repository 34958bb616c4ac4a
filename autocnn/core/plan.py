"""What a search is: its space, its data, its limits and its backend, validated once.

:func:`plan_search` turns the arguments of :func:`autocnn.search` into a :class:`SearchPlan`;
a worker rebuilds the same plan from the study (:func:`autocnn.core.metadata.plan_from_study`),
so both run from one value instead of loose arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autocnn.errors import ConfigError, DataError, StudyMismatchError
from autocnn.space import SearchSpace, load_space, parse_duration

if TYPE_CHECKING:
    from autocnn.data import Dataset


@dataclass(frozen=True)
class DatasetRef:
    """How to get a study's data back: where it is, how it was split, and its fingerprint."""

    name: str
    location: str | None  # a registered name or an absolute path; None for data given as arrays
    fingerprint: str
    validation_fraction: float
    seed: int  # the split's seed

    @classmethod
    def of(cls, dataset: Dataset, *, given: str | None, validation_fraction: float, seed: int) -> DatasetRef:
        """Return the reference of ``dataset``, loaded from ``given`` (None: given as arrays)."""
        from autocnn.data import dataset_location

        return cls(
            name=dataset.name,
            location=None if given is None else dataset_location(given),
            fingerprint=dataset.fingerprint,
            validation_fraction=validation_fraction,
            seed=seed,
        )

    def load(self, *, source: str | Path | Dataset | None = None, study: str = "") -> Dataset:
        """Load the data split as the study split it: from ``location``, or from ``source`` when given.

        The result may differ from the study's data (see :meth:`mismatch`); callers decide whether
        that is an error (a worker) or a note (an export, a report).
        """
        from autocnn.data import Dataset, load_dataset

        if isinstance(source, Dataset):
            return source
        of_study = f" of study {study!r}" if study else ""
        if source is not None:
            where = str(source)
        elif self.location is not None:
            where = self.location
        else:
            raise DataError(
                f"the data{of_study} ({self.name!r}) was given as arrays, so it cannot be loaded again; "
                "pass the same data as `dataset`"
            )
        try:
            return load_dataset(where, validation_fraction=self.validation_fraction, seed=self.seed)
        except DataError as error:
            if source is not None:
                raise
            raise DataError(
                f"the data{of_study} ({where!r}) cannot be loaded again ({error}); pass its path as `dataset`"
            ) from None

    def mismatch(self, dataset: Dataset) -> str | None:
        """Return a sentence on how ``dataset`` differs from the study's data, or None when it is the same."""
        if dataset.fingerprint == self.fingerprint:
            return None
        return (
            f"the data ({dataset.name}, fingerprint {dataset.fingerprint[:12]}) differs from the study's "
            f"({self.name}, fingerprint {self.fingerprint[:12]})"
        )

    def load_same(self, *, study: str = "") -> Dataset:
        """Load the data and refuse it (StudyMismatchError) unless it is the study's very data."""
        dataset = self.load(study=study)
        difference = self.mismatch(dataset)
        if difference is not None:
            raise StudyMismatchError(f"{difference}; use the same files")
        return dataset


@dataclass(frozen=True)
class BackendSettings:
    """Which library proposes the trials, with which algorithm and pruner."""

    name: str
    algorithm: str
    pruner: str

    @property
    def description(self) -> str:
        """Return ``backend / algorithm / pruner``, e.g. ``optuna / tpe / median``."""
        return f"{self.name} / {self.algorithm} / {self.pruner}"


@dataclass(frozen=True)
class RunLimits:
    """When one run of a search stops, and how its worker processes are recycled."""

    max_trials: int | None  # trained trials of the whole study
    timeout_s: float | None  # this run's budget, the final retrain included
    retrain: bool  # retrain the best at the end (and keep time for it)
    max_consecutive_failures: int
    recycle_after: int | None = None  # trials per worker process before it is restarted
    max_rss_mb: float | None = None  # a worker process past this memory is restarted

    def __post_init__(self) -> None:
        """Refuse limits that cannot hold, naming the parameter."""
        _at_least_one("max_trials", self.max_trials)
        _at_least_one("max_consecutive_failures", self.max_consecutive_failures)
        _at_least_one("recycle_after", self.recycle_after)
        if self.max_rss_mb is not None and not self.max_rss_mb > 0:
            raise ConfigError(f"`max_rss_mb` must be > 0; got {self.max_rss_mb}")
        if self.timeout_s is not None and not (self.timeout_s > 0 and math.isfinite(self.timeout_s)):
            raise ConfigError(f"`timeout` must be a positive duration; got {self.timeout_s}")


@dataclass(frozen=True)
class SearchPlan:
    """One search: the space (overrides applied), the data, the limits, the backend and the seed."""

    study: str
    space: SearchSpace
    space_file: str | None
    dataset: DatasetRef
    backend: BackendSettings
    limits: RunLimits
    seed: int  # of the training and the split; each worker's sampler derives its own
    tracked: bool = False  # whether worker processes record their trials (in MLflow)
    space_yaml: str | None = None  # the space's text when it has no file (a planned space, commented)
    space_summary: str = ""  # one line on how the space was made (a planned space), for a console


def plan_search(
    space: SearchSpace | str | Path,
    *,
    dataset: str | Path | Dataset,
    study: str | None = None,
    max_trials: int | None = None,
    timeout: float | str | None = None,
    backend: str | None = None,
    algorithm: str | None = None,
    pruner: str | None = None,
    seed: int | None = None,
    retrain: bool = True,
    max_consecutive_failures: int | None = None,
    recycle_after: int | None = None,
    max_rss_mb: float | None = None,
    tracked: bool = False,
    space_yaml: str | None = None,
    space_summary: str = "",
    space_source: str | None = None,
) -> tuple[SearchPlan, Dataset]:
    """Return the plan of a search with every override applied and checked, and its loaded data.

    An argument left ``None`` takes the space's ``search:`` setting. A space given as an object
    may say where it came from (``space_source``, e.g. ``auto`` for a planned space) and give its
    text (``space_yaml``) and a line on how it was made (``space_summary``).
    """
    from autocnn.data import load_dataset

    space_file = space_source if isinstance(space, SearchSpace) else str(space)
    search_space = space if isinstance(space, SearchSpace) else load_space(space)
    settings = search_space.search
    seed_value = settings.seed if seed is None else seed
    limits = RunLimits(
        max_trials=settings.max_trials if max_trials is None else max_trials,
        timeout_s=settings.timeout if timeout is None else parse_timeout(timeout),
        retrain=retrain,
        max_consecutive_failures=(
            settings.max_consecutive_failures
            if max_consecutive_failures is None
            else max_consecutive_failures
        ),
        recycle_after=recycle_after,
        max_rss_mb=max_rss_mb,
    )
    chosen = BackendSettings(
        name=backend or settings.backend,
        algorithm=algorithm or _default_algorithm(backend, settings.backend, settings.algorithm),
        pruner=pruner or settings.pruner,
    )
    given: str | None = None
    if isinstance(dataset, str | Path):
        given = str(dataset)
        data = load_dataset(given, validation_fraction=settings.validation_fraction, seed=seed_value)
    else:
        data = dataset
    plan = SearchPlan(
        study=study or f"{search_space.name}_{data.name}",
        space=search_space,
        space_file=space_file,
        dataset=DatasetRef.of(
            data, given=given, validation_fraction=settings.validation_fraction, seed=seed_value
        ),
        backend=chosen,
        limits=limits,
        seed=seed_value,
        tracked=tracked,
        space_yaml=space_yaml,
        space_summary=space_summary,
    )
    return plan, data


def parse_timeout(value: float | str) -> float:
    """Return a timeout in seconds from seconds or a duration such as ``30m``; ConfigError if invalid."""
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ConfigError(f"`timeout`: {error}") from None


def _default_algorithm(backend_override: str | None, space_backend: str, space_algorithm: str) -> str:
    if backend_override is not None and backend_override != space_backend:
        return "tpe" if backend_override == "optuna" else "random"
    return space_algorithm


def _at_least_one(parameter: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ConfigError(f"`{parameter}` must be >= 1; got {value}")
