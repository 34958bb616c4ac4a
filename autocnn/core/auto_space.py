"""``space="auto"``: the planner's space for the data and budget, or the one a continued study was planned with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autocnn.core.plan import parse_timeout
from autocnn.space import SearchSettings

if TYPE_CHECKING:
    from autocnn.data import Dataset
    from autocnn.space import SearchSpace

AUTO_SPACE = "auto"
PLANNED_NAME = "planned"


def auto_space(
    dataset: str | Path | Dataset,
    *,
    study: str | None,
    url: str,
    timeout: float | str | None,
    max_trials: int | None,
    seed: int | None,
) -> tuple[SearchSpace, str, str]:
    """Return the planned space, its commented YAML and a one-line summary.

    A study that exists already keeps the space it was planned with: planning again would measure
    this machine again and give a slightly different space, which the study would refuse.
    """
    from autocnn.data import Dataset, load_dataset
    from autocnn.planning import plan_space

    settings = SearchSettings()
    data = (
        dataset
        if isinstance(dataset, Dataset)
        else load_dataset(
            dataset,
            validation_fraction=settings.validation_fraction,
            seed=settings.seed if seed is None else seed,
        )
    )
    name = study or f"{PLANNED_NAME}_{data.name}"
    recorded = _recorded_space(url, name)
    if recorded is not None:
        space, text = recorded
        return space, text, f"planned space: the one study {name} was planned with"
    plan = plan_space(
        data,
        timeout=None if timeout is None else parse_timeout(timeout),
        max_trials=max_trials,
        name=PLANNED_NAME,
    )
    return plan.space, plan.yaml, plan.summary


def _recorded_space(url: str, name: str) -> tuple[SearchSpace, str] | None:
    import optuna

    from autocnn.core.metadata import read_info
    from autocnn.core.storage import open_storage

    storage = open_storage(url)
    if name not in {summary.study_name for summary in optuna.get_all_study_summaries(storage)}:
        return None
    info = read_info(optuna.load_study(study_name=name, storage=storage))
    if not info.recorded:
        return None
    return info.space(study=name), info.space_yaml
