"""A study: the records of one search in its storage, the leaderboard, the best config and model."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autocnn._files import write_text_atomically
from autocnn.config import TrialConfig
from autocnn.core.final_model import FinalSource
from autocnn.core.metadata import RunRecord, StudyInfo, read_info, read_runs
from autocnn.core.records import RungResult, TrialRecord, TrialStatus, record_from_trial
from autocnn.core.storage import DEFAULT_WORKDIR, mask_secrets, open_storage, resolve_storage_url
from autocnn.core.test_time import ViewChoice
from autocnn.errors import ConfigError, SearchError

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from autocnn.core.augmentation_check import AugmentationCheckResult
    from autocnn.data import Dataset
    from autocnn.export import ExportResult
    from autocnn.reporting._inline import PlotImage
    from autocnn.space import Objective

FINAL_ATTR = "final"
TRIAL_MODELS_DIR = "trial_models"
RANKED_STATUSES = (TrialStatus.COMPLETE,)


@dataclass(frozen=True)
class FinalResult:
    """The best configuration retrained on train + validation and evaluated once on the test split."""

    trial_number: int
    config: TrialConfig
    test_accuracy: float
    test_loss: float
    epochs: int
    train_seconds: float
    model_path: str
    config_path: str
    kept: FinalSource = FinalSource.RETRAINED
    kept_reason: str = ""  # why the kept model is not the retrain as it is; "" when it is
    guard_images: int = 0  # validation images held back from the retrain to judge it
    guard_accuracy: float | None = None  # the kept model's accuracy on them
    retrain_guard_accuracy: float | None = None
    trial_guard_accuracy: float | None = None  # the trial's own model's, when it was saved
    test_time_views: ViewChoice | None = None  # the views tried on the guard; None when none were
    plain_test_accuracy: float | None = None  # the network on the image alone, when views are averaged

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["config"] = self.config.to_dict()
        data["kept"] = self.kept.value
        data["test_time_views"] = None if self.test_time_views is None else self.test_time_views.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinalResult:
        """Read a dict made by :meth:`to_dict`."""
        return cls(
            **{
                **data,
                "config": TrialConfig.from_dict(data["config"]),
                "kept": FinalSource(data.get("kept", FinalSource.RETRAINED.value)),
                "test_time_views": (
                    None
                    if data.get("test_time_views") is None
                    else ViewChoice.from_dict(data["test_time_views"])
                ),
            }
        )

    @property
    def kept_summary(self) -> str:
        """Return a sentence on which model is kept and why, for summaries and cards."""
        text = f"trial {self.trial_number}: {self.kept.description}"
        return f"{text} ({self.kept_reason})" if self.kept_reason else text

    @property
    def views_summary(self) -> str:
        """Return a sentence on the test-time views tried and whether the model averages them; "" when none were."""
        choice = self.test_time_views
        if choice is None:
            return ""
        views = f"{choice.views.count} views of each image ({choice.views.description})"
        guard = (
            f"{'balanced accuracy ' if choice.balanced else ''}{choice.guard_accuracy:.4f} on the "
            f"{self.guard_images:,} validation images held back from the retrain, against "
            f"{choice.plain_guard_accuracy:.4f} for the image alone"
        )
        if not choice.kept:
            return f"Averaging its predictions over {views} scored {guard}, so it reads each image once."
        test = (
            f"; on test {self.test_accuracy:.4f} against {self.plain_test_accuracy:.4f}"
            if self.plain_test_accuracy is not None
            else ""
        )
        return (
            f"It averages its predictions over {views}, which scored {guard}{test}. "
            f"Each prediction costs {choice.views.count} passes of the network."
        )


class Study:
    """The records of one search, read from its storage.

    Get one from :func:`autocnn.search` or :func:`load_study`.

    Example:
        >>> study = load_study("quick_digits")  # doctest: +SKIP
        >>> study.leaderboard().head()  # doctest: +SKIP

    """

    def __init__(self, optuna_study: Any, *, storage_url: str, workdir: Path) -> None:
        """Wrap an Optuna study whose trials autocnn recorded."""
        self._study = optuna_study
        self.storage_url = storage_url
        self.workdir = Path(workdir)

    @property
    def name(self) -> str:
        """The study's name."""
        return str(self._study.study_name)

    @property
    def optuna_study(self) -> Any:
        """The underlying ``optuna.Study`` (autocnn's record store)."""
        return self._study

    @property
    def directory(self) -> Path:
        """Where this study's files (best model, config) are written."""
        return self.workdir / self.name

    @property
    def info(self) -> StudyInfo:
        """What the study was created with: its space, data, objectives and backend."""
        return read_info(self._study)

    @property
    def runs(self) -> tuple[RunRecord, ...]:
        """Every process that ran or joined the search: command line, versions, hardware, limits."""
        return read_runs(self._study)

    @property
    def balanced_validation(self) -> bool:
        """Whether validation scores are balanced accuracies (``search.balanced_validation``)."""
        info = self.info
        return info.recorded and info.space(study=self.name).search.balanced_validation

    @property
    def test_time_augmentation(self) -> bool:
        """Whether the final model may average views of each image (``search.test_time_augmentation``)."""
        info = self.info
        return not info.recorded or info.space(study=self.name).search.test_time_augmentation

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The objectives, e.g. ``(Objective(metric="val_accuracy", direction="maximize"),)``."""
        return self.info.objectives

    @property
    def final(self) -> FinalResult | None:
        """The retrained best model's result, if the search retrained one."""
        data = self._study.user_attrs.get(FINAL_ATTR)
        return None if data is None else FinalResult.from_dict(data)

    def trials(self) -> list[TrialRecord]:
        """Return every trial's record, in trial-number order."""
        return [record_from_trial(trial) for trial in self._study.get_trials(deepcopy=False)]

    @property
    def rung_results(self) -> tuple[RungResult, ...]:
        """The final rung's results: top trials trained again, longer and on all training images."""
        from autocnn.core.rung import read_rung

        return read_rung(self._study)

    @property
    def augmentation_check(self) -> AugmentationCheckResult | None:
        """The augmentation check of the best trial: its runs with each augmentation, if the search ran one."""
        from autocnn.core.augmentation_check import read_check

        return read_check(self._study)

    def ranked(self, *, among: Sequence[TrialRecord] | None = None, rung: bool = True) -> list[TrialRecord]:
        """Return completed trials, best first (multi-objective: Pareto rank, then first objective).

        The trials the final rung judged come first, by the rung's result (``rung=False``: by the
        trials' own values only). ``among`` ranks records already read with :meth:`trials`
        instead of reading them again.
        """
        records = self.trials() if among is None else among
        completed = [record for record in records if record.status in RANKED_STATUSES and record.values]
        objectives = self.objectives
        signs = [-1.0 if objective.direction == "maximize" else 1.0 for objective in objectives]

        def key(record: TrialRecord) -> tuple[float, ...]:
            assert record.values is not None
            signed = [sign * value for sign, value in zip(signs, record.values, strict=False)]
            return (*signed, float(record.number))

        if len(objectives) == 1:
            by_values = sorted(completed, key=key)
            if not rung:
                return by_values
            from autocnn.core.rung import rank_with_rung

            return rank_with_rung(by_values, self.rung_results, objectives[0])
        fronts = pareto_ranks([key(record)[:-1] for record in completed])
        return [
            record
            for _, record in sorted(
                zip(fronts, completed, strict=True), key=lambda item: (item[0], key(item[1]))
            )
        ]

    @property
    def best_trial(self) -> TrialRecord:
        """The best completed trial; SearchError if none completed."""
        ranked = self.ranked()
        if not ranked:
            raise SearchError(f"study {self.name!r} has no completed trial yet")
        return ranked[0]

    @property
    def best_config(self) -> TrialConfig:
        """The configuration of the best completed trial."""
        config = self.best_trial.config
        assert config is not None
        return config

    @property
    def report_directory(self) -> Path:
        """Where the study's report goes by default: ``WORKDIR/reports/<study>/``, beside everything else."""
        return self.workdir / "reports" / self.name

    def trial_model_path(self, number: int) -> Path:
        """Return where trial ``number``'s own trained model is saved (the search keeps the top few)."""
        return self.directory / TRIAL_MODELS_DIR / f"trial_{number}.keras"

    def best_model(self) -> keras.Model:
        """Load the final model the search kept (or the best trial's own model when it did not retrain)."""
        import keras

        final = self.final
        candidates = [Path(final.model_path)] if final is not None else []
        ranked = self.ranked()
        if ranked:
            candidates.append(self.trial_model_path(ranked[0].number))
        for path in candidates:
            if path.exists():
                return keras.models.load_model(path, compile=False)
        raise SearchError(
            f"study {self.name!r} has no saved model in {self.directory}; run the search with its final "
            "retrain (the default)"
        )

    def leaderboard(self) -> pd.DataFrame:
        """Return one row per trial, ranked: status, objective values, metrics, params, FLOPs, config.

        Completed trials come first, best first, with a ``rank``; the others follow by number.
        ``rung_val_accuracy`` is the final rung's result for the trials it trained again.
        """
        import pandas as pd

        from autocnn.model import describe_config

        ranked = self.ranked()
        rung = {result.trial_number: result for result in self.rung_results}
        rank_of = {record.number: index for index, record in enumerate(ranked, start=1)}
        others = [record for record in self.trials() if record.number not in rank_of]
        metric_names = [objective.metric for objective in self.objectives]
        rows = []
        for record in [*ranked, *others]:
            row: dict[str, Any] = {
                "rank": rank_of.get(record.number),
                "trial": record.number,
                "state": record.status,
            }
            for index, metric in enumerate(metric_names):
                row[f"objective.{metric}"] = record.values[index] if record.values else math.nan
            row["val_accuracy"] = record.metrics.get("val_accuracy", math.nan)
            row["val_loss"] = record.metrics.get("val_loss", math.nan)
            judged = rung.get(record.number)
            row["rung_val_accuracy"] = math.nan if judged is None else judged.val_accuracy
            row["params"] = record.params
            row["flops"] = record.flops
            row["epochs_trained"] = record.epochs_trained
            row["train_time_s"] = record.metrics.get("train_time", math.nan)
            row["duration_s"] = record.duration
            row["architecture"] = describe_config(record.config) if record.config is not None else ""
            row["seed"] = record.seed_name
            row["reason"] = record.reason
            if record.config is not None:
                row.update({f"config.{key}": value for key, value in record.config.flat().items()})
            rows.append(row)
        frame = pd.DataFrame(rows)
        if not frame.empty:
            frame["rank"] = frame["rank"].astype("Int64")
            frame["params"] = frame["params"].astype("Int64")
            frame["flops"] = frame["flops"].astype("Int64")
        return frame

    def _repr_html_(self) -> str:
        from autocnn.reporting._inline import study_html

        return study_html(self)

    def plot_history(self) -> PlotImage:
        """Plot each trial's objective and the best so far (a PNG in the report folder, shown inline in Jupyter)."""
        from autocnn.reporting._inline import plot_image

        return plot_image(self, kind="history")

    def plot_learning_curves(self) -> PlotImage:
        """Plot the top trials' validation curves by epoch (a PNG in the report folder, shown inline in Jupyter)."""
        from autocnn.reporting._inline import plot_image

        return plot_image(self, kind="curves")

    def report(self, *, out: str | Path | None = None, dataset: Dataset | None = None) -> Path:
        """Write the study's report (default: WORKDIR/reports/<study>/); return its index.html.

        The report holds index.html, report.md, leaderboard.csv and the plots.

        Example:
            >>> index = study.report(out="reports/quick_digits")  # doctest: +SKIP

        """
        from autocnn.reporting import write_report

        return write_report(self, out=self.report_directory if out is None else Path(out), dataset=dataset)

    def export(
        self,
        *,
        format: Literal["keras", "savedmodel", "tflite", "onnx"],
        out: str | Path,
        trial: int | None = None,
        quantize: Literal["none", "int8"] = "none",
    ) -> ExportResult:
        """Export the retrained best model (or trial ``trial``), verified, with a model card beside it.

        Example:
            >>> result = study.export(format="tflite", out="dist/model.tflite", quantize="int8")  # doctest: +SKIP
            >>> result.max_abs_diff  # doctest: +SKIP

        """
        from autocnn.export import export_study

        return export_study(self, format=format, out=Path(out), trial=trial, quantize=quantize)

    def summary(self) -> dict[str, Any]:
        """Return counts by status, the best trial and the final result, JSON-ready."""
        counts: dict[str, int] = {}
        for record in self.trials():
            counts[record.status] = counts.get(record.status, 0) + 1
        ranked = self.ranked()
        best = ranked[0] if ranked else None
        final = self.final
        check = self.augmentation_check
        return {
            "study": self.name,
            "storage": mask_secrets(self.storage_url),
            "trials": counts,
            "best_trial": None
            if best is None
            else {"number": best.number, "values": list(best.values or ()), "metrics": best.metrics},
            "final": None if final is None else final.to_dict(),
            "final_rung": [result.to_dict() for result in self.rung_results],
            "augmentation_check": None if check is None else check.to_dict(),
        }


