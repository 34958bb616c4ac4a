"""Turn autocnn's records into MLflow params, metrics and tags (plain dicts; secrets masked)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from autocnn.core.storage import mask_secrets

if TYPE_CHECKING:
    from autocnn.config import TrialConfig
    from autocnn.core.callbacks import SearchInfo
    from autocnn.core.records import EpochRecord, TrialRecord
    from autocnn.core.study import FinalResult

MAX_PARAM_LENGTH = 6000
MAX_TAG_LENGTH = 8000
EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")

RUN_STATUS = {
    "complete": "FINISHED",
    "pruned": "KILLED",
    "interrupted": "KILLED",
    "failed": "FAILED",
    "rejected": "FAILED",
}
"""The MLflow run status of each trial status."""


def text_value(value: object, *, limit: int = MAX_TAG_LENGTH) -> str:
    """Return ``value`` as text for a param or tag: masked, ``true``/``false`` for booleans, cut to ``limit``.

    Example:
        >>> text_value(True), text_value(0.001), text_value("postgresql://u:pw@h/db")
        ('true', '0.001', 'postgresql://u:***@h/db')

    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "none"
    else:
        text = mask_secrets(str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def trial_params(config: TrialConfig) -> dict[str, str]:
    """Return every value of a trial configuration under its readable flat name (``block1.filters``)."""
    return {key: text_value(value, limit=MAX_PARAM_LENGTH) for key, value in config.flat().items()}


def search_params(info: SearchInfo) -> dict[str, str]:
    """Return the parameters of a search invocation: data, backend, budget, storage and versions."""
    objectives = ", ".join(f"{item.direction} {item.metric}" for item in info.space.search.objective)
    values: dict[str, object] = {
        "study": info.study_name,
        "dataset": info.dataset_name,
        "dataset_fingerprint": info.dataset_fingerprint,
        "input_shape": "x".join(str(size) for size in info.input_shape),
        "num_classes": info.num_classes,
        "space": info.space.name,
        "space_file": info.space_file,
        "backend": info.backend,
        "algorithm": info.algorithm,
        "pruner": info.pruner,
        "seed": info.seed,
        "max_trials": info.max_trials,
        "timeout_s": None if info.timeout is None else f"{info.timeout:g}",
        "objective": objectives,
        "storage": info.storage,
        "workdir": info.workdir,
        "resumed": info.resumed,
        "trials_before": info.trials_before,
    }
    values.update({f"version.{package}": version for package, version in info.versions.items()})
    return {key: text_value(value, limit=MAX_PARAM_LENGTH) for key, value in values.items()}


def search_tags(info: SearchInfo) -> dict[str, str]:
    """Return the tags of a search run: its kind, study, command line and a description for the UI."""
    command = text_value(info.command_line)
    state = f"continued after {info.trials_before} trials" if info.resumed else "new study"
    what = "autocnn worker" if info.worker else "autocnn search"
    note = (
        f"{what} of study **{info.study_name}** ({state}) on dataset **{info.dataset_name}** "
        f"with {info.backend} · {info.algorithm} · pruner {info.pruner}.\n\n"
        f"Command: `{command}`\n\nEach nested run is one trial."
    )
    return {
        "kind": "worker" if info.worker else "search",
        "study": text_value(info.study_name),
        "command_line": command,
        "mlflow.source.name": text_value(command.split(" ", 1)[0] or "autocnn"),
        "mlflow.source.type": "LOCAL",
        "mlflow.note.content": text_value(note),
    }


def space_text(info: SearchInfo) -> str:
    """Return the search space as YAML: the file as written when there is one, masked."""
    if info.space_file is not None and Path(info.space_file).is_file():
        text = Path(info.space_file).read_text(encoding="utf-8")
    else:
        text = yaml.safe_dump(info.space.model_dump(mode="json"), sort_keys=False)
    return mask_secrets(text)


def trial_start_tags(
    number: int, *, study: str, parent_run_id: str, seed_name: str, architecture: str
) -> dict[str, str]:
    """Return the tags of a trial run when it starts (its state is ``running``)."""
    tags = {
        "mlflow.parentRunId": parent_run_id,
        "kind": "trial",
        "study": text_value(study),
        "trial": str(number),
        "state": "running",
        "architecture": text_value(architecture),
    }
    if seed_name:
        tags["seed"] = text_value(seed_name)
    return tags


def trial_end_tags(record: TrialRecord) -> dict[str, str]:
    """Return the tags of a finished trial: its state, and why it failed, was rejected or pruned."""
    tags = {"trial": str(record.number), "state": record.status}
    if record.seed_name:
        tags["seed"] = text_value(record.seed_name)
    if record.reason:
        tags["reason"] = text_value(record.reason)
        tags["mlflow.note.content"] = text_value(f"Trial {record.number} {record.status}: {record.reason}")
    if record.retry_of is not None:
        tags["retry_of"] = str(record.retry_of)
    return tags


def epoch_metrics(record: EpochRecord) -> dict[str, float]:
    """Return one epoch's metrics (validation metrics only when present)."""
    values = {
        "loss": record.loss,
        "accuracy": record.accuracy,
        "val_loss": record.val_loss,
        "val_accuracy": record.val_accuracy,
    }
    return {key: float(value) for key, value in values.items() if value is not None}


def trial_metrics(record: TrialRecord, *, logged: dict[str, float]) -> dict[str, float]:
    """Return a finished trial's metrics that ``logged`` (the last per-epoch values) does not already hold.

    Params count, FLOPs, train time and the wall time (``duration_s``) are always included.
    """
    metrics = {
        key: float(value) for key, value in record.metrics.items() if not _same(logged.get(key), value)
    }
    if record.duration is not None:
        metrics["duration_s"] = record.duration
    return metrics


def search_end_metrics(records: list[TrialRecord], best: TrialRecord | None) -> dict[str, float]:
    """Return the trial counts by status and the best trial's number and metrics."""
    metrics: dict[str, float] = {}
    for record in records:
        key = f"trials.{record.status}"
        metrics[key] = metrics.get(key, 0.0) + 1.0
    if best is not None:
        metrics["best.trial"] = float(best.number)
        metrics.update({f"best.{key}": float(value) for key, value in best.metrics.items()})
    return metrics


def final_metrics(final: FinalResult) -> dict[str, float]:
    """Return the retrained best model's test metrics."""
    metrics = {
        "final.trial": float(final.trial_number),
        "final.test_accuracy": final.test_accuracy,
        "final.test_loss": final.test_loss,
        "final.epochs": float(final.epochs),
        "final.train_seconds": final.train_seconds,
    }
    guard = {
        "final.guard_accuracy": final.guard_accuracy,
        "final.retrain_guard_accuracy": final.retrain_guard_accuracy,
        "final.trial_guard_accuracy": final.trial_guard_accuracy,
    }
    choice = final.test_time_views
    views = {
        "final.views": float(choice.views.count if choice.kept else 1) if choice is not None else None,
        "final.views_guard_accuracy": None if choice is None else choice.guard_accuracy,
        "final.plain_guard_accuracy": None if choice is None else choice.plain_guard_accuracy,
        "final.plain_test_accuracy": final.plain_test_accuracy,
    }
    metrics.update({key: value for key, value in {**guard, **views}.items() if value is not None})
    return metrics


def final_tags(final: FinalResult) -> dict[str, str]:
    """Return which model the search kept as final, and why (the reason is empty when it kept the retrain)."""
    return {
        "final.trial": str(final.trial_number),
        "final.kept": final.kept.value,
        "final.kept_reason": final.kept_reason or "the retrain held up on the held-back validation images",
    }


def config_json(config: TrialConfig) -> str:
    """Return a trial configuration as indented JSON (masked), for a run artifact."""
    return mask_secrets(json.dumps(config.to_dict(), indent=2, sort_keys=True)) + "\n"


def _same(previous: float | None, value: float) -> bool:
    if previous is None:
        return False
    if math.isnan(previous) and math.isnan(value):
        return True
    return previous == value
