"""Shape arithmetic agrees with what Keras builds, for a few hundred random configurations."""

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
        except InvalidArchitectureError:
            rejected += 1
            assert _keras_rejects(config, input_shape), (
                f"rejected but Keras builds it fine: {config.to_json()}"
            )
            continue
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


def _keras_rejects(config, input_shape) -> bool:
    """Build the layers with Keras directly (no autocnn check) and run one image through."""
    from autocnn.model import _builder

    original = _builder.analyze_architecture
    _builder.analyze_architecture = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        model = _builder.build_model(config, input_shape=input_shape, num_classes=5)
        shapes = [tuple(layer.output.shape[1:]) for layer in model.layers]
        if any(size is not None and size <= 0 for shape in shapes for size in shape):
            return True
        model.predict_on_batch(np.zeros((1, *input_shape), dtype="float32"))
    except Exception:
        return True
    finally:
        _builder.analyze_architecture = original
    return False


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
