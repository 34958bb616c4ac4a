"""The Optuna backend: samplers (random, grid, TPE, GP, CMA-ES, NSGA-II) and per-epoch pruners."""

from __future__ import annotations

import warnings
from typing import Any

from autocnn.backends._base import (
    PERCENTILE_PRUNERS,
    PRUNERS,
    Backend,
    Proposal,
    longest_trial_epochs,
    pruning_warmup_epochs,
)
from autocnn.core.records import SEED_ATTR, SEED_INDEX_ATTR, EpochRecord
from autocnn.errors import ConfigError, MissingExtraError
from autocnn.space import FloatRange, SearchSpace, sample_config
from autocnn.space._dimensions import Scalar

OPTUNA_ALGORITHMS = ("random", "grid", "tpe", "gp", "cmaes", "nsga2")
OPTUNA_PRUNERS = PRUNERS
PRUNABLE_METRICS = ("val_accuracy", "val_loss")


class _TrialSuggester:
    """Adapts an ``optuna.Trial`` to autocnn's Suggester protocol."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial

    def suggest_int(self, name: str, low: int, high: int, *, step: int, log: bool) -> int:
        return int(self.trial.suggest_int(name, low, high, step=step, log=log))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None, log: bool) -> float:
        return float(self.trial.suggest_float(name, low, high, step=step, log=log))

    def suggest_categorical(self, name: str, choices: tuple[Scalar, ...]) -> Scalar:
        value: Scalar = self.trial.suggest_categorical(name, list(choices))
        return value


class OptunaBackend(Backend):
    """Proposes configurations with an Optuna sampler and prunes with an Optuna pruner."""

    name = "optuna"

    def __init__(self, space: SearchSpace, *, algorithm: str, pruner: str, seed: int) -> None:
        """Check that the algorithm and pruner suit the space, then create the backend."""
        super().__init__(space, algorithm=algorithm, pruner=pruner, seed=seed)
        if algorithm not in OPTUNA_ALGORITHMS:
            raise ConfigError(
                f"algorithm {algorithm!r} is not an Optuna algorithm; use one of {', '.join(OPTUNA_ALGORITHMS)} "
                "(random, bayesian and hyperband belong to `backend` keras-tuner)"
            )
        if pruner not in OPTUNA_PRUNERS:
            raise ConfigError(f"pruner {pruner!r} is unknown; use one of {', '.join(OPTUNA_PRUNERS)}")
        self.objectives = space.search.objective
        self.multi_objective = len(self.objectives) > 1
        if self.multi_objective and algorithm in ("cmaes", "gp"):
            raise ConfigError(
                f"algorithm {algorithm!r} cannot optimize {len(self.objectives)} objectives; "
                "use nsga2, tpe or random for a multi-objective search"
            )
        self._prune_metric = self.objectives[0].metric if not self.multi_objective else None
        if self._prune_metric not in PRUNABLE_METRICS:
            self._prune_metric = None

    def sampler(self) -> Any:
        """Return the configured, seeded Optuna sampler."""
        import optuna

        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        seed = self.seed
        if self.algorithm == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if self.algorithm == "grid":
            return optuna.samplers.GridSampler(self._grid(), seed=seed)
        if self.algorithm == "tpe":
            return optuna.samplers.TPESampler(
                seed=seed, multivariate=True, group=True, constant_liar=True, n_startup_trials=5
            )
        if self.algorithm == "gp":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise MissingExtraError(
                    "algorithm 'gp' needs PyTorch; install it with: pip install 'autocnn[gp]'"
                ) from None
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=5)
        if self.algorithm == "cmaes":
            try:
                import cmaes  # noqa: F401
            except ImportError:
                raise MissingExtraError(
                    "algorithm 'cmaes' needs the cmaes package: pip install cmaes"
                ) from None
            return optuna.samplers.CmaEsSampler(
                seed=seed, n_startup_trials=3, independent_sampler=optuna.samplers.TPESampler(seed=seed)
            )
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(20, self._population())))

    def _population(self) -> int:
        max_trials = self.space.search.max_trials or 50
        return max_trials // 3

    def _grid(self) -> dict[str, list[Any]]:
        grid: dict[str, list[Any]] = {}
        for name, dimension in self.space.searched().items():
            if isinstance(dimension, FloatRange) and dimension.step is None:
                raise ConfigError(
                    f"grid search needs a finite space, but {name} is a continuous range "
                    f"({dimension.describe()}); give it a step or a list of values"
                )
            grid[name] = list(dimension.values())
        return grid

    def pruner(self) -> Any:
        """Return the configured Optuna pruner (none for multi-objective studies)."""
        import optuna

        if self._prune_metric is None or self.pruner_name == "none":
            return optuna.pruners.NopPruner()
        if self.pruner_name in PERCENTILE_PRUNERS:
            return optuna.pruners.PercentilePruner(
                PERCENTILE_PRUNERS[self.pruner_name],
                n_startup_trials=2,
                n_warmup_steps=pruning_warmup_epochs(self.space),
            )
        if self.pruner_name == "asha":
            return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        max_epochs = longest_trial_epochs(self.space)
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=max(max_epochs, 1), reduction_factor=3
        )

    def prepare(self, study: Any, *, new: bool) -> None:
        """Enqueue the space's seeds (first trials) when the study is new."""
        if not new:
            return
        searched = self.space.searched()
        for index, seed in enumerate(self.space.seeds):
            flat = seed.flat()
            params = {
                name: flat[name]
                for name, dimension in searched.items()
                if name in flat and dimension.contains(flat[name])
            }
            study.enqueue_trial(
                params, user_attrs={SEED_ATTR: seed.name or f"seed{index + 1}", SEED_INDEX_ATTR: index}
            )

    def propose(self, trial: Any) -> Proposal:
        """Sample a configuration; a seed trial uses its seed configuration verbatim."""
        seed_index = trial.user_attrs.get(SEED_INDEX_ATTR)
        if seed_index is not None and 0 <= int(seed_index) < len(self.space.seeds):
            sample_config(self.space, _TrialSuggester(trial))
            return Proposal(config=self.space.seeds[int(seed_index)], seed_name=trial.user_attrs[SEED_ATTR])
        return Proposal(config=sample_config(self.space, _TrialSuggester(trial)))

    def should_prune(self, trial: Any, record: EpochRecord) -> bool:
        """Report the epoch's validation metric to the pruner and return its decision."""
        if self._prune_metric is None:
            return False
        value = getattr(record, self._prune_metric)
        if value is None:
            return False
        trial.report(float(value), step=record.epoch)
        return bool(trial.should_prune())

    def exhausted(self, study: Any) -> bool:
        """Return whether a grid search has tried every point."""
        import optuna

        sampler = study.sampler
        return isinstance(sampler, optuna.samplers.GridSampler) and sampler.is_exhausted(study)
