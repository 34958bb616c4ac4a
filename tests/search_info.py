"""A ``SearchInfo`` for callback tests: what a search tells its callbacks when it starts."""

from __future__ import annotations

from autocnn.core.callbacks import SearchInfo
from autocnn.space import SearchSpace


def search_info(
    space: SearchSpace,
    *,
    study_name: str,
    workdir: str,
    storage: str = "sqlite:///x.db",
    space_file: str | None = None,
    command: str = "",
    versions: dict[str, str] | None = None,
) -> SearchInfo:
    """Return the start of a 2-trial random search of ``space`` on digits."""
    return SearchInfo(
        study_name=study_name,
        storage=storage,
        workdir=workdir,
        space=space,
        space_file=space_file,
        dataset_name="digits",
        dataset_fingerprint="abc123",
        input_shape=(8, 8, 1),
        num_classes=10,
        backend="optuna",
        algorithm="random",
        pruner="none",
        max_trials=2,
        timeout=None,
        seed=0,
        resumed=False,
        trials_before=0,
        command_line=command or "autocnn search",
        versions=versions or {},
    )
