"""The Keras Tuner backend: its oracles (random, bayesian, hyperband) driven by autocnn's loop.

autocnn keeps control of training, tracking, memory and storage: the oracle only proposes
hyperparameter values and hears scores. Its files live in the study's work directory, under a
project named after the space's hash, so a changed space never reloads an old project.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from autocnn.backends._base import (
    PERCENTILE_PRUNERS,
    PRUNERS,
    Backend,
    Proposal,
    longest_trial_epochs,
    pruning_warmup_epochs,
)
from autocnn.core.compat import oracle_file, set_oracle_project
from autocnn.core.records import CURVE_ATTR, SEED_ATTR, SEED_INDEX_ATTR, STATUS_ATTR, EpochRecord, TrialStatus
from autocnn.errors import ConfigError
from autocnn.space import (
    Choice,
    Dimension,
    Fixed,
    FloatRange,
    IntRange,
    SearchSpace,
    sample_config,
    space_hash,
)
from autocnn.space._dimensions import Scalar

KERAS_TUNER_ALGORITHMS = ("random", "bayesian", "hyperband")
TUNER_ID = "autocnn"
# Hyperband repeats its brackets until --max-trials or --timeout ends the search, like the other algorithms.
HYPERBAND_ITERATIONS = 1000
_MEDIAN_STARTUP = 2


class _ValuesSuggester:
    """Reads the values a Keras Tuner trial holds, by autocnn's flat parameter names."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def _get(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"the Keras Tuner trial has no value for {name!r}")
        return self.values[name]

    def suggest_int(self, name: str, low: int, high: int, *, step: int, log: bool) -> int:
        return int(self._get(name))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None, log: bool) -> float:
        return float(self._get(name))

    def suggest_categorical(self, name: str, choices: tuple[Scalar, ...]) -> Scalar:
        value: Scalar = self._get(name)
        return value


