import keras
import pytest

from autocnn.config import TrialConfig
from autocnn.errors import InvalidArchitectureError
from autocnn.model import analyze_architecture, build_model
from autocnn.space import load_space
from tests.conftest import SPACES


@pytest.fixture(scope="module")
def seeds():
    return {seed.name: seed for seed in load_space(SPACES / "seed_cnns.yaml").seeds}


def layer_kinds(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_seed_a_has_the_stated_layers_and_421642_params(seeds):
    model = build_model(seeds["keras_conv32_conv64_dense128"], input_shape=(28, 28, 1), num_classes=10)
    assert layer_kinds(model) == [
        "Conv2D",
        "Activation",
        "MaxPooling2D",
        "Conv2D",
        "Activation",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)] == [32, 64]
    assert model.layers[7].units == 128 and model.layers[8].units == 10
    assert model.count_params() == 421_642
    assert model.output_shape == (None, 10)


def test_seed_b_has_the_stated_layers(seeds):
    config = seeds["conv16_conv32_bn"]
    model = build_model(config, input_shape=(28, 28, 1), num_classes=10)
    assert layer_kinds(model) == [
        "Conv2D",
        "BatchNormalization",
        "Activation",
        "MaxPooling2D",
        "Conv2D",
        "BatchNormalization",
        "Activation",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.padding) for c in convs] == [
        (16, (5, 5), "same"),
        (32, (5, 5), "same"),
    ]
    assert config.training.optimizer == "adam" and config.training.learning_rate == 1e-3


def test_regularization_and_dropout_are_applied():
    config = TrialConfig.from_dict(
        {
            "model": {"blocks": [{"dropout": 0.25}], "head": {"dense_units": [16], "dropout": 0.5}},
            "training": {"l2": 1e-4},
        }
    )
    model = build_model(config, input_shape=(8, 8, 1), num_classes=3)
    dropouts = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == [0.25, 0.5]
    assert model.get_layer("block1_conv1").kernel_regularizer is not None


def test_invalid_config_is_rejected_before_keras():
    config = TrialConfig.from_dict({"model": {"blocks": [{}, {}, {}, {}]}})
    with pytest.raises(
        InvalidArchitectureError, match=r"block 4 pooling: max pooling 2x2 reduces 1x1 to 0x0"
    ):
        build_model(config, input_shape=(8, 8, 1), num_classes=10)


def test_strided_dilated_conv_is_rejected():
    config = TrialConfig.from_dict({"model": {"blocks": [{"strides": 2, "dilation": 2}]}})
    with pytest.raises(InvalidArchitectureError, match="strides 2 with dilation 2"):
        analyze_architecture(config, input_shape=(28, 28, 1), num_classes=10)


def test_valid_padding_too_large_kernel_is_rejected():
    config = TrialConfig.from_dict(
        {"model": {"blocks": [{"kernel_size": 7, "padding": "valid", "dilation": 2}]}}
    )
    with pytest.raises(InvalidArchitectureError, match=r"reduces 8x8 to 0x0"):
        analyze_architecture(config, input_shape=(8, 8, 1), num_classes=10)


def test_mixed_precision_keeps_float32_output():
    config = TrialConfig.from_dict({"training": {"mixed_precision": True}})
    model = build_model(config, input_shape=(8, 8, 1), num_classes=4)
    assert model.get_layer("block1_conv1").dtype_policy.name == "mixed_float16"
    assert model.get_layer("output").dtype_policy.name == "float32"
