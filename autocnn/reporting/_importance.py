"""Hyperparameter importance (fANOVA) computed from the records, for any backend."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from autocnn.reporting._facts import Scalar, StudyFacts, is_numeric, objective_value

MIN_TRIALS = 3


@dataclass(frozen=True)
class Importances:
    """Each objective's parameter importances (summing to 1), or a note saying why there are none."""

    by_metric: dict[str, dict[str, float]] = field(default_factory=dict)
    note: str = ""
    trials: int = 0

    @property
    def order(self) -> tuple[str, ...]:
        """Parameters from most to least important for the first objective."""
        if not self.by_metric:
            return ()
        first = next(iter(self.by_metric.values()))
        return tuple(sorted(first, key=lambda name: -first[name]))


def parameter_importances(facts: StudyFacts, values: dict[str, list[Scalar]]) -> Importances:
    """Estimate how much each varying parameter explains each objective, with Optuna's fANOVA.

    An in-memory Optuna study is rebuilt from the records, so that studies of every backend get
    the same analysis; ``values`` comes from :func:`parameter_values`.
    """
    completed = len(facts.ranked)
    if completed < MIN_TRIALS:
        return Importances(
            note=f"Parameter importance needs at least {MIN_TRIALS} completed trials; "
            f"this study has {completed}.",
            trials=completed,
        )
    if not values:
        return Importances(
            note="No searched parameter took different values among the completed trials, "
            "so there is nothing to compare.",
            trials=completed,
        )
    import optuna

    distributions = {name: _distribution(name, column, facts.log_scale) for name, column in values.items()}
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        optuna_study = optuna.create_study(directions=[objective.direction for objective in facts.objectives])
    finally:
        optuna.logging.set_verbosity(verbosity)
    trials = []
    for row, record in enumerate(facts.ranked):
        params = {name: column[row] for name, column in values.items()}
        trials.append(
            optuna.trial.create_trial(
                params=params, distributions=distributions, values=list(record.values or ())
            )
        )
    optuna_study.add_trials(trials)
    by_metric: dict[str, dict[str, float]] = {}
    flat_metrics: list[str] = []
    for index, metric in enumerate(facts.metrics):
        scores = [objective_value(record, index) for record in facts.ranked]
        finite = [score for score in scores if score is not None and math.isfinite(score)]
        if len(set(finite)) < 2:
            flat_metrics.append(metric)
            continue
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = optuna.importance.get_param_importances(
                optuna_study,
                evaluator=evaluator,
                target=lambda trial, index=index: trial.values[index],
                normalize=True,
            )
        by_metric[metric] = {name: float(score) for name, score in result.items()}
    note = ""
    if flat_metrics:
        note = (
            f"Every completed trial has the same {', '.join(flat_metrics)}; importance is undefined there. "
        )
    if by_metric and completed < 10:
        note += (
            f"Estimated from only {completed} completed trials: treat these numbers as a rough hint, "
            "not a measurement."
        )
    return Importances(by_metric=by_metric, note=note.strip(), trials=completed)


def _distribution(name: str, column: list[Scalar], log_scale: frozenset[str]) -> Any:
    import optuna

    if is_numeric(column):
        low, high = min(float(value) for value in column), max(float(value) for value in column)
        log = name in log_scale and low > 0
        if all(isinstance(value, int) for value in column):
            return optuna.distributions.IntDistribution(int(low), int(high), log=log)
        return optuna.distributions.FloatDistribution(low, high, log=log)
    choices: list[Scalar] = []
    for value in column:
        if not any(value == choice and type(value) is type(choice) for choice in choices):
            choices.append(value)
    return optuna.distributions.CategoricalDistribution(choices)
