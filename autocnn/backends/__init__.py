"""Backends propose configurations; autocnn's loop trains them and tells the results."""

from __future__ import annotations

from autocnn.backends._base import Backend, Proposal
from autocnn.backends._optuna import OPTUNA_ALGORITHMS, OPTUNA_PRUNERS, OptunaBackend
from autocnn.errors import ConfigError
from autocnn.space import SearchSpace

BACKENDS = ("optuna", "keras-tuner")


def make_backend(name: str, space: SearchSpace, *, algorithm: str, pruner: str, seed: int) -> Backend:
    """Return the backend called ``name`` for ``space``."""
    if name == "optuna":
        return OptunaBackend(space, algorithm=algorithm, pruner=pruner, seed=seed)
    if name == "keras-tuner":
        from autocnn.backends._keras_tuner import KerasTunerBackend  # type: ignore[import-not-found]

        backend: Backend = KerasTunerBackend(space, algorithm=algorithm, pruner=pruner, seed=seed)
        return backend
    raise ConfigError(f"backend {name!r} is unknown; use one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "OPTUNA_ALGORITHMS",
    "OPTUNA_PRUNERS",
    "Backend",
    "OptunaBackend",
    "Proposal",
    "make_backend",
]
