"""The final model is never worse than what the search found: a diverged retrain is caught, said and not shipped."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest

import autocnn.training
from autocnn.core.callbacks import SearchCallback
from autocnn.core.final_model import (
    FinalSource,
    _GuardWatch,
    acceptance_margin,
    guard_split,
    scored_image_count,
)
from autocnn.core.records import EpochRecord
from autocnn.core.session import search
from autocnn.core.study import load_study
from autocnn.data import load_dataset
from autocnn.errors import ExportError

# Adam at this many times the trial's learning rate diverges on any data.
DIVERGING_FACTOR = 3000.0

MULTI_OBJECTIVE = """
search:
  objective: [{metric: val_accuracy, direction: maximize}, {metric: params, direction: minimize}]
"""


class Heard(SearchCallback):
    """Records what the search says about the retrain, and flips the fault on when it starts."""

    def __init__(self, fault: dict[str, int]) -> None:
        self.fault = fault
        self.notes: list[str] = []
        self.finals: list[object] = []

    def on_retrain_start(self, number, config, *, epochs):
        self.fault["armed"] = 1

    def on_retrain_note(self, message):
        self.notes.append(message)

    def on_retrain_end(self, final, *, model, example):
        self.finals.append(final)


@pytest.fixture
def diverging_retrain(monkeypatch):
    """Make the final retrain's fit diverge (learning rate x3000) for its first ``times`` attempts."""
    fault = {"armed": 0, "times": 2, "calls": 0}
    real_fit = autocnn.training.fit_config

    def fit(config, dataset, **kwargs):
        if fault["armed"] and fault["calls"] < fault["times"]:
            fault["calls"] += 1
            training = config.training.model_copy(
                update={"learning_rate": config.training.learning_rate * DIVERGING_FACTOR}
            )
            config = config.model_copy(update={"training": training})
        return real_fit(config, dataset, **kwargs)

    monkeypatch.setattr(autocnn.training, "fit_config", fit)
    return fault


