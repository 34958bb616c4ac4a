"""Shape arithmetic agrees with what Keras builds, for a few hundred random configurations."""

import re

import keras
import numpy as np
import pytest

from autocnn.errors import InvalidArchitectureError
from autocnn.model import analyze_architecture, build_model
from autocnn.space import RandomSuggester, parse_space, sample_config

WIDE_SPACE = parse_space(
    """
name: wide
model:
  blocks:
    count: {low: 1, high: 3}
    filters: [1, 3, 8]
    kernel_size: {low: 1, high: 7}
    strides: [1, 2]
    padding: [same, valid]
    dilation: [1, 2]
    batch_norm: [true, false]
    convs: {low: 1, high: 2}
    pooling: [max, avg, none]
    pool_size: [1, 2, 3]
    pool_strides: [1, 2]
    dropout: [0.0, 0.2]
  head:
    pooling: [flatten, global_avg, global_max]
    dense_layers: {low: 0, high: 2}
    units: [4, 7]
"""
)
INPUT_SHAPES = [(28, 28, 1), (8, 8, 1), (32, 32, 3), (13, 9, 2)]


def test_shape_arithmetic_matches_keras_for_random_configs():
    suggester = RandomSuggester(seed=1234)
    valid = rejected = 0
    for index in range(300):
        config = sample_config(WIDE_SPACE, suggester)
        input_shape = INPUT_SHAPES[index % len(INPUT_SHAPES)]
        try:
            architecture = analyze_architecture(config, input_shape=input_shape, num_classes=5)
        except InvalidArchitectureError as error:
            rejected += 1
            keras_rejection = _keras_rejection(config, input_shape)
            assert keras_rejection is not None, f"rejected but Keras builds it fine: {config.to_json()}"
            if keras_rejection.startswith("constructor: "):
                # Keras refuses to construct a strided dilated conv anywhere in the network before
                # it sees any shape, while autocnn names the first problem in network order.
                assert "dilation" in keras_rejection, keras_rejection
                assert any(block.strides > 1 and block.dilation > 1 for block in config.model.blocks)
            else:
                assert keras_rejection == _layer_named_by(error), (keras_rejection, str(error))
            continue
        assert _keras_rejection(config, input_shape) is None
        valid += 1
        model = build_model(config, input_shape=input_shape, num_classes=5)
        assert [layer.name for layer in model.layers] == [layer.name for layer in architecture.layers]
        for built, predicted in zip(model.layers, architecture.layers, strict=True):
            assert tuple(built.output.shape[1:]) == predicted.output_shape, built.name
            assert built.count_params() == predicted.params, built.name
        assert model.count_params() == architecture.params
        if index % 50 == 49:
            keras.backend.clear_session()
    assert valid > 100 and rejected > 20, (valid, rejected)


def _keras_rejection(config, input_shape) -> str | None:
    """Where Keras itself fails on the configuration (no autocnn check): a layer name, or None.

    The layers are applied one at a time to a real image, so the first layer that raises or
    yields an empty feature map is the one named. A layer Keras refuses to construct is named
    ``"constructor: <Keras's message>"``.
    """
    from autocnn.model import _builder

    captured: list[keras.layers.Layer] = []
    original_check, original_sequential = _builder.analyze_architecture, keras.Sequential
    _builder.analyze_architecture = lambda *args, **kwargs: None  # type: ignore[assignment]
    keras.Sequential = lambda layers, **kwargs: captured.extend(layers[1:])  # type: ignore[assignment,misc]
    try:
        _builder.build_model(config, input_shape=input_shape, num_classes=5)
    except ValueError as error:
        return f"constructor: {error}"
    finally:
        _builder.analyze_architecture, keras.Sequential = original_check, original_sequential
    images = np.zeros((1, *input_shape), dtype="float32")
    for layer in captured:
        try:
            images = layer(images)
        except Exception:  # Keras and TensorFlow raise several types for a too-small input
            return layer.name
        if any(size <= 0 for size in images.shape[1:]):
            return layer.name
    return None


def _layer_named_by(error: InvalidArchitectureError) -> str:
    """The Keras layer name of the place autocnn's message names ("block 2 conv 1" -> block2_conv1)."""
    match = re.match(r"block (\d+) (?:conv (\d+)|pooling)", str(error))
    assert match, f"the message names no layer: {error}"
    block, conv = match.groups()
    return f"block{block}_conv{conv}" if conv else f"block{block}_pool"


@pytest.mark.parametrize("seed", [0, 1])
def test_flops_grow_with_filters(seed):
    suggester = RandomSuggester(seed=seed)
    config = sample_config(parse_space("name: s\nmodel: {blocks: {count: 1, filters: 8}}"), suggester)
    wider = config.model_copy(
        update={
            "model": config.model.model_copy(
                update={"blocks": (config.model.blocks[0].model_copy(update={"filters": 16}),)}
            )
        }
    )
    small = analyze_architecture(config, input_shape=(8, 8, 1), num_classes=10)
    large = analyze_architecture(wider, input_shape=(8, 8, 1), num_classes=10)
    # conv FLOPs double exactly; dense input doubles too
    assert large.layers[0].flops == 2 * small.layers[0].flops
    assert small.layers[0].flops == 2 * 8 * 8 * 3 * 3 * 1 * 8
