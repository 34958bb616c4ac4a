"""Record a search in MLflow: a parent run per search, a nested run per trial, the final model."""

from __future__ import annotations

import getpass
import json
import math
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autocnn._system import file_lock, process_alive, worker_id
from autocnn.core.augmentation_check import augmentation_key
from autocnn.core.storage import mask_secrets, sqlite_path
from autocnn.tracking import _payload as payload
from autocnn.tracking._base import Tracker
from autocnn.tracking._resolve import default_artifact_root, is_server_uri

if TYPE_CHECKING:
    import keras

    from autocnn.config import TrialConfig
    from autocnn.core.augmentation_check import AugmentationRun
    from autocnn.core.callbacks import SearchInfo
    from autocnn.core.records import EpochRecord, RungResult, TrialRecord
    from autocnn.core.study import FinalResult, Study

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MODEL_NAME = "model"
SERVER_CHECK_TIMEOUT_S = 5.0
#: MLflow's HTTP retries for a tracking server, unless the user set them: its own defaults (7
#: retries, doubling from 2 s) stall a search for minutes at each call after the server died.
BRIEF_HTTP_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"


@dataclass
class _TrialRun:
    """One trial's MLflow run and the epoch metrics not yet sent."""

    run_id: str
    last_flush: float = field(default_factory=time.monotonic)
    pending: list[tuple[str, float, int, int]] = field(default_factory=list)  # key, value, ms, step
    last_values: dict[str, float] = field(default_factory=dict)
    last_step: int = 0


@dataclass(frozen=True)
class RegisteredModel:
    """A model version created in the MLflow Model Registry."""

    name: str
    version: str

    @property
    def uri(self) -> str:
        """The URI that loads this version, e.g. ``models:/digits-cnn/1``."""
        return f"models:/{self.name}/{self.version}"


#: The tag naming the process (host:pid) that created a run, to close it if that process was killed.
PROCESS_TAG = "autocnn.process"


