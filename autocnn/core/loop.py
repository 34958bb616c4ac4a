"""The trial loop: ask → check → build → train → tell → record, with its failure policy and budget."""

from __future__ import annotations

import gc
import math
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autocnn._files import replacing
from autocnn._format import format_number_of, format_seconds
from autocnn._stop import raise_if_stop_requested
from autocnn._system import file_lock, rss_mb, worker_id
from autocnn.backends import Backend, Proposal
from autocnn.config import TrialConfig
from autocnn.core.augmentation_check import check_reserve
from autocnn.core.callbacks import SearchCallback
from autocnn.core.compat import heartbeat_enabled, study_storage, trial_id
from autocnn.core.fidelity import (
    planned_retrain_epochs,
    retrain_epoch_seconds,
    rung_epoch_seconds,
    trial_dataset,
)
from autocnn.core.lost_trials import SilentTrials, fail_stale_trials
from autocnn.core.plan import SearchPlan
from autocnn.core.records import (
    ARCHITECTURE_ATTR,
    CONFIG_ATTR,
    CURVE_ATTR,
    DEVICE_ATTR,
    METRICS_ATTR,
    REASON_ATTR,
    STATUS_ATTR,
    WORKER_ATTR,
    EpochRecord,
    LoopEnd,
    TrialStatus,
    record_from_trial,
)
from autocnn.core.study import Study
from autocnn.core.view import StudyView
from autocnn.errors import InvalidArchitectureError, SearchError
from autocnn.space import SearchSpace

if TYPE_CHECKING:
    from autocnn.data import Dataset

MAX_CONSECUTIVE_REJECTIONS = 100
FULL_COLLECT_EVERY = 10
WAIT_FOR_OTHERS_S = 2.0
KEPT_TRIAL_MODELS = 3


@dataclass
class _LoopState:
    """What the loop remembers between trials of this process."""

    trial_seconds: list[float] = field(default_factory=list)
    consecutive_failures: list[tuple[int, str]] = field(default_factory=list)
    consecutive_rejections: list[tuple[int, str]] = field(default_factory=list)
    trials_run: int = 0


@dataclass(frozen=True)
class _Trained:
    """How a trial's training ended: its status, why, the model and the curve."""

    status: TrialStatus
    reason: str = ""
    model: Any = None
    curve: tuple[EpochRecord, ...] = ()


@dataclass(frozen=True)
class _KeptAfterTrials:
    """The seconds a search keeps after its trials: the retrain's (as planned), the final rung's, the check's."""

    reserve: _RetrainPlan | None = None
    retrain: float = 0.0  # the retrain's estimate, cut to its share of the budget
    rung: float = 0.0
    check: float = 0.0

    @property
    def seconds(self) -> float:
        """Return all the seconds kept."""
        return self.retrain + self.rung + self.check


@dataclass(frozen=True)
class _RetrainPlan:
    """The final retrain the search keeps time for: its planned epochs and their estimated length."""

    epochs: int
    epoch_seconds: float

    @property
    def seconds(self) -> float:
        """Return the retrain's estimated length."""
        return self.epochs * self.epoch_seconds


