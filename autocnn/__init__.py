"""autocnn: find good convolutional networks for image classification with Keras.

The heavy parts (Keras, TensorFlow, Optuna) are imported on first use, so that
``import autocnn`` and ``autocnn --version`` stay fast.

Example:
    >>> import autocnn
    >>> space = autocnn.load_space("quick")
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
    from autocnn.core.callbacks import SearchCallback
    from autocnn.core.session import search
    from autocnn.core.study import Study, load_study
    from autocnn.data import Dataset, dataset_from_arrays, load_dataset
    from autocnn.export import export_model
    from autocnn.model import analyze_architecture, build_model
    from autocnn.planning import plan_space

_LAZY = {
    "analyze_architecture": "autocnn.model",
    "build_model": "autocnn.model",
    "Dataset": "autocnn.data",
    "load_dataset": "autocnn.data",
    "dataset_from_arrays": "autocnn.data",
    "export_model": "autocnn.export",
    "search": "autocnn.core.session",
    "SearchCallback": "autocnn.core.callbacks",
    "Study": "autocnn.core.study",
    "load_study": "autocnn.core.study",
    "plan_space": "autocnn.planning",
}

__all__ = [
    "AutoCNNError",
    "ConfigError",
    "DataError",
    "Dataset",
    "InvalidArchitectureError",
    "SearchCallback",
    "SearchSpace",
    "Study",
    "TrialConfig",
    "__version__",
    "analyze_architecture",
    "build_model",
    "dataset_from_arrays",
    "export_model",
    "load_dataset",
    "load_space",
    "load_study",
    "plan_space",
    "search",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autocnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups find it directly
    return value
