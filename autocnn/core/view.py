"""What the trial loop knows about its study, kept up to date incrementally.

A finished trial never changes, so each is read (parsed into a :class:`TrialRecord`) once, and
the ranking grows by insertion; only the few unfinished trials are looked at on every refresh.
That keeps the loop's own cost per trial flat as a study grows to thousands of trials
(``benchmarks/storage_scaling.py``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

from autocnn.core.fidelity import SIMILAR_FLOPS
from autocnn.core.records import RETRIED_ATTR, TrialRecord, TrialStatus, record_from_trial

if TYPE_CHECKING:
    from autocnn.core.study import Study

FINISHED_STATES = ("COMPLETE", "PRUNED", "FAIL")
POOLED_TRIALS = 200  # the most recent trials of similar size an estimate pools


class StudyView:
    """The study's finished trials (read once each), its ranking, and how many trials count or run."""

    def __init__(self, study: Study) -> None:
        self._study = study
        self._records: dict[int, TrialRecord] = {}
        self._order: list[TrialRecord] = []  # finished trials, in the order they were seen
        self._single_objective = len(study.objectives) == 1
        self._signs = [-1.0 if objective.direction == "maximize" else 1.0 for objective in study.objectives]
        self._ranked_keys: list[tuple[tuple[float, ...], TrialRecord]] = []
        self._ranked_cache: list[TrialRecord] | None = None
        self.counted = (
            0  # finished trials that count towards ``max_trials`` (a lost trial's retry replaces it)
        )
        self.running = 0

    def refresh(self) -> None:
        """Read the trials that finished since the last refresh, and count the running ones."""
        running = 0
        for trial in self._study.optuna_study.get_trials(deepcopy=False):
            if trial.number in self._records:
                continue
            state = trial.state.name
            if state in FINISHED_STATES:
                self._add(record_from_trial(trial), counts=not trial.user_attrs.get(RETRIED_ATTR, False))
            elif state == "RUNNING":
                running += 1
        self.running = running

    def ranked(self) -> list[TrialRecord]:
        """Return the completed trials, best first, ranked as :meth:`Study.ranked` ranks them."""
        if self._single_objective:
            return [record for _, record in self._ranked_keys]
        if self._ranked_cache is None:
            self._ranked_cache = self._study.ranked(among=[record for _, record in self._ranked_keys])
        return self._ranked_cache

    @property
    def best(self) -> TrialRecord | None:
        """The best completed trial, or None."""
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def similar_to(self, best: TrialRecord) -> Sequence[TrialRecord]:
        """Return the most recent finished trials whose FLOPs are within ``SIMILAR_FLOPS`` of ``best``'s."""
        if not best.flops:
            return ()
        pooled: list[TrialRecord] = []
        for record in reversed(self._order):
            if record.flops and 1 / SIMILAR_FLOPS <= record.flops / best.flops <= SIMILAR_FLOPS:
                pooled.append(record)
                if len(pooled) >= POOLED_TRIALS:
                    break
        return pooled

    def _add(self, record: TrialRecord, *, counts: bool) -> None:
        self._records[record.number] = record
        self._order.append(record)
        if counts and record.status.counts:
            self.counted += 1
        if record.status is TrialStatus.COMPLETE and record.values:
            key = (
                *(sign * value for sign, value in zip(self._signs, record.values, strict=False)),
                record.number,
            )
            bisect.insort(self._ranked_keys, (key, record), key=lambda item: item[0])
            self._ranked_cache = None
