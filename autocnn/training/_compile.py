"""Optimizer, learning-rate schedule, loss and metrics for one trial's configuration."""

from __future__ import annotations

from typing import Any

import keras

from autocnn.config import TrainingConfig


def make_optimizer(
    training: TrainingConfig, *, steps_per_epoch: int, epochs: int
) -> keras.optimizers.Optimizer:
    """Return the configured optimizer, with a cosine decay over all steps when asked."""
    learning_rate: Any = training.learning_rate
    if training.lr_schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=training.learning_rate,
            decay_steps=max(1, steps_per_epoch * epochs),
            alpha=0.01,
        )
    optimizer: keras.optimizers.Optimizer
    if training.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(
            learning_rate=learning_rate, momentum=training.momentum, nesterov=True
        )
    elif training.optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    elif training.optimizer == "adamw":
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=training.weight_decay)
    else:
        optimizer = keras.optimizers.RMSprop(learning_rate=learning_rate, momentum=training.momentum)
    if training.mixed_precision:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def make_loss(training: TrainingConfig, *, num_classes: int) -> keras.losses.Loss:
    """Return sparse cross-entropy, with label smoothing when configured."""
    if training.label_smoothing > 0:
        return SparseSmoothedCrossentropy(num_classes=num_classes, label_smoothing=training.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


@keras.saving.register_keras_serializable(package="autocnn")
class SparseSmoothedCrossentropy(keras.losses.Loss):  # type: ignore[misc]
    """Cross-entropy on integer labels with label smoothing (Keras' sparse loss has no smoothing)."""

    def __init__(
        self,
        *,
        num_classes: int,
        label_smoothing: float,
        name: str = "sparse_smoothed_crossentropy",
        **kwargs: Any,
    ) -> None:
        """Create the loss for ``num_classes`` classes."""
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Return the per-sample smoothed cross-entropy."""
        labels = keras.ops.one_hot(
            keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), self.num_classes
        )
        return keras.losses.categorical_crossentropy(labels, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "label_smoothing": self.label_smoothing,
        }


def compile_for_training(
    model: keras.Model, training: TrainingConfig, *, num_classes: int, steps_per_epoch: int, epochs: int
) -> None:
    """Compile ``model`` with the trial's optimizer, loss and an ``accuracy`` metric.

    The metric is weighted: batches that carry weights (balanced classes) weigh it as they weigh the loss.
    """
    model.compile(
        optimizer=make_optimizer(training, steps_per_epoch=steps_per_epoch, epochs=epochs),
        loss=make_loss(training, num_classes=num_classes),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=bool(training.jit_compile),
    )
    # Creating the optimizer's slots now, eagerly, instead of inside the first traced train step
    # keeps TensorFlow from retaining a graph per slot after the model is gone (~3 MB per trial).
    model.optimizer.build(model.trainable_variables)


def compile_for_export(model: keras.Model) -> None:
    """Recompile with standard loss and metric so the saved file loads anywhere without autocnn.

    Plain SGD has no per-weight state: a model loaded with its compile settings builds the same
    optimizer variables as were saved, where Adam's unbuilt moments would make Keras warn on every
    load (and built ones would triple the file). Fine-tuning a loaded model starts with a compile.
    """
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
