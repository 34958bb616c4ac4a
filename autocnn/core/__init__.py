"""The search core, in the order a search runs.

- :mod:`~autocnn.core.plan`: what a search is, validated once (space, data, limits, backend, tracking)
- :mod:`~autocnn.core.metadata`: the plan and each run as the study stores them
- :mod:`~autocnn.core.storage`: where studies live; opening one and refusing a mismatched one
- :mod:`~autocnn.core.session`: ``search()`` and ``run_worker()``, one hooked session each
- :mod:`~autocnn.core.loop`: the trial loop (ask, check, train, tell, record)
- :mod:`~autocnn.core.workers`: worker processes on this machine and their supervisor
- :mod:`~autocnn.core.lost_trials`: trials left running by dead workers, failed and retried
- :mod:`~autocnn.core.fidelity`: the data trials train on, how long the final retrain may run
- :mod:`~autocnn.core.retrain` and :mod:`~autocnn.core.final_model`: the final model, guarded
- :mod:`~autocnn.core.records` and :mod:`~autocnn.core.study`: what the storage holds, read back
- :mod:`~autocnn.core.callbacks`: the hooks progress displays and trackers implement
- :mod:`~autocnn.core.compat`: the private Optuna / Keras Tuner calls, in one place

Names are imported on first use, so that ``import autocnn`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DatasetRef": "autocnn.core.plan",
    "FinalResult": "autocnn.core.study",
    "LoopEnd": "autocnn.core.records",
    "RungResult": "autocnn.core.records",
    "SearchCallback": "autocnn.core.callbacks",
    "SearchInfo": "autocnn.core.callbacks",
    "SearchPlan": "autocnn.core.plan",
    "Study": "autocnn.core.study",
    "StudyInfo": "autocnn.core.metadata",
    "TrialRecord": "autocnn.core.records",
    "TrialStatus": "autocnn.core.records",
    "load_study": "autocnn.core.study",
    "run_worker": "autocnn.core.session",
    "search": "autocnn.core.session",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autocnn.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
