"""TrialConfig → keras.Sequential. Pure: no I/O, no global state."""

from __future__ import annotations

from typing import Any

import keras

from autocnn.config import TrialConfig
from autocnn.model._batch_norm import FusedBatchNormalization
from autocnn.model._shapes import analyze_architecture

# Keras' default (0.99) leaves the moving statistics far from the data's after the few hundred
# steps of a short trial, so a batch-normalised network scores near chance on validation.
BATCH_NORM_MOMENTUM = 0.9


def build_model(
    config: TrialConfig,
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    fused_batch_norm: bool = False,
) -> keras.Sequential:
    """Build the (uncompiled) Sequential CNN a configuration describes.

    The configuration is checked first (:func:`analyze_architecture`), so an invalid one raises
    InvalidArchitectureError with the reason instead of failing inside Keras.
    ``fused_batch_norm=True`` uses :class:`FusedBatchNormalization` (faster training, same
    results); :func:`with_keras_batch_norm` turns such a model back into stock Keras layers.

    Example:
        >>> from autocnn.config import TrialConfig
        >>> model = build_model(TrialConfig(), input_shape=(8, 8, 1), num_classes=10)
        >>> model.output_shape
        (None, 10)

    """
    analyze_architecture(config, input_shape=input_shape, num_classes=num_classes)
    training = config.training
    dtype = "mixed_float16" if training.mixed_precision else None
    regularizer: Any = (
        keras.regularizers.L1L2(l1=training.l1, l2=training.l2)
        if training.l1 > 0 or training.l2 > 0
        else None
    )
    batch_norm_class = FusedBatchNormalization if fused_batch_norm else keras.layers.BatchNormalization
    layers: list[keras.layers.Layer] = []
    for number, block in enumerate(config.model.blocks, start=1):
        for conv in range(1, block.convs + 1):
            layers.append(
                keras.layers.Conv2D(
                    filters=int(block.filters),
                    kernel_size=int(block.kernel_size),
                    strides=int(block.strides) if conv == 1 else 1,
                    padding=block.padding,
                    dilation_rate=int(block.dilation),
                    use_bias=not block.batch_norm,
                    kernel_regularizer=regularizer,
                    name=f"block{number}_conv{conv}",
                    dtype=dtype,
                )
            )
            if block.batch_norm:
                layers.append(
                    batch_norm_class(
                        momentum=BATCH_NORM_MOMENTUM, name=f"block{number}_bn{conv}", dtype=dtype
                    )
                )
            layers.append(
                keras.layers.Activation(block.activation, name=f"block{number}_act{conv}", dtype=dtype)
            )
        if block.pooling != "none":
            pool_class = (
                keras.layers.MaxPooling2D if block.pooling == "max" else keras.layers.AveragePooling2D
            )
            layers.append(
                pool_class(
                    pool_size=int(block.pool_size),
                    strides=int(block.pool_strides or block.pool_size),
                    name=f"block{number}_pool",
                    dtype=dtype,
                )
            )
        if block.dropout > 0:
            layers.append(
                keras.layers.Dropout(float(block.dropout), name=f"block{number}_dropout", dtype=dtype)
            )
    head = config.model.head
    if head.pooling == "flatten":
        layers.append(keras.layers.Flatten(name="head_flatten", dtype=dtype))
    elif head.pooling == "global_avg":
        layers.append(keras.layers.GlobalAveragePooling2D(name="head_global_avg", dtype=dtype))
    else:
        layers.append(keras.layers.GlobalMaxPooling2D(name="head_global_max", dtype=dtype))
    for number, units in enumerate(head.dense_units, start=1):
        layers.append(
            keras.layers.Dense(
                int(units),
                activation=head.activation,
                kernel_regularizer=regularizer,
                name=f"head_dense{number}",
                dtype=dtype,
            )
        )
        if head.dropout > 0:
            layers.append(
                keras.layers.Dropout(float(head.dropout), name=f"head_dropout{number}", dtype=dtype)
            )
    layers.append(keras.layers.Dense(int(num_classes), activation="softmax", name="output", dtype="float32"))
    model = keras.Sequential(
        [keras.Input(shape=tuple(int(size) for size in input_shape)), *layers],
        name=config.name or "autocnn_trial",
    )
    return model
