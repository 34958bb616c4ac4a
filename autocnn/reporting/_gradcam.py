"""Grad-CAM heat maps for a Sequential CNN: where in the image the predicted class came from."""

from __future__ import annotations

from typing import Any

import numpy as np

FEATURE_FOLLOWERS = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU")


def gradcam_layer_index(model: Any) -> int | None:
    """Return the index of the layer whose output Grad-CAM uses, or None without a Conv2D.

    That is the last ``Conv2D`` of the model, moved past the BatchNormalization and Activation
    layers right after it (autocnn builds the activation as its own layer), so that the maps are
    the features the rest of the network reads.
    """
    layers = list(model.layers)
    convs = [index for index, layer in enumerate(layers) if type(layer).__name__ == "Conv2D"]
    if not convs:
        return None
    index = convs[-1]
    while index + 1 < len(layers) and type(layers[index + 1]).__name__ in FEATURE_FOLLOWERS:
        index += 1
    return index


def feature_model(model: Any, layer_index: int) -> Any:
    """Return a functional model over ``model``'s own layers: image → (feature maps, pre-softmax input).

    The Sequential's layers are called again on a fresh input, so the weights are shared and
    nothing is copied. The second output is what the last layer receives, so that logits can be
    taken before its softmax.
    """
    import keras

    inputs = keras.Input(shape=tuple(int(size) for size in model.input_shape[1:]))
    tensor = inputs
    features = None
    layers = list(model.layers)
    for index, layer in enumerate(layers[:-1]):
        tensor = layer(tensor)
        if index == layer_index:
            features = tensor
    assert features is not None
    return keras.Model(inputs, [features, tensor])


def gradcam_heatmaps(
    model: Any, images: np.ndarray, *, classes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Return Grad-CAM maps (N, H, W) in [0, 1], the class each explains, and the layer's name.

    ``classes`` defaults to each image's predicted class. The class score is the logit (the
    input of the final softmax), whose gradient does not vanish when the prediction is certain.
    Raises ValueError when the model has no Conv2D layer.
    """
    import keras
    import tensorflow as tf

    from autocnn.model import network_of

    model = network_of(model)  # a model that averages views is explained by its network on the image alone
    layer_index = gradcam_layer_index(model)
    if layer_index is None:
        raise ValueError("the model has no Conv2D layer, so Grad-CAM has nothing to look at")
    last = model.layers[-1]
    submodel = feature_model(model, layer_index)
    batch = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    with tf.GradientTape() as tape:
        raw_features, penultimate = submodel(batch, training=False)
        penultimate = tf.cast(penultimate, tf.float32)
        if isinstance(last, keras.layers.Dense):
            logits = tf.matmul(penultimate, tf.cast(last.kernel, tf.float32)) + tf.cast(last.bias, tf.float32)
        else:
            logits = tf.cast(last(penultimate), tf.float32)
        chosen = tf.argmax(logits, axis=-1) if classes is None else tf.constant(classes, dtype=tf.int64)
        scores = tf.gather(logits, chosen, axis=1, batch_dims=1)
    gradients = tf.cast(tape.gradient(scores, raw_features), tf.float32)
    features = tf.cast(raw_features, tf.float32)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cams = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
    height, width = int(batch.shape[1]), int(batch.shape[2])
    resized = tf.image.resize(cams[..., tf.newaxis], (height, width), method="bilinear")[..., 0].numpy()
    peaks = resized.reshape(len(resized), -1).max(axis=1)
    normalized = np.divide(
        resized, peaks[:, None, None], out=np.zeros_like(resized), where=peaks[:, None, None] > 0
    )
    return (
        normalized.astype("float32"),
        np.asarray(chosen.numpy(), dtype="int64"),
        str(model.layers[layer_index].name),
    )
