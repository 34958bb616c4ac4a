"""Helpers that build in-memory studies from a real study's trials."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def memory_study(
    source: Any,
    trials: list[Any],
    *,
    tmp_path: Path,
    name: str = "memory",
    directions: list[str] | None = None,
    info: dict[str, Any] | None = None,
) -> Any:
    """Return a Study over an in-memory Optuna study holding ``trials`` (FrozenTrials) and ``source``'s attrs."""
    import optuna

    from autocnn.core.metadata import INFO_ATTR as STUDY_ATTR
    from autocnn.core.study import Study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    attrs = source.optuna_study.user_attrs if source is not None else {}
    study_info = copy.deepcopy(attrs.get(STUDY_ATTR, {})) if info is None else info
    optuna_study = optuna.create_study(
        study_name=name,
        directions=directions or [o["direction"] for o in study_info.get("objective", [])] or None,
    )
    if study_info:
        optuna_study.set_user_attr(STUDY_ATTR, study_info)
    if "runs" in attrs:
        optuna_study.set_user_attr("runs", attrs["runs"])
    for trial in trials:
        optuna_study.add_trial(trial)
    return Study(optuna_study, storage_url="in-memory", workdir=tmp_path / "runs")


def copy_trial(trial: Any, **changes: Any) -> Any:
    """Return a FrozenTrial like ``trial`` (no intermediate values), with ``changes`` applied."""
    import optuna

    fields = {
        "state": trial.state,
        "values": trial.values,
        "params": trial.params,
        "distributions": trial.distributions,
        "user_attrs": copy.deepcopy(trial.user_attrs),
    }
    fields.update(changes)
    return optuna.trial.create_trial(**fields)


def balanced_info(source: Any) -> dict[str, Any]:
    """Return a copy of ``source``'s recorded study info whose space judges trials by balanced accuracy."""
    from autocnn.core.metadata import INFO_ATTR as STUDY_ATTR

    info = copy.deepcopy(source.optuna_study.user_attrs[STUDY_ATTR])
    assert "search:\n" in info["space_yaml"]
    info["space_yaml"] = info["space_yaml"].replace("search:\n", "search:\n  balanced_validation: true\n")
    return info