class MLflowTracker(Tracker):
    """Record a search in MLflow through an ``MlflowClient`` (no global MLflow state is touched).

    One experiment per study (named after it unless ``experiment`` is given); one parent run per
    search invocation with the space file, data, versions and command line, then the best trial
    and the final test accuracy; one nested run per trial (``trial 7``) with its flat
    hyperparameters, per-epoch metrics, params count, FLOPs, duration, state and reason, config
    and model summary. The retrained best model is logged as an MLflow Keras model and, with
    ``register_name``, registered in the Model Registry.

    Epoch metrics are sent in one batch at the end of a trial, or earlier once ``flush_interval``
    seconds have passed since the last batch, so that slow trials show live curves.

    If MLflow fails during a search, the tracker warns once on stderr and records nothing more;
    the search goes on.

    Example:
        >>> import autocnn
        >>> tracker = MLflowTracker(tracking_uri="sqlite:///autocnn_runs/mlflow.db")  # doctest: +SKIP
        >>> autocnn.search("quick", callbacks=[tracker])  # doctest: +SKIP

    """

    def __init__(
        self,
        *,
        tracking_uri: str,
        experiment: str | None = None,
        register_name: str | None = None,
        artifact_root: str | Path | None = None,
        flush_interval: float = 10.0,
    ) -> None:
        """Record into the MLflow store at ``tracking_uri``.

        ``artifact_root``: where new experiments keep artifacts (default: beside an SQLite
        database, in the work directory for another database, the server's choice for a server).
        """
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.register_name = register_name
        self.artifact_root = None if artifact_root is None else Path(artifact_root)
        self.flush_interval = flush_interval
        self.timings: dict[str, float] = {"search": 0.0, "trials": 0.0, "model": 0.0}
        self.trials_logged = 0
        self.experiment_id: str | None = None
        self.parent_run_id: str | None = None
        self.model_uri: str | None = None
        self.registered: RegisteredModel | None = None
        self._client: Any = None
        self._study = ""
        self._trials: dict[int, _TrialRun] = {}
        self._failed = False
        self._warned: set[str] = set()
        self._final_logged = False
        self._exception_at_start: BaseException | None = None
        self._logged_model: tuple[str, str] | None = None  # model id, artifact location

    def __repr__(self) -> str:
        """Return the tracker with its (masked) store."""
        return f"MLflowTracker(tracking_uri={self.location!r})"

    def worker_environment(self) -> dict[str, str]:
        """Return the MLflow store for the search's worker processes, which track their own trials."""
        return {"MLFLOW_TRACKING_URI": self.tracking_uri}

    @property
    def location(self) -> str:
        """Return the tracking URI, password masked."""
        return mask_secrets(self.tracking_uri)

    @property
    def logging_seconds(self) -> float:
        """Return the seconds spent in MLflow calls so far (see ``timings`` for the split)."""
        return sum(self.timings.values())

    @property
    def active(self) -> bool:
        """Return whether the tracker still records (False after MLflow failed during this search)."""
        return not self._failed

    # hooks -----------------------------------------------------------------------------------

    def on_search_start(self, info: SearchInfo) -> None:
        """Create (or reuse) the study's experiment and start the search's parent run."""
        self._failed = False
        self._warned.clear()
        self._trials.clear()
        self._final_logged = False
        self._exception_at_start = sys.exc_info()[1]
        self.timings = dict.fromkeys(self.timings, 0.0)
        self.trials_logged = 0
        self.parent_run_id = None
        self.model_uri = None
        self.registered = None
        self._logged_model = None
        self._safely("starting the search run", lambda: self._start_search(info), cost="search")

    def on_trial_start(self, number: int, config: TrialConfig, *, seed_name: str = "") -> None:
        """Start the trial's nested run with its hyperparameters."""
        self._safely(f"starting trial {number}", lambda: self._start_trial(number, config, seed_name))

    def on_epoch_end(self, number: int, record: EpochRecord) -> None:
        """Keep the epoch's metrics; send them if ``flush_interval`` has passed."""
        self._safely(f"recording an epoch of trial {number}", lambda: self._epoch(number, record))

    def on_trial_end(self, record: TrialRecord, *, model: keras.Model | None = None) -> None:
        """Send the trial's metrics, state, reason and artifacts, and end its run."""
        self._safely(f"ending trial {record.number}", lambda: self._end_trial(record, model))

    def on_final_rung_result(self, result: RungResult) -> None:
        """Log one trial's final-rung result on the search's run (``final_rung.trial_N.val_accuracy``)."""
        self._safely("recording the final rung", lambda: self._rung(result), cost="model")

    def _rung(self, result: RungResult) -> None:
        if self.parent_run_id is None:
            return
        prefix = f"final_rung.trial_{result.trial_number}"
        values = {f"{prefix}.val_accuracy": result.val_accuracy, f"{prefix}.epochs": float(result.epochs)}
        if math.isfinite(result.val_loss):
            values[f"{prefix}.val_loss"] = result.val_loss
        self._log(self.parent_run_id, metrics=_stamped(values))

    def on_augmentation_check_run(self, trial_number: int, run: AugmentationRun) -> None:
        """Log one augmentation-check run on the search's run (``augmentation_check.none.val_accuracy``)."""
        self._safely("recording the augmentation check", lambda: self._check_run(run), cost="model")

    def _check_run(self, run: AugmentationRun) -> None:
        if self.parent_run_id is None:
            return
        prefix = f"augmentation_check.{augmentation_key(run.augmentation)}"
        values = {f"{prefix}.val_accuracy": run.val_accuracy, f"{prefix}.epochs": float(run.epochs)}
        self._log(self.parent_run_id, metrics=_stamped(values))

    def on_retrain_end(self, final: FinalResult, *, model: keras.Model, example: Any) -> None:
        """Log the test metrics and the retrained model; register it when asked."""
        self._safely("recording the final model's test metrics", lambda: self._final(final), cost="model")
        self._safely(
            "logging the final model",
            lambda: self._log_model(model, example, final),
            stop_tracking=False,
            cost="model",
        )
        if self.register_name and self._logged_model is not None:
            model_id, location = self._logged_model
            self._safely(
                f"registering the final model as {self.register_name!r}",
                lambda: self._register(model_id, location),
                stop_tracking=False,
                cost="model",
            )

    def on_search_end(self, study: Study, *, interrupted: bool = False, error: str | None = None) -> None:
        """Record the best trial and end the parent run (KILLED if interrupted, FAILED on error)."""
        in_flight = sys.exc_info()[1]  # an error the search loop does not report (e.g. a bug)
        if error is None and not interrupted and in_flight is not self._exception_at_start:
            if isinstance(in_flight, KeyboardInterrupt):
                interrupted = True
            elif in_flight is not None:
                error = f"{type(in_flight).__name__}: {in_flight}"
        self._safely(
            "ending the search run", lambda: self._end_search(study, interrupted, error), cost="search"
        )
        self._trials.clear()

    # work ------------------------------------------------------------------------------------

    def _start_search(self, info: SearchInfo) -> None:
        from mlflow import MlflowClient

        if is_server_uri(self.tracking_uri) and self.tracking_uri.startswith("http"):
            _check_server(self.tracking_uri)
        if self._client is None:
            store = sqlite_path(self.tracking_uri)
            if store is None:
                self._client = MlflowClient(tracking_uri=self.tracking_uri)
            else:  # workers starting at once would each create and migrate a new store
                store.parent.mkdir(parents=True, exist_ok=True)
                with file_lock(store.with_name(f"{store.name}.lock")):
                    self._client = MlflowClient(tracking_uri=self.tracking_uri)
        self._study = info.study_name
        name = self.experiment or info.study_name
        root = self.artifact_root or default_artifact_root(self.tracking_uri, workdir=info.workdir)
        self.experiment_id = self._experiment(name, root)
        self._close_runs_of_dead_processes()
        tags = {**payload.search_tags(info), PROCESS_TAG: worker_id()}
        user = _user()
        if user:
            tags["mlflow.user"] = user
        role = f"worker {worker_id()}" if info.worker else "search"
        run = self._client.create_run(
            self.experiment_id, run_name=f"{role} {time.strftime('%Y-%m-%d %H:%M:%S')}", tags=tags
        )
        self.parent_run_id = str(run.info.run_id)
        self._log(self.parent_run_id, params=payload.search_params(info))
        self._client.log_text(self.parent_run_id, payload.space_text(info), "search_space.yaml")

    def _close_runs_of_dead_processes(self) -> None:
        """End the runs a process on this machine left RUNNING when it was killed (``kill -9``)."""
        host = socket.gethostname()
        for run in self._client.search_runs(
            [self.experiment_id], filter_string="attributes.status = 'RUNNING'"
        ):
            owner = run.data.tags.get(PROCESS_TAG, "")
            owner_host, _, pid = owner.rpartition(":")
            if owner_host != host or not pid.isdigit() or process_alive(int(pid)):
                continue
            self._client.set_tag(
                run.info.run_id, "reason", f"its process ({owner}) ended while it ran; closed on resume"
            )
            self._client.set_terminated(run.info.run_id, status="KILLED")

    def _experiment(self, name: str, root: Path | None) -> str:
        from mlflow.exceptions import MlflowException

        client = self._client
        existing = client.get_experiment_by_name(name)
        if existing is None:
            location = None if root is None else (root / _folder_name(name)).as_uri()
            try:
                return str(
                    client.create_experiment(
                        name,
                        artifact_location=location,
                        # "model training" rather than GenAI, for the UI
                        tags={
                            "autocnn.core.study": mask_secrets(name),
                            EXPERIMENT_KIND_TAG: "custom_model_development",
                        },
                    )
                )
            except MlflowException:  # another worker created it meanwhile
                existing = client.get_experiment_by_name(name)
                if existing is None:
                    raise
        if existing.lifecycle_stage == "deleted":
            client.restore_experiment(existing.experiment_id)
        return str(existing.experiment_id)

    def _start_trial(self, number: int, config: TrialConfig, seed_name: str) -> None:
        from autocnn.model import describe_config

        if self.parent_run_id is None:
            return
        run_id = self._create_trial_run(number, seed_name=seed_name, architecture=describe_config(config))
        self._log(run_id, params=payload.trial_params(config))

    def _create_trial_run(self, number: int, *, seed_name: str, architecture: str) -> str:
        assert self.parent_run_id is not None
        tags = payload.trial_start_tags(
            number,
            study=self._study,
            parent_run_id=self.parent_run_id,
            seed_name=seed_name,
            architecture=architecture,
        )
        tags[PROCESS_TAG] = worker_id()
        user = _user()
        if user:
            tags["mlflow.user"] = user
        run = self._client.create_run(self.experiment_id, run_name=f"trial {number}", tags=tags)
        run_id = str(run.info.run_id)
        self._trials[number] = _TrialRun(run_id=run_id)
        return run_id

    def _epoch(self, number: int, record: EpochRecord) -> None:
        trial = self._trials.get(number)
        if trial is None:
            return
        now = _now_ms()
        for key, value in payload.epoch_metrics(record).items():
            trial.pending.append((key, value, now, record.epoch))
            trial.last_values[key] = value
        trial.last_step = record.epoch
        if time.monotonic() - trial.last_flush >= self.flush_interval:
            self._flush(trial)

    def _flush(self, trial: _TrialRun, *, tags: dict[str, str] | None = None) -> None:
        self._log(trial.run_id, metrics=trial.pending, tags=tags or {})
        trial.pending = []
        trial.last_flush = time.monotonic()

    def _end_trial(self, record: TrialRecord, model: keras.Model | None) -> None:
        from autocnn.model import describe_config

        if self.parent_run_id is None:
            return
        trial = self._trials.pop(record.number, None)
        if trial is None:  # ended before it started (e.g. the backend could not propose a config)
            architecture = "" if record.config is None else describe_config(record.config)
            self._create_trial_run(record.number, seed_name=record.seed_name, architecture=architecture)
            trial = self._trials.pop(record.number)
            if record.config is not None:
                self._log(trial.run_id, params=payload.trial_params(record.config))
        now = _now_ms()
        step = trial.last_step or record.epochs_trained
        for key, value in payload.trial_metrics(record, logged=trial.last_values).items():
            trial.pending.append((key, value, now, step))
        self._flush(trial, tags=payload.trial_end_tags(record))
        texts: dict[str, str] = {}
        if record.config is not None:
            texts["config.json"] = payload.config_json(record.config)
        if model is not None:
            texts["model_summary.txt"] = mask_secrets(_model_summary(model))
        self._log_texts(trial.run_id, texts)
        self._client.set_terminated(trial.run_id, status=payload.RUN_STATUS.get(record.status, "FAILED"))
        self.trials_logged += 1

    def _final(self, final: FinalResult) -> None:
        if self.parent_run_id is None:
            return
        self._log(
            self.parent_run_id,
            metrics=_stamped(payload.final_metrics(final)),
            tags=payload.final_tags(final),
        )
        self._final_logged = True

    def _log_model(self, model: keras.Model, example: Any, final: FinalResult) -> None:
        import mlflow.keras
        import numpy as np
        from mlflow.entities import LoggedModelOutput
        from mlflow.models import Model, infer_signature

        from autocnn.training import predict_outputs

        if self.parent_run_id is None or self.experiment_id is None:
            return
        client = self._client
        inputs = np.asarray(example)
        signature = infer_signature(inputs, predict_outputs(model, inputs))
        logged = client.create_logged_model(
            self.experiment_id,
            name=MODEL_NAME,
            source_run_id=self.parent_run_id,
            tags={"trial": str(final.trial_number), "study": mask_secrets(self._study)},
            model_type="keras",
        )
        try:
            client.log_outputs(self.parent_run_id, [LoggedModelOutput(logged.model_id, step=0)])
            description = Model(
                artifact_path=logged.artifact_location,
                model_uuid=logged.model_id,
                run_id=self.parent_run_id,
                model_id=logged.model_id,
            )
            with tempfile.TemporaryDirectory(prefix="autocnn-mlflow-") as folder:
                path = Path(folder) / MODEL_NAME
                mlflow.keras.save_model(
                    model,
                    str(path),
                    mlflow_model=description,
                    signature=signature,
                    pip_requirements=_pip_requirements(),
                )
                client.log_model_artifacts(logged.model_id, str(path))
        except Exception:
            client.finalize_logged_model(logged.model_id, "FAILED")
            raise
        client.finalize_logged_model(logged.model_id, "READY")
        self.model_uri = f"models:/{logged.model_id}"
        self._logged_model = (str(logged.model_id), str(logged.artifact_location))
        self._log(self.parent_run_id, tags={"model_uri": self.model_uri})

    def _register(self, model_id: str, artifact_location: str) -> None:
        from mlflow.exceptions import MlflowException

        assert self.register_name is not None and self.parent_run_id is not None
        client = self._client
        try:
            client.create_registered_model(
                self.register_name, description=f"Best CNN found by autocnn for study {self._study}."
            )
        except MlflowException as error:
            if "ALREADY_EXISTS" not in str(getattr(error, "error_code", "")):
                raise
        # the artifact location rather than models:/<id>: MLflow would resolve that with the global
        # tracking URI, not this client's
        version = client.create_model_version(
            self.register_name,
            source=artifact_location,
            run_id=self.parent_run_id,
            model_id=model_id,
            tags={"study": mask_secrets(self._study)},
        )
        self.registered = RegisteredModel(name=str(version.name), version=str(version.version))
        # link the logged model to its version, as mlflow.register_model does, for the UI
        client.set_logged_model_tags(
            model_id,
            {"mlflow.modelVersions": json.dumps([{"name": version.name, "version": version.version}])},
        )
        self._log(self.parent_run_id, tags={"registered_model": self.registered.uri})

    def _end_search(self, study: Study, interrupted: bool, error: str | None) -> None:
        if self.parent_run_id is None:
            return
        open_status = "KILLED" if interrupted else "FAILED"
        for trial in list(self._trials.values()):
            self._flush(trial, tags={"state": "interrupted" if interrupted else "failed"})
            self._client.set_terminated(trial.run_id, status=open_status)
        self._trials.clear()
        records = study.trials()
        ranked = study.ranked()
        best = ranked[0] if ranked else None
        metrics = payload.search_end_metrics(records, best)
        final = study.final
        if final is not None and not self._final_logged:
            metrics.update(payload.final_metrics(final))
        tags = {"state": "interrupted" if interrupted else ("failed" if error else "finished")}
        if best is not None:
            tags["best_trial"] = str(best.number)
        if error:
            tags["error"] = payload.text_value(error)
        self._log(self.parent_run_id, metrics=_stamped(metrics), tags=tags)
        status = "KILLED" if interrupted else ("FAILED" if error else "FINISHED")
        self._client.set_terminated(self.parent_run_id, status=status)

    # plumbing --------------------------------------------------------------------------------

    def _safely(
        self, what: str, action: Callable[[], None], *, stop_tracking: bool = True, cost: str = "trials"
    ) -> None:
        """Run one MLflow action; on any error warn once and, if ``stop_tracking``, record nothing more.

        The time it takes is added to ``timings[cost]``.
        """
        if self._failed:
            return
        started = time.perf_counter()
        try:
            with _brief_http_retries(enabled=is_server_uri(self.tracking_uri)):
                action()
        except Exception as error:
            text = mask_secrets(f"{type(error).__name__}: {error}").strip().splitlines()
            reason = text[0] if text else type(error).__name__
            if stop_tracking:
                self._failed = True
                self._warn(
                    "tracking",
                    f"warning: MLflow tracking stopped while {what} ({reason}); the search goes on "
                    f"without tracking (store: {self.location})",
                )
            else:
                self._warn(what, f"warning: MLflow could not finish {what} ({reason}); tracking goes on")
        finally:
            self.timings[cost] += time.perf_counter() - started

    def _warn(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        print(message, file=sys.stderr, flush=True)

    def _log(
        self,
        run_id: str,
        *,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Send metrics, params and tags in as few ``log_batch`` calls as MLflow's limits allow."""
        from mlflow.entities import Metric, Param, RunTag

        metric_items = [Metric(key, value, stamp, step) for key, value, stamp, step in metrics]
        param_items = [Param(key, value) for key, value in (params or {}).items()]
        tag_items = [RunTag(key, value) for key, value in (tags or {}).items()]
        while metric_items or param_items or tag_items:
            self._client.log_batch(
                run_id,
                metrics=metric_items[:MAX_METRICS_PER_BATCH],
                params=param_items[:MAX_PARAMS_PER_BATCH],
                tags=tag_items[:MAX_TAGS_PER_BATCH],
            )
            metric_items = metric_items[MAX_METRICS_PER_BATCH:]
            param_items = param_items[MAX_PARAMS_PER_BATCH:]
            tag_items = tag_items[MAX_TAGS_PER_BATCH:]

    def _log_texts(self, run_id: str, texts: dict[str, str]) -> None:
        """Write text artifacts with one upload."""
        if not texts:
            return
        with tempfile.TemporaryDirectory(prefix="autocnn-mlflow-") as folder:
            for name, text in texts.items():
                (Path(folder) / name).write_text(text, encoding="utf-8")
            self._client.log_artifacts(run_id, folder)


def _stamped(metrics: dict[str, float], *, step: int = 0) -> list[tuple[str, float, int, int]]:
    now = _now_ms()
    return [(key, value, now, step) for key, value in metrics.items()]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _folder_name(name: str) -> str:
    """Return a safe folder name for an experiment's artifacts."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "experiment"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return ""


def _model_summary(model: keras.Model) -> str:
    parts: list[str] = []

    def collect(text: str, line_break: bool = True) -> None:
        parts.append(text if not line_break else text + "\n")

    model.summary(print_fn=collect)
    return "".join(parts)


def _pip_requirements() -> list[str]:
    """Return pinned requirements of the logged model, so MLflow need not infer them (~5 s)."""
    requirements = []
    for package in ("tensorflow", "keras"):
        try:
            requirements.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            requirements.append(package)
    return requirements


@contextmanager
def _brief_http_retries(*, enabled: bool) -> Iterator[None]:
    """Set :data:`BRIEF_HTTP_RETRIES` that the environment does not set, for the time of one tracker call."""
    added = {name: value for name, value in BRIEF_HTTP_RETRIES.items() if enabled and name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _check_server(uri: str) -> None:
    """Fail fast when a tracking server does not answer (MLflow itself would retry for minutes)."""
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=SERVER_CHECK_TIMEOUT_S) as response:
            response.read(16)
    except urllib.error.HTTPError:
        return  # it answers (perhaps asking for credentials, which MLflow sends itself)
    except Exception as error:
        raise ConnectionError(
            f"the tracking server does not answer at {mask_secrets(url)} ({error})"
        ) from None
