"""Batch normalisation that trains with TensorFlow's fused kernel, and the swap back to Keras' own layer.

Keras 3 normalises a batch with separate moment, subtract, scale and shift operations, each a pass
over the activations. TensorFlow's ``FusedBatchNormV3`` (oneDNN on CPUs, cuDNN on GPUs) does it in
one, and on a 2-core CPU a three-block Fashion-MNIST network trains about a fifth faster with it
(``benchmarks/batch_norm_speed.py``). Trained networks are handed out with Keras' stock layer, so
saved and exported files never need autocnn to load.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["FusedBatchNormalization", "with_keras_batch_norm"]


@keras.saving.register_keras_serializable(package="autocnn")
class FusedBatchNormalization(keras.layers.BatchNormalization):  # type: ignore[misc]
    """``keras.layers.BatchNormalization`` whose training step runs TensorFlow's fused kernel.

    The same variables, the same configuration and the same results as the stock layer: the
    batch variance is the biased one (the moving variance follows Keras, not the kernel's
    Bessel-corrected value). Inference, masks, renormalisation, synchronised statistics,
    non-image inputs and other backends take the stock path.
    """

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        """Normalise ``inputs``; with ``training`` and NHWC images, in one fused kernel."""
        if not (training and self.trainable and self._fusable(inputs, mask)):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        input_dtype = inputs.dtype
        images = tf.cast(inputs, "float32")
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            images,
            tf.cast(self.gamma, "float32"),
            tf.cast(self.beta, "float32"),
            epsilon=self.epsilon,
            data_format="NHWC",
            is_training=True,
        )[:3]
        count = tf.cast(tf.reduce_prod(tf.shape(images)[:-1]), "float32")
        biased_variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + biased_variance * (1.0 - self.momentum)
        )
        return tf.cast(outputs, input_dtype)

    def _fusable(self, inputs: Any, mask: Any) -> bool:
        return (
            keras.backend.backend() == "tensorflow"
            and mask is None
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.scale
            and self.center
            and not self.renorm
            and not self.synchronized
        )


def with_keras_batch_norm(model: keras.Sequential) -> keras.Sequential:
    """Return ``model`` with Keras' own BatchNormalization in place of the fused one, weights copied.

    A model without fused layers is returned as it is; the copy is not compiled.
    """
    if not any(isinstance(layer, FusedBatchNormalization) for layer in model.layers):
        return model

    def stock_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        kind = keras.layers.BatchNormalization if isinstance(layer, FusedBatchNormalization) else type(layer)
        return kind.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=stock_layer)
    copy.set_weights(model.get_weights())
    return copy
