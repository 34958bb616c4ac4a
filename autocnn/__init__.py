"""autocnn: find good convolutional networks for image classification with Keras.

The heavy parts (Keras, TensorFlow, Optuna) are imported on first use, so that
``import autocnn`` and ``autocnn --version`` stay fast.

Example:
    >>> import autocnn
    >>> space = autocnn.load_space("search_spaces/quick.yaml")
    >>> space.search.algorithm
    'tpe'

"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from autocnn._quiet import quiet_tensorflow
from autocnn._version import __version__
from autocnn.config import TrialConfig
from autocnn.errors import AutoCNNError, ConfigError, DataError, InvalidArchitectureError
from autocnn.space import SearchSpace, load_space

quiet_tensorflow()

if TYPE_CHECKING:
    from autocnn.model import analyze_architecture, build_model

_LAZY = {
    "build_model": "autocnn.model",
    "analyze_architecture": "autocnn.model",
}

__all__ = [
    "AutoCNNError",
    "ConfigError",
    "DataError",
    "InvalidArchitectureError",
    "SearchSpace",
    "TrialConfig",
    "__version__",
    "analyze_architecture",
    "build_model",
    "load_space",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autocnn' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