class _Heartbeat:
    """Records a heartbeat for a running trial so other workers can fail it if this process dies."""

    def __init__(self, storage: Any, trial_id: int) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
        if interval:
            storage.record_heartbeat(trial_id)
            self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
            self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:  # a missed beat is harmless; the next one retries
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class TrialLoop:
    """Runs trials until the trial count, the time budget or the backend says stop."""

    def __init__(
        self,
        *,
        study: Study,
        plan: SearchPlan,
        backend: Backend,
        dataset: Dataset,
        callbacks: Sequence[SearchCallback],
        device: str,
    ) -> None:
        self.study = study
        self.optuna_study = study.optuna_study
        self.plan = plan
        self.limits = plan.limits
        self.backend = backend
        self.full_dataset = dataset
        self.dataset = trial_dataset(dataset, plan.space.search, seed=plan.seed)
        self.space = plan.space
        self.callbacks = callbacks
        self.seed = plan.seed
        self.device = device
        self.objectives = plan.space.search.objective
        self.state = _LoopState()
        self.view = StudyView(study)
        self.worker = worker_id()
        self._heartbeats = heartbeat_enabled(study_storage(self.optuna_study))
        self._silent_trials = SilentTrials()

    def run(self, *, deadline: float | None) -> LoopEnd:
        """Run trials until a limit of the plan says stop, or ``deadline`` (``time.monotonic()``) passes."""
        trials_limit = self.limits.max_trials
        while True:
            raise_if_stop_requested()
            fail_stale_trials(self.optuna_study, silent=self._silent_trials)
            self.view.refresh()
            if trials_limit is not None:
                finished, running = self.view.counted, self.view.running
                if finished >= trials_limit or (finished + running >= trials_limit and not self._heartbeats):
                    return self._end(f"the study has its {format_number_of(trials_limit, 'trial')}")
                if finished + running >= trials_limit:
                    # Other workers' trials will reach the count; wait for them rather than exit,
                    # since one of them may be lost and retried (its retry then needs a worker).
                    if deadline is not None and time.monotonic() >= deadline:
                        return self._end("the time budget is spent")
                    time.sleep(WAIT_FOR_OTHERS_S)
                    continue
            if self.backend.exhausted(self.optuna_study):
                return self._end("the search space has no untried configuration left")
            trial_deadline = deadline
            if deadline is not None:
                after = self._kept_after_trials(deadline)
                out_of_time = self._out_of_time(deadline, after)
                if out_of_time is not None:
                    return self._end(out_of_time)
                # a trial longer than the others stops where the time kept after the trials begins
                trial_deadline = deadline - after.seconds
            if self.limits.recycle_after is not None and self.state.trials_run >= self.limits.recycle_after:
                return LoopEnd.RECYCLE
            if (
                self.limits.max_rss_mb is not None
                and self.state.trials_run > 0
                and rss_mb() > self.limits.max_rss_mb
            ):
                return LoopEnd.RECYCLE
            self._run_one(trial_deadline)

    def _end(self, reason: str) -> LoopEnd:
        for callback in self.callbacks:
            callback.on_trials_end(reason)
        return LoopEnd.DONE

    def _kept_after_trials(self, deadline: float) -> _KeptAfterTrials:
        """Return the seconds before ``deadline`` kept for the final rung, the check and the retrain.

        The time kept for the retrain is its estimate, at most ``search.retrain_share`` of this
        run's budget, and for the final rung at most ``search.final_rung.share``: trials always get
        the rest, and a longer retrain is cut to its share.
        """
        if not self.limits.retrain:
            return _KeptAfterTrials()
        budget_s = self.limits.timeout_s if self.limits.timeout_s is not None else deadline - time.monotonic()
        reserve = self._retrain_estimate()
        share = self.space.search.retrain_share
        return _KeptAfterTrials(
            reserve=reserve,
            retrain=0.0 if reserve is None else min(reserve.seconds, share * budget_s),
            rung=self._rung_reserve(budget_s),
            check=self._check_reserve(budget_s),
        )

    def _out_of_time(self, deadline: float, after: _KeptAfterTrials) -> str | None:
        """Return why no other trial fits before ``deadline`` and the time ``after`` the trials, or None."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "the time budget is spent"
        estimate = statistics.median(self.state.trial_seconds) if self.state.trial_seconds else 0.0
        reserve, kept, rung, check = after.reserve, after.retrain, after.rung, after.check
        share = self.space.search.retrain_share
        if remaining > estimate + after.seconds:
            return None
        trial = f"another trial (about {format_seconds(estimate)} each)"
        if rung > 0:
            trial += f" with the final rung's {format_seconds(rung)}"
        if check > 0:
            trial += f" {'and' if rung > 0 else 'with'} the augmentation check's {format_seconds(check)}"
        if reserve is None:
            return f"the {format_seconds(remaining)} left are too short for {trial}"
        if share < 1 and kept < reserve.seconds:
            return (
                f"the final retrain keeps its share of the budget, {format_seconds(kept)} (search.retrain_share "
                f"{share:g}); its {reserve.epochs} epochs of about {format_seconds(reserve.epoch_seconds)} need "
                f"{format_seconds(reserve.seconds)}, so it gets the epochs that fit in the "
                f"{format_seconds(remaining)} left"
            )
        retrain_text = (
            f"the final retrain's {reserve.epochs} epochs of about {format_seconds(reserve.epoch_seconds)}"
        )
        if reserve.seconds < remaining:
            return f"the {format_seconds(remaining)} left hold {retrain_text} but not {trial}"
        return (
            f"{retrain_text} need {format_seconds(reserve.seconds)}, more than the "
            f"{format_seconds(remaining)} left, so the retrain gets the epochs that fit; "
            "lower search.retrain_epochs or raise the timeout for more trials"
        )

    def _retrain_estimate(self) -> _RetrainPlan | None:
        """Return the retrain kept time for: the best trial's, or with a final rung its slowest candidate's.

        The rung may hand the retrain to any of its candidates, and keeps the slowest one's retrain
        (:func:`retrain_reserve`): the search keeping less would leave the rung short.
        """
        best = self.view.best
        if best is None:
            return None
        rung = self.space.search.final_rung
        candidates = self.view.ranked()[: rung.candidates] if rung.candidates else [best]
        plans = []
        for record in candidates:
            epoch_seconds = retrain_epoch_seconds(
                record,
                trials=self.view.similar_to(record),
                trial_data=self.dataset,
                full_data=self.full_dataset,
            )
            if record.config is not None and epoch_seconds is not None:
                epochs = planned_retrain_epochs(self.space.search, record.config)
                plans.append(_RetrainPlan(epochs=epochs, epoch_seconds=epoch_seconds))
        return max(plans, key=lambda plan: plan.seconds, default=None)

    def _rung_reserve(self, budget_s: float) -> float:
        """Return the seconds kept for the final rung: its candidates' runs, at most its share of the budget."""
        rung = self.space.search.final_rung
        best = self.view.best
        if not rung.candidates or best is None or len(self.view.ranked()) < 2:
            return 0.0
        epoch_seconds = rung_epoch_seconds(
            best, trials=self.view.similar_to(best), trial_data=self.dataset, full_data=self.full_dataset
        )
        if epoch_seconds is None:
            return 0.0
        return min(rung.candidates * rung.epochs * epoch_seconds, rung.share * budget_s)

    def _check_reserve(self, budget_s: float) -> float:
        """Return the seconds kept for the augmentation check of the best trial so far."""
        best = self.view.best
        if best is None:
            return 0.0
        return check_reserve(
            self.space,
            best=best,
            trials=self.view.similar_to(best),
            trial_data=self.dataset,
            full_data=self.full_dataset,
            budget_s=budget_s,
        )

    def _run_one(self, deadline: float | None) -> None:
        trial = self.optuna_study.ask()
        # Beating from the moment the trial exists: a worker lost before its first beat leaves a
        # trial that other workers fail only after seeing it silent a while (see SilentTrials).
        heartbeat = _Heartbeat(study_storage(self.optuna_study), trial_id(trial))
        try:
            self._run_asked(trial, deadline)
        finally:
            heartbeat.stop()

    def _run_asked(self, trial: Any, deadline: float | None) -> None:
        trial.set_user_attr(WORKER_ATTR, self.worker)
        if self.device:
            trial.set_user_attr(DEVICE_ATTR, self.device)
        try:
            proposal = self.backend.propose(trial)
        except Exception as error:
            self._finish(
                trial,
                status=TrialStatus.FAILED,
                reason=f"the backend could not propose a configuration: {error}",
            )
            raise
        config = proposal.config
        trial.set_user_attr(CONFIG_ATTR, config.to_dict())
        from autocnn.model import describe_config

        trial.set_user_attr(ARCHITECTURE_ATTR, describe_config(config))
        for callback in self.callbacks:
            callback.on_trial_start(trial.number, config, seed_name=proposal.seed_name)
        problem, architecture = self._check(config)
        if problem is not None:
            self._finish(trial, status=TrialStatus.REJECTED, reason=problem)
            self._count_rejection(trial.number, problem)
            return
        self.state.consecutive_rejections.clear()
        assert architecture is not None
        metrics: dict[str, float] = {"params": float(architecture.params), "flops": float(architecture.flops)}
        started = time.monotonic()
        try:
            trained = self._train(trial, proposal, deadline, metrics)
        except KeyboardInterrupt:
            self._finish(
                trial, status=TrialStatus.INTERRUPTED, reason="stopped by Ctrl-C or SIGTERM", metrics=metrics
            )
            raise
        self.state.trial_seconds.append(time.monotonic() - started)
        self.state.trials_run += 1
        status, trained_reason = trained.status, trained.reason
        values = self._values(metrics) if status is TrialStatus.COMPLETE else None
        self._finish(
            trial,
            status=status,
            reason=trained.reason,
            metrics=metrics,
            curve=trained.curve,
            values=values,
            model=trained.model,
        )
        if status is TrialStatus.COMPLETE and trained.model is not None:
            self._keep_if_best(trial.number, trained.model)
        del trained
        release_memory(full=self.state.trials_run % FULL_COLLECT_EVERY == 0)
        if status is TrialStatus.FAILED:
            self.state.consecutive_failures.append((trial.number, trained_reason))
            if len(self.state.consecutive_failures) >= self.limits.max_consecutive_failures:
                raise SearchError(_failure_summary(self.state.consecutive_failures, "failed"))
        else:
            self.state.consecutive_failures.clear()

    def _check(self, config: TrialConfig) -> tuple[str | None, Any]:
        from autocnn.model import analyze_architecture

        try:
            architecture = analyze_architecture(
                config, input_shape=self.dataset.input_shape, num_classes=self.dataset.num_classes
            )
        except InvalidArchitectureError as error:
            return str(error), None
        constraints = self.space.search.constraints
        if constraints.max_params is not None and architecture.params > constraints.max_params:
            return f"{architecture.params:,} parameters exceed the limit of {constraints.max_params:,}", None
        if constraints.max_flops is not None and architecture.flops > constraints.max_flops:
            return f"{architecture.flops:,} FLOPs exceed the limit of {constraints.max_flops:,}", None
        return None, architecture

    def _count_rejection(self, number: int, reason: str) -> None:
        self.state.consecutive_rejections.append((number, reason))
        if len(self.state.consecutive_rejections) >= MAX_CONSECUTIVE_REJECTIONS:
            raise SearchError(
                _failure_summary(self.state.consecutive_rejections, "were rejected as invalid")
                + "; the space mostly holds networks that cannot be built for this input size"
            )

    def _train(
        self, trial: Any, proposal: Proposal, deadline: float | None, metrics: dict[str, float]
    ) -> _Trained:
        from autocnn.training import FitStop, fit_config

        def on_epoch(record: EpochRecord) -> bool:
            raise_if_stop_requested()
            for callback in self.callbacks:
                callback.on_epoch_end(trial.number, record)
            return self.backend.should_prune(trial, record)

        config = attempt_config = proposal.config
        for attempt in (1, 2):
            try:
                result = fit_config(
                    attempt_config,
                    self.dataset,
                    epochs=proposal.max_epochs,
                    on_epoch=on_epoch,
                    deadline=deadline,
                    seed=self.seed + trial.number,
                    initial_weights=proposal.initial_weights,
                    initial_epoch=proposal.initial_epoch,
                    save_weights_to=self.backend.weights_path(trial),
                    balanced_validation=self.space.search.balanced_validation,
                )
            except KeyboardInterrupt:
                raise
            except Exception as error:
                # Ctrl-C lands between any two bytecodes: a cleanup it interrupted may raise in its place
                raise_if_stop_requested()
                reason = _error_reason(error)
                smaller = _half_batch(self.space, attempt_config) if _is_out_of_memory(error) else None
                if attempt == 1 and smaller is not None:
                    attempt_config = smaller
                    release_memory()
                    continue
                return _Trained(TrialStatus.FAILED, reason)
            break
        metrics.update(result.metrics)
        metrics["train_time"] = result.train_seconds
        metrics["epochs"] = float(len(result.curve))
        if attempt_config is not config:
            metrics["batch_size_used"] = float(attempt_config.training.batch_size)
        curve = tuple(result.curve)
        if result.stop_reason is FitStop.COMPLETED:
            if "val_accuracy" not in metrics:
                return _Trained(
                    TrialStatus.FAILED, "training ended without a validation result", result.model, curve
                )
            return _Trained(TrialStatus.COMPLETE, "", result.model, curve)
        if result.stop_reason in (FitStop.PRUNED, FitStop.DEADLINE):
            return _Trained(TrialStatus.PRUNED, result.message, result.model, curve)
        return _Trained(TrialStatus.FAILED, result.message, result.model, curve)

    def _values(self, metrics: dict[str, float]) -> tuple[float, ...]:
        return tuple(float(metrics[objective.metric]) for objective in self.objectives)

    def _keep_if_best(self, number: int, model: Any) -> None:
        """Save a completed trial's model while it ranks first: the final model's fallback, never lost.

        The files of trials that dropped out of the top ``KEPT_TRIAL_MODELS`` are removed. Workers
        on this machine take turns, each ranking anew, so none removes a model another just saved.
        """
        path = self.study.trial_model_path(number)
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path.parent / ".models.lock"):
            self.view.refresh()
            ranked = self.view.ranked()
            if not ranked or ranked[0].number != number:
                return
            with replacing(path) as temporary:
                model.save(temporary)
            keep = {self.study.trial_model_path(record.number) for record in ranked[:KEPT_TRIAL_MODELS]}
            for other in path.parent.glob("trial_*.keras"):
                if other not in keep:
                    other.unlink(missing_ok=True)

    def _finish(
        self,
        trial: Any,
        *,
        status: TrialStatus,
        reason: str = "",
        metrics: dict[str, float] | None = None,
        curve: Sequence[EpochRecord] = (),
        values: tuple[float, ...] | None = None,
        model: Any = None,
    ) -> None:
        import optuna

        try:
            trial.set_user_attr(STATUS_ATTR, status.value)
            if reason:
                trial.set_user_attr(REASON_ATTR, reason)
            if metrics:
                trial.set_user_attr(
                    METRICS_ATTR, {key: _finite_or_none(value) for key, value in metrics.items()}
                )
            if curve:
                trial.set_user_attr(CURVE_ATTR, [record.to_dict() for record in curve])
            if status is TrialStatus.COMPLETE:
                self.optuna_study.tell(trial, list(values or ()))
            elif status in (TrialStatus.PRUNED, TrialStatus.REJECTED):
                # TPE ignores failed trials but ranks pruned ones without a value last, so a rejected
                # configuration steers it away instead of being proposed again and again.
                self.optuna_study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                self.optuna_study.tell(trial, state=optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            print(
                f"warning: trial {trial.number} was failed by another worker while it ran here (its "
                "heartbeats did not reach the study database); its retry runs it again",
                file=sys.stderr,
            )
        else:
            self.backend.finish(trial, status=status, values=values, weights_path=None)
        record = record_from_trial(study_storage(self.optuna_study).get_trial(trial_id(trial)))
        for callback in self.callbacks:
            callback.on_trial_end(record, model=model)


def release_memory(*, full: bool = True) -> None:
    """Clear the Keras session; a full garbage collection (about 0.25 s with TensorFlow loaded) only if asked."""
    import keras

    keras.backend.clear_session(free_memory=False)
    gc.collect(2 if full else 1)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _error_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}"[:500]


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or type(error).__name__ in (
        "ResourceExhaustedError",
        "OutOfMemoryError",
    )


def _half_batch(space: SearchSpace, config: TrialConfig) -> TrialConfig | None:
    """Return ``config`` with half the batch size if the space allows that batch size."""
    half = config.training.batch_size // 2
    if half < 1 or not space.training.batch_size.contains(half):
        return None
    return config.model_copy(update={"training": config.training.model_copy(update={"batch_size": half})})


def _failure_summary(failures: list[tuple[int, str]], verb: str) -> str:
    reasons = Counter(reason for _, reason in failures)
    reason, count = reasons.most_common(1)[0]
    numbers = ", ".join(str(number) for number, _ in failures[-5:])
    return (
        f"{len(failures)} trials in a row {verb} (last: {numbers}); the most common reason "
        f"({count} of them): {reason}"
    )