def space_to_hyperparameters(space: SearchSpace) -> Any:
    """Return Keras Tuner HyperParameters for ``space``; per-block entries are conditional on the count."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    searched = space.searched()
    count = space.model.blocks.count
    _declare(hp, "blocks.count", count)
    layers = space.model.head.dense_layers
    _declare(hp, "head.dense_layers", layers)
    for name, dimension in searched.items():
        if name in ("blocks.count", "head.dense_layers"):
            continue
        if name.startswith("block"):
            number = int(name.split(".", 1)[0][len("block") :])
            needed = [value for value in count.values() if int(value) >= number]
            _declare_if(
                hp, name, dimension, parent="blocks.count", parent_dimension=count, parent_values=needed
            )
        elif name.startswith("head.dense") and name != "head.dense_layers":
            number = int(name.split(".")[1][len("dense") :])
            needed = [value for value in layers.values() if int(value) >= number]
            _declare_if(
                hp, name, dimension, parent="head.dense_layers", parent_dimension=layers, parent_values=needed
            )
        else:
            _declare(hp, name, dimension)
    return hp


def _declare_if(
    hp: Any,
    name: str,
    dimension: Dimension,
    *,
    parent: str,
    parent_dimension: Dimension,
    parent_values: list[Any],
) -> None:
    if isinstance(parent_dimension, Fixed):
        _declare(hp, name, dimension)
        return
    with hp.conditional_scope(parent, [int(value) for value in parent_values]):
        _declare(hp, name, dimension)


def _declare(hp: Any, name: str, dimension: Dimension) -> None:
    if isinstance(dimension, Fixed):
        return
    if isinstance(dimension, Choice):
        if all(isinstance(option, bool) for option in dimension.options):
            hp.Boolean(name)
        else:
            hp.Choice(name, list(dimension.options), ordered=False)
    elif isinstance(dimension, IntRange):
        hp.Int(
            name,
            dimension.low,
            dimension.high,
            step=None if dimension.log else dimension.step,
            sampling="log" if dimension.log else "linear",
        )
    elif isinstance(dimension, FloatRange):
        hp.Float(
            name,
            dimension.low,
            dimension.high,
            step=dimension.step,
            sampling="log" if dimension.log else "linear",
        )


class KerasTunerBackend(Backend):
    """Proposes configurations with a Keras Tuner oracle; Hyperband drives each trial's epochs."""

    name = "keras-tuner"

    def __init__(self, space: SearchSpace, *, algorithm: str, pruner: str, seed: int) -> None:
        """Check that the algorithm suits the space, then create the backend."""
        super().__init__(space, algorithm=algorithm, pruner=pruner, seed=seed)
        if algorithm not in KERAS_TUNER_ALGORITHMS:
            raise ConfigError(
                f"algorithm {algorithm!r} is not a Keras Tuner algorithm; use one of "
                f"{', '.join(KERAS_TUNER_ALGORITHMS)} (or `backend` optuna)"
            )
        if pruner not in PRUNERS:
            raise ConfigError(f"pruner {pruner!r} is unknown; use one of {', '.join(PRUNERS)}")
        if len(space.search.objective) > 1:
            raise ConfigError("Keras Tuner optimizes one objective; use `backend` optuna for several")
        objective = space.search.objective[0]
        if objective.metric not in ("val_accuracy", "val_loss"):
            raise ConfigError("the Keras Tuner backend optimizes val_accuracy or val_loss only")
        self.objective = objective
        self.oracle: Any = None
        self.directory: Path | None = None
        self._trials: dict[int, Any] = {}
        self._seed_queue: list[int] = []
        self._curves: list[list[float]] = []
        self._next: Any = None
        self._warmup_epochs = pruning_warmup_epochs(space)

    def bind(self, study: Any, *, directory: Path) -> None:
        """Create (or reload) the oracle with its files under ``directory``."""
        import keras_tuner

        objective = keras_tuner.Objective(
            self.objective.metric, "max" if self.objective.direction == "maximize" else "min"
        )
        common: dict[str, Any] = {
            "objective": objective,
            "hyperparameters": space_to_hyperparameters(self.space),
            "allow_new_entries": False,
            "tune_new_entries": False,
            "seed": self.seed + 1,  # Keras Tuner replaces a seed of 0 (falsy) with a random one
            "max_consecutive_failed_trials": 10**9,
        }
        if self.algorithm == "random":
            oracle = keras_tuner.oracles.RandomSearchOracle(max_trials=10**6, **common)
        elif self.algorithm == "bayesian":
            oracle = keras_tuner.oracles.BayesianOptimizationOracle(
                max_trials=10**6, num_initial_points=3, **common
            )
        else:
            max_epochs = longest_trial_epochs(self.space)
            oracle = keras_tuner.oracles.HyperbandOracle(
                max_epochs=max(max_epochs, 2), factor=3, **common, hyperband_iterations=HYPERBAND_ITERATIONS
            )
        oracle.verbose = 0
        self.directory = directory
        project = f"kt_{space_hash(self.space)}"
        set_oracle_project(oracle, directory=str(directory), project=project)
        if Path(oracle_file(oracle)).exists():
            oracle.reload()
        self.oracle = oracle

    def prepare(self, study: Any, *, new: bool) -> None:
        """Queue the space's seeds in a new study; reload finished curves (median pruning) in an old one."""
        if new:
            self._seed_queue = list(range(len(self.space.seeds)))
            return
        for trial in study.get_trials(deepcopy=False):
            if trial.user_attrs.get(STATUS_ATTR) == "complete":
                self._remember_curve(trial.user_attrs.get(CURVE_ATTR))

    def propose(self, trial: Any) -> Proposal:
        """Return a seed configuration first, then the oracle's proposals."""
        if self.oracle is None:
            raise RuntimeError("KerasTunerBackend.bind() must be called before propose()")
        if self._seed_queue:
            index = self._seed_queue.pop(0)
            seed = self.space.seeds[index]
            name = seed.name or f"seed{index + 1}"
            trial.set_user_attr(SEED_ATTR, name)
            trial.set_user_attr(SEED_INDEX_ATTR, index)
            return Proposal(config=seed, seed_name=name)
        kt_trial = self._next if self._next is not None else self.oracle.create_trial(TUNER_ID)
        self._next = None
        if kt_trial.status != "RUNNING":
            raise ConfigError(f"Keras Tuner has nothing more to propose (status {kt_trial.status})")
        values = dict(kt_trial.hyperparameters.values)
        self._trials[trial.number] = kt_trial
        trial.set_user_attr("keras_tuner_trial", kt_trial.trial_id)
        config = sample_config(self.space, _ValuesSuggester(values))
        max_epochs = values.get("tuner/epochs")
        initial_epoch = int(values.get("tuner/initial_epoch", 0))
        previous = values.get("tuner/trial_id")
        initial_weights = None
        if previous is not None and initial_epoch > 0:
            path = self._weights_file(str(previous))
            if path.exists():
                initial_weights = str(path)
            else:
                initial_epoch = 0
        return Proposal(
            config=config,
            max_epochs=None if max_epochs is None else int(max_epochs),
            initial_weights=initial_weights,
            initial_epoch=initial_epoch if initial_weights else 0,
        )

    def weights_path(self, trial: Any) -> Path | None:
        """Return where the loop saves the trained weights (Hyperband continues trials from them)."""
        kt_trial = self._trials.get(trial.number)
        if kt_trial is None or self.algorithm != "hyperband":
            return None
        return self._weights_file(kt_trial.trial_id)

    def _weights_file(self, kt_trial_id: str) -> Path:
        assert self.directory is not None
        return self.directory / "weights" / f"{kt_trial_id}.weights.h5"

    def should_prune(self, trial: Any, record: EpochRecord) -> bool:
        """Report the epoch to the oracle; stop a trial below the median (or lower quartile) of finished ones."""
        kt_trial = self._trials.get(trial.number)
        value = getattr(record, self.objective.metric)
        if kt_trial is not None and value is not None:
            self.oracle.update_trial(
                kt_trial.trial_id, {self.objective.metric: float(value)}, step=record.epoch
            )
        judged = self.algorithm != "hyperband" and self.pruner_name != "none"
        if not judged or value is None or record.epoch < self._warmup_epochs:
            return False
        # asha and hyperband name Optuna's pruners; here they prune as the median does
        kept = PERCENTILE_PRUNERS.get(self.pruner_name, PERCENTILE_PRUNERS["median"])
        at_epoch = [curve[record.epoch - 1] for curve in self._curves if len(curve) >= record.epoch]
        if len(at_epoch) < _MEDIAN_STARTUP:
            return False
        if self.objective.direction == "maximize":
            return float(value) < float(np.percentile(at_epoch, 100 - kept))
        return float(value) > float(np.percentile(at_epoch, kept))

    def finish(
        self, trial: Any, *, status: TrialStatus, values: tuple[float, ...] | None, weights_path: str | None
    ) -> None:
        """End the oracle's trial: completed (also when pruned, with its last score) or failed."""
        kt_trial = self._trials.pop(trial.number, None)
        if status is TrialStatus.COMPLETE:
            self._remember_curve(trial.user_attrs.get(CURVE_ATTR))
        if kt_trial is None:
            return
        previous = kt_trial.hyperparameters.values.get("tuner/trial_id")
        if previous is not None:
            self._weights_file(str(previous)).unlink(missing_ok=True)
        if status in (TrialStatus.COMPLETE, TrialStatus.PRUNED) and kt_trial.metrics.exists(
            self.objective.metric
        ):
            kt_trial.status = "COMPLETED"
        else:
            kt_trial.status = "FAILED"
            kt_trial.message = status
        self.oracle.end_trial(kt_trial)

    def _remember_curve(self, curve: list[dict[str, Any]] | None) -> None:
        if curve:
            self._curves.append([epoch.get(self.objective.metric) or 0.0 for epoch in curve])

    def exhausted(self, study: Any) -> bool:
        """Return whether the oracle is done (Hyperband's brackets all run); asks it for the next trial."""
        if self._seed_queue or self.oracle is None:
            return False
        if self._next is None:
            self._next = self.oracle.create_trial(TUNER_ID)
        stopped: bool = self._next.status == "STOPPED"
        return stopped

    def close(self) -> None:
        """Remove saved weights no bracket can continue from (only the best model is kept)."""
        if self.directory is not None and not self._trials:
            shutil.rmtree(self.directory / "weights", ignore_errors=True)
