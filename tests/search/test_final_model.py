"""The final model is never worse than what the search found: a diverged retrain is caught, said and not shipped."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import autocnn.training
from autocnn.core.callbacks import SearchCallback
from autocnn.core.final_model import FinalSource, acceptance_margin, guard_split
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
