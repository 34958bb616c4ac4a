"""Test-time augmentation as a plain Keras model: a network's predictions averaged over shifted and flipped views.

The views are built from stock Keras layers only (padding and cropping shift an image with a black
border, as the training's translation does; a fixed permutation matrix flips it), so the model
loads with ``keras.models.load_model`` in safe mode without autocnn, and every export format
converts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autocnn.config import Flip, PredictionViews

if TYPE_CHECKING:
    import keras

__all__ = ["AVERAGED_VIEWS_NAME", "network_of", "view_count", "with_views"]

#: The name of the model that averages views, by which a loaded one is recognised.
AVERAGED_VIEWS_NAME = "averaged_views"
_AVERAGE_NAME = "average_of_views"


def with_views(network: keras.Model, views: PredictionViews) -> keras.Model:
    """Return a model that averages the predictions of a copy of ``network`` over ``views`` of each image.

    The copy has ``network``'s weights and no optimizer: a compiled network inside a model would be
    saved with its optimizer's state, which a loaded model warns that it cannot restore. With
    ``views`` of the image alone, ``network`` itself is returned.
    """
    import keras

    if views.count == 1:
        return network
    network = _uncompiled_copy(network)
    shape = tuple(int(size) for size in network.input_shape[1:])
    inputs = keras.Input(shape=shape, name="image")
    images = [inputs]
    if views.shift:
        images.extend(_shifted(inputs, views.shift, name=name) for name in ("down", "up", "right", "left"))
    if views.flip != "none":
        images.append(_flipped(inputs, views.flip, shape=shape))
    outputs = keras.layers.Average(name=_AVERAGE_NAME)([network(image) for image in images])
    return keras.Model(inputs, outputs, name=AVERAGED_VIEWS_NAME)


def _uncompiled_copy(network: keras.Model) -> keras.Model:
    import keras

    copy = keras.models.clone_model(network)
    copy.set_weights(network.get_weights())
    return copy


def network_of(model: keras.Model) -> keras.Model:
    """Return the network inside a model that averages views, or ``model`` itself when it is a plain network."""
    import keras

    if model.name != AVERAGED_VIEWS_NAME:
        return model
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def view_count(model: keras.Model) -> int:
    """Return how many views of each image ``model`` averages (1 for a plain network)."""
    if model.name != AVERAGED_VIEWS_NAME:
        return 1
    return len(model.get_layer(_AVERAGE_NAME).input)


def _shifted(image: Any, pixels: int, *, name: str) -> Any:
    """Return ``image`` moved by ``pixels`` towards ``name``, the uncovered border black."""
    import keras

    first, last, none = (pixels, 0), (0, pixels), (0, 0)  # padding or cropping before / after an axis
    padding, cropping = {
        "down": ((first, none), (last, none)),
        "up": ((last, none), (first, none)),
        "right": ((none, first), (none, last)),
        "left": ((none, last), (none, first)),
    }[name]
    padded = keras.layers.ZeroPadding2D(padding, name=f"pad_{name}")(image)
    return keras.layers.Cropping2D(cropping, name=f"shift_{name}")(padded)


def _flipped(image: Any, flip: Flip, *, shape: tuple[int, ...]) -> Any:
    """Return ``image`` mirrored left-right (upside down for "vertical") by a fixed reversal matrix."""
    import keras

    # (batch, rows, columns, channels): the reversed axis is moved last, reversed by a matrix, moved back
    axis = 1 if flip == "vertical" else 2
    size = shape[axis - 1]
    order = (1, 3, 2) if axis == 2 else (3, 2, 1)
    moved = keras.layers.Permute(order, name="flip_axis_last")(image)
    reversal = keras.layers.Dense(size, use_bias=False, trainable=False, name="flip_reversal")
    reversed_image = reversal(moved)
    reversal.set_weights([np.eye(size, dtype="float32")[::-1]])
    return keras.layers.Permute(order, name="flip")(reversed_image)
