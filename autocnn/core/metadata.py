"""What a study records about itself and each run, read and written here only.

The study's user attributes hold two things: :class:`StudyInfo` (what the study was created
with, written once) and a list of :class:`RunRecord` (one per process that ran or joined the
search). Everything else reads them through :func:`read_info` and :func:`read_runs`; the
attribute keys appear in this module only.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from autocnn.core.plan import BackendSettings, DatasetRef, RunLimits, SearchPlan
from autocnn.errors import ConfigError
from autocnn.space import Objective, SearchSpace, parse_space, space_hash

if TYPE_CHECKING:
    from autocnn.data import Dataset

INFO_ATTR = "autocnn"
RUNS_ATTR = "runs"
KEPT_RUNS = 50
DEFAULT_OBJECTIVES = (Objective(metric="val_accuracy", direction="maximize"),)
DEFAULT_BACKEND = BackendSettings(name="optuna", algorithm="tpe", pruner="median")


@dataclass(frozen=True)
class StudyInfo:
    """What a study was created with: its space, data, objectives and backend (empty when unknown)."""

    space_name: str = ""
    space_file: str | None = None
    space_yaml: str = ""
    space_hash: str = ""  # what a resumed search compares its space with
    objectives: tuple[Objective, ...] = DEFAULT_OBJECTIVES
    backend: BackendSettings = DEFAULT_BACKEND
    dataset: DatasetRef | None = None
    input_shape: tuple[int, int, int] | None = None
    num_classes: int | None = None
    class_names: tuple[str, ...] = ()
    trial_train_fraction: float = 1.0
    retrain_epochs: int | None = None
    created: str = ""

    @property
    def recorded(self) -> bool:
        """Whether autocnn created the study (a study made elsewhere records nothing)."""
        return bool(self.space_hash)

    def space(self, *, study: str) -> SearchSpace:
        """Return the recorded search space, parsed again."""
        if not self.space_yaml:
            raise ConfigError(
                f"study {study!r} was not created by autocnn search; start it with autocnn search first"
            )
        return parse_space(self.space_yaml, source=f"study {study!r} space")

    @classmethod
    def of(cls, plan: SearchPlan, dataset: Dataset) -> StudyInfo:
        """Return the info of a study created by ``plan`` on ``dataset``."""
        settings = plan.space.search
        return cls(
            space_name=plan.space.name,
            space_file=plan.space_file,
            space_yaml=plan.space_yaml or _space_text(plan.space, plan.space_file),
            space_hash=space_hash(plan.space),
            objectives=tuple(settings.objective),
            backend=plan.backend,
            dataset=plan.dataset,
            input_shape=dataset.input_shape,
            num_classes=dataset.num_classes,
            class_names=tuple(dataset.class_names),
            trial_train_fraction=settings.trial_train_fraction,
            retrain_epochs=settings.retrain_epochs,
            created=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        )

    def to_attrs(self) -> dict[str, Any]:
        """Return the JSON-ready form the study stores."""
        dataset = self.dataset
        return {
            "space_name": self.space_name,
            "space_file": self.space_file,
            "space_yaml": self.space_yaml,
            "space_hash": self.space_hash,
            "objective": [objective.model_dump() for objective in self.objectives],
            "backend": self.backend.name,
            "algorithm": self.backend.algorithm,
            "pruner": self.backend.pruner,
            "dataset": None if dataset is None else dataset.name,
            "dataset_location": None if dataset is None else dataset.location,
            "dataset_fingerprint": None if dataset is None else dataset.fingerprint,
            "validation_fraction": None if dataset is None else dataset.validation_fraction,
            "dataset_seed": None if dataset is None else dataset.seed,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "trial_train_fraction": self.trial_train_fraction,
            "retrain_epochs": self.retrain_epochs,
            "created": self.created,
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any], *, runs: tuple[RunRecord, ...] = ()) -> StudyInfo:
        """Read the stored form; keys a study of an older version lacks take their defaults.

        Studies made before the split's seed was recorded used the seed of their first run.
        """
        if not attrs:
            return cls()
        seed = attrs.get("dataset_seed")
        if seed is None:
            seed = next((run.seed for run in runs if run.seed is not None), 0)
        dataset = (
            DatasetRef(
                name=str(attrs["dataset"]),
                location=attrs.get("dataset_location", attrs["dataset"]),
                fingerprint=str(attrs.get("dataset_fingerprint") or ""),
                validation_fraction=float(attrs.get("validation_fraction") or 0.1),
                seed=int(seed),
            )
            if attrs.get("dataset")
            else None
        )
        shape = attrs.get("input_shape")
        return cls(
            space_name=str(attrs.get("space_name") or ""),
            space_file=attrs.get("space_file"),
            space_yaml=str(attrs.get("space_yaml") or ""),
            space_hash=str(attrs.get("space_hash") or ""),
            objectives=tuple(Objective(**item) for item in attrs.get("objective") or ())
            or DEFAULT_OBJECTIVES,
            backend=BackendSettings(
                name=str(attrs.get("backend") or "optuna"),
                algorithm=str(attrs.get("algorithm") or "tpe"),
                pruner=str(attrs.get("pruner") or "median"),
            ),
            dataset=dataset,
            input_shape=(int(shape[0]), int(shape[1]), int(shape[2])) if shape and len(shape) == 3 else None,
            num_classes=None if attrs.get("num_classes") is None else int(attrs["num_classes"]),
            class_names=tuple(str(name) for name in attrs.get("class_names") or ()),
            trial_train_fraction=float(attrs.get("trial_train_fraction") or 1.0),
            retrain_epochs=attrs.get("retrain_epochs"),
            created=str(attrs.get("created") or ""),
        )


@dataclass(frozen=True)
class RunRecord:
    """One process that ran or joined the search: how it was started, where, and its limits."""

    id: str = ""
    command_line: str = ""
    started: str = ""
    worker: str = ""  # host:pid
    versions: dict[str, str] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    backend: BackendSettings | None = None
    seed: int | None = None
    limits: RunLimits | None = None  # None in studies of older versions
    deadline_at: float | None = None  # the budget's end, seconds since the epoch (time.time())
    tracked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form the study stores."""
        limits = self.limits
        return {
            "id": self.id,
            "command_line": self.command_line,
            "started": self.started,
            "worker": self.worker,
            "versions": dict(self.versions),
            "hardware": dict(self.hardware),
            "backend": None if self.backend is None else self.backend.name,
            "algorithm": None if self.backend is None else self.backend.algorithm,
            "pruner": None if self.backend is None else self.backend.pruner,
            "seed": self.seed,
            "limits": None
            if limits is None
            else {
                "max_trials": limits.max_trials,
                "timeout_s": limits.timeout_s,
                "retrain": limits.retrain,
                "max_consecutive_failures": limits.max_consecutive_failures,
                "recycle_after": limits.recycle_after,
                "max_rss_mb": limits.max_rss_mb,
            },
            "deadline_at": self.deadline_at,
            "tracked": self.tracked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Read the stored form, tolerating the shorter records of older versions."""
        limits = data.get("limits")
        return cls(
            id=str(data.get("id") or ""),
            command_line=str(data.get("command_line") or ""),
            started=str(data.get("started") or ""),
            worker=str(data.get("worker") or ""),
            versions={str(key): str(value) for key, value in dict(data.get("versions") or {}).items()},
            hardware=dict(data.get("hardware") or {}),
            backend=BackendSettings(
                name=str(data["backend"]),
                algorithm=str(data.get("algorithm") or "?"),
                pruner=str(data.get("pruner") or "?"),
            )
            if data.get("backend")
            else None,
            seed=data.get("seed") if isinstance(data.get("seed"), int) else None,
            limits=None if not isinstance(limits, dict) else RunLimits(**limits),
            deadline_at=data.get("deadline_at"),
            tracked=bool(data.get("tracked", False)),
        )


def new_run(plan: SearchPlan, *, command_line: str, deadline_at: float | None) -> RunRecord:
    """Return the record of a run about to start on this machine."""
    from autocnn._system import hardware, package_versions, worker_id
    from autocnn.core.storage import mask_secrets

    return RunRecord(
        id=uuid.uuid4().hex[:12],
        command_line=mask_secrets(command_line),
        started=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        worker=worker_id(),
        versions=package_versions(),
        hardware=hardware(),
        backend=plan.backend,
        seed=plan.seed,
        limits=plan.limits,
        deadline_at=deadline_at,
        tracked=plan.tracked,
    )


def read_info(optuna_study: Any) -> StudyInfo:
    """Return the study's info (empty when autocnn did not create it)."""
    return StudyInfo.from_attrs(
        dict(optuna_study.user_attrs.get(INFO_ATTR) or {}), runs=read_runs(optuna_study)
    )


def write_info(optuna_study: Any, info: StudyInfo) -> None:
    """Record the study's info (once, when the study is created)."""
    optuna_study.set_user_attr(INFO_ATTR, info.to_attrs())


def read_runs(optuna_study: Any) -> tuple[RunRecord, ...]:
    """Return the study's runs, oldest first (the last ``KEPT_RUNS``)."""
    return tuple(
        RunRecord.from_dict(item)
        for item in optuna_study.user_attrs.get(RUNS_ATTR, [])
        if isinstance(item, dict)
    )


def append_run(optuna_study: Any, run: RunRecord) -> None:
    """Add ``run`` to the study's runs, keeping the last ``KEPT_RUNS``."""
    runs = [*optuna_study.user_attrs.get(RUNS_ATTR, []), run.to_dict()]
    optuna_study.set_user_attr(RUNS_ATTR, runs[-KEPT_RUNS:])


def find_run(optuna_study: Any, run_id: str, *, study: str) -> RunRecord:
    """Return the run ``run_id`` of the study; ConfigError if it has none such."""
    for run in read_runs(optuna_study):
        if run.id == run_id:
            return run
    raise ConfigError(f"study {study!r} has no run {run_id!r}; `run` must be one of its runs' ids")


def plan_from_study(info: StudyInfo, *, study: str, run: RunRecord | None, limits: RunLimits) -> SearchPlan:
    """Return the plan a worker runs: the study's space, data and backend, with ``limits``."""
    if info.dataset is None:
        raise ConfigError(f"study {study!r} does not record its dataset; start it with autocnn search")
    return SearchPlan(
        study=study,
        space=info.space(study=study),
        space_file=info.space_file,
        dataset=info.dataset,
        backend=info.backend,
        limits=limits,
        seed=info.dataset.seed,
        tracked=False if run is None else run.tracked,
    )


def _space_text(space: SearchSpace, space_file: str | None) -> str:
    if space_file is not None and Path(space_file).is_file():
        return Path(space_file).read_text(encoding="utf-8")
    return yaml.safe_dump(space.model_dump(mode="json"), sort_keys=False)