def pareto_ranks(points: list[tuple[float, ...]]) -> list[int]:
    """Return each point's non-domination rank (0 = Pareto front), all objectives minimized."""
    ranks = [-1] * len(points)
    remaining = set(range(len(points)))
    front = 0
    while remaining:
        current = {
            i
            for i in remaining
            if not any(
                all(a <= b for a, b in zip(points[j], points[i], strict=True)) and points[j] != points[i]
                for j in remaining
            )
        }
        for i in current:
            ranks[i] = front
        remaining -= current
        front += 1
    return ranks


def load_study(name: str, *, storage: str | None = None, workdir: str | Path = DEFAULT_WORKDIR) -> Study:
    """Open an existing study by name from its storage (default: the work directory's SQLite file).

    Example:
        >>> study = load_study("quick_digits", workdir="autocnn_runs")  # doctest: +SKIP

    """
    import optuna

    workdir = Path(workdir)
    url = resolve_storage_url(storage, workdir=workdir)
    optuna_storage = open_storage(url)
    names = [summary.study_name for summary in optuna.get_all_study_summaries(optuna_storage)]
    if name not in names:
        known = ", ".join(sorted(names)) or "none"
        raise ConfigError(f"no study named {name!r} in {mask_secrets(url)}; studies there: {known}")
    optuna_study = optuna.load_study(study_name=name, storage=optuna_storage)
    return Study(optuna_study, storage_url=url, workdir=workdir)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, creating the folder."""
    write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
