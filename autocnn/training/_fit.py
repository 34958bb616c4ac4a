"""One training run: build, compile, fit with the monitor, evaluate."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from autocnn.config import TrialConfig
from autocnn.core.records import EpochRecord
from autocnn.model import build_model, with_keras_batch_norm
from autocnn.training._compile import compile_for_training
from autocnn.training._monitor import FitStop, StopDecision, TrialMonitor

if TYPE_CHECKING:
    from autocnn.data import Dataset


@dataclass
class FitResult:
    """What a training run produced: the model, its curve, why it stopped and how long it took.

    ``model`` is compiled and holds stock Keras layers only, whatever trained it.
    """

    model: keras.Model
    curve: list[EpochRecord]
    stop_reason: FitStop
    message: str
    train_seconds: float
    metrics: dict[str, float] = field(default_factory=dict)


def fit_config(
    config: TrialConfig,
    dataset: Dataset,
    *,
    epochs: int | None = None,
    on_epoch: StopDecision | None = None,
    deadline: float | None = None,
    final: bool = False,
    validate: bool = True,
    balanced_validation: bool = False,
    seed: int = 0,
    verbose: int = 0,
    initial_weights: str | None = None,
    initial_epoch: int = 0,
    save_weights_to: Path | None = None,
) -> FitResult:
    """Train a network for ``config`` on ``dataset``.

    A search trial trains on the training split and validates on the validation split after
    every epoch (``validate=False``: never, for a caller that judges the model once at the end);
    ``balanced_validation`` weighs each validation image by its class, so ``val_accuracy`` is the
    balanced accuracy and ``val_loss`` counts every class the same.
    ``final=True`` trains on train + validation (no validation) for the final model.
    ``initial_weights`` and ``initial_epoch`` continue an earlier run (Hyperband's rounds) from
    the weights and optimizer state that ``save_weights_to`` saved when a run completed or was
    pruned. Batch normalisation trains with the fused kernel (:class:`FusedBatchNormalization`).
    """
    from autocnn.data import build_augmentation, class_balancing_weights, make_pipeline

    epochs = int(epochs or config.training.epochs)
    training = config.training
    keras.utils.set_random_seed(seed)
    model = build_model(
        config, input_shape=dataset.input_shape, num_classes=dataset.num_classes, fused_batch_norm=True
    )
    if final:
        x_train = np.concatenate([dataset.x_train, dataset.x_val])
        y_train = np.concatenate([dataset.y_train, dataset.y_val])
    else:
        x_train, y_train = dataset.x_train, dataset.y_train
    augmentation = build_augmentation(**training.augmentation.model_dump(), seed=seed)
    classes = dataset.num_classes
    train_data = make_pipeline(
        x_train,
        y_train,
        batch_size=training.batch_size,
        training=True,
        augmentation=augmentation,
        seed=seed,
        class_weights=(
            class_balancing_weights(y_train, num_classes=classes)
            if training.class_weight == "balanced"
            else None
        ),
    )
    val_data = (
        None
        if final or not validate
        else make_pipeline(
            dataset.x_val,
            dataset.y_val,
            batch_size=max(training.batch_size, 256),
            training=False,
            class_weights=(
                class_balancing_weights(dataset.y_val, num_classes=classes) if balanced_validation else None
            ),
        )
    )
    steps_per_epoch = math.ceil(len(x_train) / training.batch_size)

    def compile_model(target: keras.Model) -> None:
        compile_for_training(
            target, training, num_classes=dataset.num_classes, steps_per_epoch=steps_per_epoch, epochs=epochs
        )

    compile_model(model)
    if initial_weights is not None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(initial_weights)
    monitor = TrialMonitor(on_epoch=on_epoch, deadline=deadline, learning_rate_hint=training.learning_rate)
    started = time.monotonic()
    model.fit(
        train_data,
        validation_data=val_data,
        epochs=epochs,
        initial_epoch=initial_epoch,
        callbacks=[monitor],
        verbose=verbose,
        shuffle=False,
    )
    train_seconds = time.monotonic() - started
    if save_weights_to is not None and monitor.stop_reason in (None, FitStop.PRUNED):
        save_weights_to.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(save_weights_to)
    stock_model = with_keras_batch_norm(model)
    if stock_model is not model:
        compile_model(stock_model)
    result = FitResult(
        model=stock_model,
        curve=monitor.curve,
        stop_reason=monitor.stop_reason or FitStop.COMPLETED,
        message=monitor.message,
        train_seconds=train_seconds,
    )
    if monitor.curve:
        last = monitor.curve[-1]
        result.metrics.update({"loss": last.loss, "accuracy": last.accuracy})
        if last.val_accuracy is not None and last.val_loss is not None:
            result.metrics.update({"val_loss": last.val_loss, "val_accuracy": last.val_accuracy})
    return result


def evaluate_model(model: keras.Model, x: Any, y: Any, *, batch_size: int = 256) -> dict[str, float]:
    """Return loss and accuracy of ``model`` on arrays ``x``, ``y``."""
    from autocnn.data import make_pipeline

    values = model.evaluate(
        make_pipeline(x, y, batch_size=batch_size, training=False), verbose=0, return_dict=True
    )
    return {key: float(value) for key, value in values.items()}