@pytest.fixture
def overfitting_retrain(monkeypatch):
    """Show the first retrain's guard watch a curve that peaks at epoch 3 and then falls; the retrain itself is real."""
    shown = [0.5, 0.8, 0.95, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    fault = {"armed": 0, "calls": 0, "epochs": [], "trained": []}
    real_fit = autocnn.training.fit_config

    def fit(config, dataset, **kwargs):
        fault["epochs"].append(kwargs.get("epochs"))
        if fault["armed"] and fault["calls"] == 0:
            fault["calls"] += 1
            watch = kwargs["on_epoch"]
            kwargs["on_epoch"] = lambda record: watch(
                EpochRecord(
                    epoch=record.epoch,
                    loss=record.loss,
                    accuracy=record.accuracy,
                    val_loss=record.val_loss,
                    val_accuracy=shown[record.epoch - 1],
                )
            )
        result = real_fit(config, dataset, **kwargs)
        fault["trained"].append(len(result.curve))
        return result

    monkeypatch.setattr(autocnn.training, "fit_config", fit)
    return fault


def _predictions(model, x):
    return np.argmax(model.predict(x, verbose=0), axis=-1)


def _trial_model_test_accuracy(study, number):
    model = keras.models.load_model(study.trial_model_path(number), compile=False)
    data = load_dataset("digits", validation_fraction=0.1, seed=0)
    return float(np.mean(_predictions(model, data.x_test) == data.y_test)), model, data


@pytest.mark.parametrize(
    "backend,extra",
    [("optuna", ""), ("keras-tuner", ""), ("optuna", MULTI_OBJECTIVE)],
    ids=["optuna", "keras-tuner", "multi-objective"],
)
def test_a_diverged_retrain_is_replaced_by_the_trials_own_model(
    tiny_space, workdir, diverging_retrain, backend, extra
):
    if extra:
        tiny_space.write_text(tiny_space.read_text().replace("search:\n", extra.lstrip("\n"), 1))
    heard = Heard(diverging_retrain)
    study = search(
        tiny_space,
        dataset="digits",
        workdir=workdir,
        max_trials=3,
        backend=backend,
        algorithm="random",
        callbacks=[heard],
    )
    final = study.final
    assert final is not None
    best = study.best_trial
    assert final.trial_number == best.number
    assert final.kept is FinalSource.TRIAL_MODEL
    assert "clearly below the trial's own model" in final.kept_reason
    assert final.retrain_guard_accuracy is not None and final.trial_guard_accuracy is not None
    assert final.retrain_guard_accuracy < final.trial_guard_accuracy - 0.2
    # The retry ran (the first attempt stopped early, leaving time), and diverged too.
    assert diverging_retrain["calls"] == 2
    assert len(heard.notes) == 1 and "retrying once at learning rate" in heard.notes[0]
    # What is shipped is the trial's own model, and its test accuracy is that model's.
    accuracy, trial_model, data = _trial_model_test_accuracy(study, best.number)
    assert final.test_accuracy == pytest.approx(accuracy, abs=1e-6)
    assert final.test_accuracy > 0.5
    shipped = study.best_model()
    assert np.array_equal(_predictions(shipped, data.x_test), _predictions(trial_model, data.x_test))
    # The record survives a reload, and the summary (--json) says it.
    again = load_study(study.name, workdir=workdir)
    assert again.final == final
    summary = json.loads(json.dumps(again.summary()))
    assert summary["final"]["kept"] == "trial_model"
    assert "clearly below" in summary["final"]["kept_reason"]


def test_a_retry_at_a_lower_learning_rate_is_kept_when_it_holds_up(tiny_space, workdir, diverging_retrain):
    diverging_retrain["times"] = 1
    tiny_space.write_text(tiny_space.read_text().replace("epochs: 2", "epochs: 5"))
    heard = Heard(diverging_retrain)
    study = search(tiny_space, dataset="digits", workdir=workdir, max_trials=3, callbacks=[heard])
    final = study.final
    assert final is not None
    assert final.kept is FinalSource.RETRAINED_LOWER_LR
    trial_rate = study.best_trial.config.training.learning_rate
    assert final.config.training.learning_rate == pytest.approx(trial_rate / 2)
    assert final.guard_accuracy is not None and final.guard_accuracy > 0.5
    assert "the retry at learning rate" in final.kept_reason
    assert heard.finals == [final]


def test_an_overfitted_retrain_stops_and_is_retrained_for_twice_its_best_epochs(
    tiny_space, workdir, overfitting_retrain
):
    tiny_space.write_text(
        tiny_space.read_text().replace("max_trials: 3", "max_trials: 3\n  retrain_epochs: 12")
    )
    heard = Heard(overfitting_retrain)
    study = search(tiny_space, dataset="digits", workdir=workdir, max_trials=3, callbacks=[heard])
    final = study.final
    assert final is not None
    # Trials train 2 epochs; the retrain asks for 12, stops after 3 epochs below its best (epoch 3), and
    # the retry trains for 2 x 3 epochs on a schedule of that length.
    assert overfitting_retrain["epochs"][-2:] == [12, 6]
    assert overfitting_retrain["trained"][-2:] == [6, 6]
    assert len(heard.notes) == 1
    assert "fell from 0.9500 at epoch 3 to 0.7000 by epoch 6" in heard.notes[0]
    assert "retrying once for 6 epochs" in heard.notes[0]
    assert final.kept is FinalSource.RETRAINED_SHORTER
    assert final.epochs == 6
    assert "the retry for 6 epochs scored" in final.kept_reason
    assert final.guard_accuracy is not None and final.trial_guard_accuracy is not None
    assert final.guard_accuracy >= final.trial_guard_accuracy - 0.1
    assert load_study(study.name, workdir=workdir).final == final


# Held-back accuracy per epoch of a measured 60-epoch retrain (a 100-class image folder of 2,800
# images, 200 held back): best 0.975 at epoch 6, then down to 0.60 by its end.
MEASURED_FALL = [
    0.44,
    0.86,
    0.895,
    0.94,
    0.955,
    0.975,
    0.975,
    0.925,
    0.975,
    0.965,
    0.975,
    0.965,
    0.965,
    0.965,
    0.96,
    0.955,
    0.94,
    0.955,
    0.92,
    0.945,
    0.89,
    0.865,
    0.91,
    0.895,
    0.895,
    0.855,
]
# A healthy retrain climbing with a point of noise either way.
MEASURED_CLIMB = [0.84, 0.87, 0.885, 0.88, 0.9, 0.893, 0.905, 0.91, 0.902, 0.915, 0.912, 0.92, 0.918, 0.925]


def _watched(curve, *, images, epochs):
    watch = _GuardWatch(chance=0.1, reference=max(curve), images=images, epochs=epochs)
    for epoch, accuracy in enumerate(curve, start=1):
        if watch(EpochRecord(epoch=epoch, loss=1.0, accuracy=1.0, val_loss=1.0, val_accuracy=accuracy)):
            return epoch, watch
    return None, watch


def test_the_watch_stops_a_retrain_that_falls_from_its_best_and_stays_down():
    stopped, watch = _watched(MEASURED_FALL, images=200, epochs=60)
    # 0.975 less the margin on 200 images (about 0.041) is 0.934: epochs 21 to 26 are all below it,
    # six in a row (as many as the best took, and a tenth of 60).
    assert stopped == 26
    assert watch.fell and watch.best_epoch == 6
    assert watch.message == "fell from 0.9750 at epoch 6 to 0.8550 by epoch 26"


def test_the_watch_lets_a_climbing_retrain_and_a_short_one_run():
    assert _watched(MEASURED_CLIMB, images=1000, epochs=60)[0] is None
    # A retry of twice epoch 6 would not be half as long as 20 epochs: run them all.
    assert _watched(MEASURED_FALL, images=200, epochs=20)[0] is None
    # Below the best for two epochs, then back: not a fall.
    assert _watched([0.5, 0.9, 0.8, 0.8, 0.88, 0.8, 0.8, 0.9], images=200, epochs=60)[0] is None
    # An early dip at full learning rate, three epochs below the margin (0.850), then a recovery.
    assert _watched([0.85, 0.88, 0.84, 0.845, 0.848, 0.87, 0.9], images=1000, epochs=34)[0] is None
    # All 90 right once, then 2 wrong for ten epochs: noise on so few images, not a fall; 6 wrong is.
    steady = [0.9, 0.95, 1.0] + [88 / 90] * 10
    assert _watched(steady, images=90, epochs=60)[0] is None
    assert _watched([0.9, 0.95, 1.0] + [84 / 90] * 10, images=90, epochs=60)[0] == 9


def test_a_healthy_retrain_is_kept_as_it_is(tiny_space, workdir):
    study = search(tiny_space, dataset="digits", workdir=workdir, max_trials=3)
    final = study.final
    assert final is not None
    assert final.kept is FinalSource.RETRAINED
    assert final.kept_reason == ""
    assert final.epochs == 2
    assert 67 <= final.guard_images <= 76  # half of 143 validation images, each of 10 classes rounded
    assert final.guard_accuracy is not None and final.trial_guard_accuracy is not None
    assert final.guard_accuracy >= final.trial_guard_accuracy - 0.1
    assert final.config == study.best_config
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.models.load_model(final.model_path)  # with its compile settings, as most users load it
    assert [str(warning.message) for warning in caught] == []


def test_the_guard_is_held_back_from_the_retrain_and_stratified():
    data = load_dataset("digits", validation_fraction=0.1, seed=0)
    split = guard_split(data, seed=0)
    assert len(split.y_val) + len(split.y_train) == len(data.y_train) + len(data.y_val)
    guard_rows = {row.tobytes() for row in split.x_val}
    assert not guard_rows & {row.tobytes() for row in split.x_train}
    assert guard_rows <= {row.tobytes() for row in data.x_val}
    assert set(np.unique(split.y_val)) == set(range(10))
    assert np.array_equal(split.x_test, data.x_test)


@pytest.mark.parametrize(
    "reference,images,kept,refused",
    [(0.96, 1000, 0.945, 0.92), (0.96, 72, 0.93, 0.80), (1.0, 72, 0.986, 0.95), (0.5, 40, 0.40, 0.2)],
)
def test_the_margin_keeps_noise_and_refuses_a_real_drop(reference, images, kept, refused):
    margin = acceptance_margin(reference, images=images)
    assert kept >= reference - margin
    assert refused < reference - margin


def test_balanced_accuracy_on_unbalanced_guard_images_counts_as_fewer_images():
    # 90 and 10 images: per-class variances p(1-p)/90 and p(1-p)/10, averaged over 2 classes, are
    # plain accuracy's p(1-p)/n for n = 4 / (1/90 + 1/10) = 36 images.
    unbalanced = np.array([90, 10])
    assert scored_image_count(unbalanced, balanced=False) == 100
    assert scored_image_count(unbalanced, balanced=True) == 36
    assert scored_image_count(np.array([50, 0, 50]), balanced=True) == 100  # equal classes: all images
    # The margin a balanced guard allows is that of its fewer images: a drop that 100 images would
    # show as real is noise on 10 images of the rarer class.
    wide = acceptance_margin(0.9, images=scored_image_count(unbalanced, balanced=True))
    assert wide > acceptance_margin(0.9, images=100) + 0.05


def test_export_of_a_trial_whose_retrain_diverges_exports_nothing(
    tiny_space, workdir, tmp_path, diverging_retrain
):
    study = search(tiny_space, dataset="digits", workdir=workdir, max_trials=5, retrain=False)
    other = next(record for record in study.ranked() if not study.trial_model_path(record.number).exists())
    diverging_retrain["armed"] = 1
    out = tmp_path / "dist" / "model.keras"
    with pytest.raises(ExportError, match=f"retraining trial {other.number} did not hold up"):
        study.export(format="keras", out=out, trial=other.number)
    assert not out.exists()


def test_a_retrain_that_trained_no_epoch_is_never_kept(tmp_path):
    """A retrain cut by the deadline before its first epoch holds initial weights, within a chance trial's margin."""
    import time

    from autocnn.config import TrialConfig
    from autocnn.core.final_model import retrain_guarded
    from autocnn.core.records import TrialRecord, TrialStatus
    from autocnn.model import build_model

    data = load_dataset("digits", validation_fraction=0.1, seed=0)
    config = TrialConfig()
    untrained_trial_model = build_model(config, input_shape=data.input_shape, num_classes=data.num_classes)
    path = tmp_path / "trial.keras"
    untrained_trial_model.save(path)
    trial = TrialRecord(
        number=4, status=TrialStatus.COMPLETE, config=config, metrics={"val_accuracy": 0.1}, curve=()
    )
    final = retrain_guarded(
        trial, data, trial_model_path=path, epochs=3, deadline=time.monotonic() - 1, seed=0
    )
    assert final.source is FinalSource.TRIAL_MODEL
    assert final.epochs == 0 and "trained no whole epoch before the deadline" in final.reason
    assert final.reason.endswith("kept the trial's own model")
    guard = guard_split(data, seed=0)
    kept = np.argmax(np.asarray(final.model(guard.x_val, training=False)), axis=-1)
    expected = np.argmax(np.asarray(untrained_trial_model(guard.x_val, training=False)), axis=-1)
    assert np.array_equal(kept, expected)
