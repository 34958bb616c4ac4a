"""What the report needs from a study, read once from its records (never from a backend's files)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from autocnn._format import metric_label
from autocnn.core.metadata import RunRecord, StudyInfo
from autocnn.core.records import RungResult, TrialRecord
from autocnn.core.study import FinalResult, pareto_ranks
from autocnn.errors import AutoCNNError

if TYPE_CHECKING:
    from autocnn.core.augmentation_check import AugmentationCheckResult
    from autocnn.core.study import Study
    from autocnn.space import Objective, SearchSpace

Scalar = bool | int | float | str


@dataclass(frozen=True)
class StudyFacts:
    """A study's records and settings, read once, with the derived facts every section uses."""

    name: str
    info: StudyInfo
    runs: tuple[RunRecord, ...]
    objectives: tuple[Objective, ...]
    records: tuple[TrialRecord, ...]
    ranked: tuple[TrialRecord, ...]
    pareto: frozenset[int]
    final: FinalResult | None
    log_scale: frozenset[str]
    searched: tuple[str, ...]
    rung: tuple[RungResult, ...] = ()  # the final rung's results, in the order they ran
    augmentation_check: AugmentationCheckResult | None = None
    balanced_validation: bool = False  # validation scores are balanced accuracies

    @property
    def multi_objective(self) -> bool:
        """Whether the study optimizes more than one objective."""
        return len(self.objectives) > 1

    @property
    def best(self) -> TrialRecord | None:
        """The best completed trial, or None."""
        return self.ranked[0] if self.ranked else None

    @property
    def metrics(self) -> tuple[str, ...]:
        """The objective metrics, in order."""
        return tuple(objective.metric for objective in self.objectives)

    def label(self, metric: str) -> str:
        """Return a readable name of ``metric``; validation accuracy says when it is balanced accuracy."""
        if self.balanced_validation and metric == "val_accuracy":
            return "balanced val accuracy"
        return metric_label(metric)

    def maximize(self, index: int = 0) -> bool:
        """Whether objective ``index`` is maximized."""
        return self.objectives[index].direction == "maximize"

    def rank_of(self, number: int) -> int | None:
        """Return the 1-based rank of trial ``number`` among completed trials, or None."""
        for rank, record in enumerate(self.ranked, start=1):
            if record.number == number:
                return rank
        return None

    def counts(self) -> dict[str, int]:
        """Return how many trials ended in each state, most common first."""
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.status] = counts.get(record.status, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def seed(self) -> int:
        """The seed of the search's split and training (0 if unknown)."""
        return 0 if self.info.dataset is None else self.info.dataset.seed

    @property
    def dataset_name(self) -> str:
        """The dataset's name ('' if the study did not record it)."""
        return "" if self.info.dataset is None else self.info.dataset.name

    @property
    def started(self) -> datetime | None:
        """When the first trial started."""
        times = [record.started for record in self.records if record.started is not None]
        return min(times) if times else None

    @property
    def finished(self) -> datetime | None:
        """When the last trial finished."""
        times = [record.finished for record in self.records if record.finished is not None]
        return max(times) if times else None

    def elapsed(self, when: datetime | None) -> float | None:
        """Return seconds from the first trial's start to ``when``."""
        start = self.started
        if start is None or when is None:
            return None
        return (when - start).total_seconds()

    @property
    def wall_seconds(self) -> float | None:
        """Seconds from the first trial's start to the last trial's end."""
        return self.elapsed(self.finished)

    @property
    def trial_seconds(self) -> float:
        """Sum of the trials' own durations (larger than the wall time when workers ran in parallel)."""
        return sum(record.duration or 0.0 for record in self.records)

    @property
    def space_text(self) -> str:
        """The search space as YAML text ('' if the study did not record it)."""
        return self.info.space_yaml

    @property
    def space_sha256(self) -> str:
        """The sha256 of the recorded space text ('' without one)."""
        text = self.space_text
        return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""

    @property
    def class_names(self) -> tuple[str, ...]:
        """The dataset's class names, as recorded at the study's creation."""
        return self.info.class_names

    @property
    def input_shape(self) -> tuple[int, int, int] | None:
        """The model's input shape, as recorded at the study's creation."""
        return self.info.input_shape


def collect(study: Study) -> StudyFacts:
    """Read everything the report shows from ``study``'s records."""
    info = study.info
    runs = study.runs
    objectives = info.objectives
    records = tuple(study.trials())
    ranked = tuple(study.ranked())
    space = _recorded_space(info)
    searched, log_scale = _searched_parameters(space)
    return StudyFacts(
        name=study.name,
        info=info,
        runs=runs,
        objectives=objectives,
        records=records,
        ranked=ranked,
        pareto=_pareto_front(ranked, objectives),
        final=study.final,
        log_scale=log_scale,
        searched=searched,
        rung=study.rung_results,
        augmentation_check=study.augmentation_check,
        balanced_validation=space is not None and space.search.balanced_validation,
    )


def _pareto_front(ranked: tuple[TrialRecord, ...], objectives: tuple[Objective, ...]) -> frozenset[int]:
    """Return the numbers of the completed trials no other completed trial dominates."""
    if not ranked:
        return frozenset()
    if len(objectives) == 1:
        return frozenset({ranked[0].number})
    signs = [-1.0 if objective.direction == "maximize" else 1.0 for objective in objectives]
    points = [
        tuple(sign * value for sign, value in zip(signs, record.values or (), strict=False))
        for record in ranked
    ]
    ranks = pareto_ranks(points)
    return frozenset(record.number for record, rank in zip(ranked, ranks, strict=True) if rank == 0)


def _recorded_space(info: StudyInfo) -> SearchSpace | None:
    """Return the study's recorded space; None when it has none or it no longer parses."""
    from autocnn.space import parse_space

    text = info.space_yaml
    if not text:
        return None
    try:
        return parse_space(str(text), source="recorded space")
    except AutoCNNError:
        return None


def _searched_parameters(space: SearchSpace | None) -> tuple[tuple[str, ...], frozenset[str]]:
    """Return the searched parameter names and those on a log scale, from the recorded ``space``."""
    from autocnn.space import FloatRange, IntRange

    if space is None:
        return (), frozenset()
    searched = space.searched()
    log = frozenset(
        name
        for name, dimension in searched.items()
        if isinstance(dimension, FloatRange | IntRange) and dimension.log
    )
    return tuple(searched), log


def objective_value(record: TrialRecord, index: int) -> float | None:
    """Return the trial's value of objective ``index``, or None."""
    if record.values is None or index >= len(record.values):
        return None
    value = record.values[index]
    return None if math.isnan(value) else value


def parameter_values(facts: StudyFacts) -> dict[str, list[Scalar]]:
    """Return, for each parameter that varies among the completed trials, its value in each of them.

    Only parameters every completed trial has are kept (e.g. ``block2.filters`` is left out when
    some trials had one block), in the order of the search space.
    """
    flats = [record.config.flat() for record in facts.ranked if record.config is not None]
    if len(flats) < 2 or len(flats) != len(facts.ranked):
        return {}
    shared = [name for name in flats[0] if all(name in flat for flat in flats)]
    order = {name: index for index, name in enumerate(facts.searched)}
    shared.sort(key=lambda name: (order.get(name, len(order)), list(flats[0]).index(name)))
    out: dict[str, list[Scalar]] = {}
    for name in shared:
        values = [flat[name] for flat in flats]
        if len({(type(value).__name__, value) for value in values}) > 1:
            out[name] = values
    return out


def is_numeric(values: list[Scalar]) -> bool:
    """Return whether every value is a number (booleans are categories)."""
    return all(isinstance(value, int | float) and not isinstance(value, bool) for value in values)
