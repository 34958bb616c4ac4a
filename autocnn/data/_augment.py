"""Training-time augmentation as Keras preprocessing layers."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from autocnn.errors import ConfigError

if TYPE_CHECKING:
    import keras

__all__ = ["FLIP_MODES", "build_augmentation"]

FLIP_MODES = ("none", "horizontal", "vertical", "horizontal_and_vertical")
_LIMITS = {"rotation": 0.5, "translation": 1.0, "zoom": 1.0, "contrast": 1.0, "erasing": 1.0}


def build_augmentation(
    *,
    flip: str = "none",
    rotation: float = 0.0,
    translation: float = 0.0,
    zoom: float = 0.0,
    contrast: float = 0.0,
    erasing: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential | None:
    """Return a ``keras.Sequential`` of random preprocessing layers, or None when all are off.

    Args:
        flip: ``"none"``, ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``.
        rotation: Largest rotation, as a fraction of a full turn (0.1 is ±36 degrees).
        translation: Largest shift, as a fraction of the height and of the width.
        zoom: Largest zoom in or out, as a fraction of the size.
        contrast: Largest contrast change factor, for images scaled to [0, 1].
        erasing: Probability that an image has one random rectangle (2-33% of its area)
            replaced by noise (random erasing, Zhong et al. 2017).
        seed: Makes the random draws reproducible; each layer gets its own seed derived from it.

    Areas uncovered by rotation, translation or zoom are filled with 0 (black), which suits
    digits and clothing on a black background.

    """
    if flip not in FLIP_MODES:
        raise ConfigError(
            f"The 'flip' parameter must be one of {', '.join(FLIP_MODES)}; got {flip!r} instead."
        )
    amounts = {
        "rotation": rotation,
        "translation": translation,
        "zoom": zoom,
        "contrast": contrast,
        "erasing": erasing,
    }
    for key, value in amounts.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= _LIMITS[key]:
            raise ConfigError(
                f"The {key!r} parameter must be a float in [0, {_LIMITS[key]:g}]; got {value!r} instead."
            )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ConfigError(f"The 'seed' parameter must be a non-negative int or None; got {seed!r} instead.")
    if flip == "none" and not any(amounts.values()):
        return None

    import keras

    def layer_seed(index: int) -> int | None:
        return None if seed is None else int(seed) + index

    layers: list[keras.layers.Layer] = []
    if flip != "none":
        layers.append(keras.layers.RandomFlip(flip, seed=layer_seed(0)))
    if rotation:
        layers.append(keras.layers.RandomRotation(float(rotation), fill_mode="constant", seed=layer_seed(1)))
    if translation:
        layers.append(
            keras.layers.RandomTranslation(
                float(translation), float(translation), fill_mode="constant", seed=layer_seed(2)
            )
        )
    if zoom:
        layers.append(keras.layers.RandomZoom(float(zoom), fill_mode="constant", seed=layer_seed(3)))
    if contrast:
        layers.append(
            keras.layers.RandomContrast(float(contrast), value_range=(0.0, 1.0), seed=layer_seed(4))
        )
    if erasing:
        # A (p, p) factor makes p the exact probability; a single float would draw it from [0, p].
        layers.append(
            keras.layers.RandomErasing(
                factor=(float(erasing), float(erasing)), value_range=(0.0, 1.0), seed=layer_seed(5)
            )
        )
    return keras.Sequential(layers, name="augmentation")
