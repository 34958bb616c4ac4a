import math

import pytest

from autocnn.config import TrialConfig
from autocnn.space import Choice, Fixed, FloatRange, IntRange, load_space, parse_space, space_json_schema
from tests.conftest import REPO, SPACES

ALL_SPACES = sorted(SPACES.glob("*.yaml"))


def test_there_are_ready_made_spaces():
    names = {path.stem for path in ALL_SPACES}
    assert {"quick", "mnist", "fashion_mnist", "cifar10", "seed_cnns"} <= names


@pytest.mark.parametrize("path", ALL_SPACES, ids=lambda p: p.stem)
def test_every_ready_made_space_loads(path):
    space = load_space(path)
    assert space.name == path.stem
    assert space.parameters()


FULL = """
name: full
model:
  blocks:
    count: {low: 1, high: 3}
    filters: [16, 32, 64]
    kernel_size: {low: 1, high: 7, step: 2}
    strides: [1, 2]
    padding: [same, valid]
    dilation: [1, 2]
    activation: [relu, leaky_relu, elu, gelu, swish, tanh, sigmoid]
    batch_norm: [true, false]
    convs: {low: 1, high: 2}
    pooling: [max, avg, none]
    pool_size: [2, 3]
    pool_strides: [1, 2]
    dropout: {low: 0.0, high: 0.5}
    per_block:
      2: {filters: [64, 128]}
      3: {filters: 256, pooling: none}
  head:
    pooling: [flatten, global_avg, global_max]
    dense_layers: {low: 0, high: 2}
    units: [64, 128]
    activation: relu
    dropout: {low: 0.0, high: 0.5, step: 0.1}
training:
  optimizer: [sgd, adam, adamw, rmsprop]
  learning_rate: {low: 1e-4, high: 1e-1, log: true}
  momentum: [0.0, 0.9]
  batch_size: [32, 64]
  epochs: {low: 2, high: 6, step: 2}
  l1: [0.0, 1e-5]
  l2: {low: 1e-6, high: 1e-3, log: true}
  label_smoothing: [0.0, 0.1]
  lr_schedule: [constant, cosine]
  augmentation:
    flip: [none, horizontal]
    rotation: {low: 0.0, high: 0.1}
    translation: [0.0, 0.1]
    zoom: [0.0, 0.1]
    contrast: [0.0, 0.2]
    erasing: {low: 0.0, high: 0.5}
search:
  backend: optuna
  algorithm: nsga2
  pruner: asha
  max_trials: 50
  timeout: 30m
  seed: 7
  objective:
    - {metric: val_accuracy, direction: maximize}
    - {metric: params, direction: minimize}
  constraints: {max_params: 1000000, max_flops: 50000000}
seeds:
  - name: tiny
    model:
      blocks: [{filters: 8}]
"""


def test_every_dimension_parses():
    space = parse_space(FULL)
    blocks = space.model.blocks
    assert blocks.count == IntRange(1, 3)
    assert blocks.kernel_size == IntRange(1, 7, step=2)
    assert blocks.activation == Choice(("relu", "leaky_relu", "elu", "gelu", "swish", "tanh", "sigmoid"))
    assert blocks.batch_norm == Choice((True, False))
    assert blocks.pool_strides == Choice((1, 2))
    assert blocks.dropout == FloatRange(0.0, 0.5)
    assert space.model.head.dropout == FloatRange(0.0, 0.5, step=0.1)
    assert space.training.learning_rate == FloatRange(1e-4, 1e-1, log=True)
    assert space.training.l1 == Choice((0.0, 1e-5))
    assert space.training.augmentation.flip == Choice(("none", "horizontal"))
    assert space.training.augmentation.erasing == FloatRange(0.0, 0.5)
    assert space.training.epochs == IntRange(2, 6, step=2)
    assert space.search.timeout == 1800.0
    assert [o.metric for o in space.search.objective] == ["val_accuracy", "params"]
    assert space.search.constraints.max_params == 1_000_000
    assert space.seeds == (TrialConfig.from_dict({"name": "tiny", "model": {"blocks": [{"filters": 8}]}}),)


def test_per_block_values_differ_between_blocks():
    parameters = parse_space(FULL).parameters()
    assert parameters["block1.filters"] == Choice((16, 32, 64))
    assert parameters["block2.filters"] == Choice((64, 128))
    assert parameters["block3.filters"] == Fixed(256)
    assert parameters["block3.pooling"] == Fixed("none")
    assert "block4.filters" not in parameters
    assert "head.dense2.units" in parameters and "head.dense3.units" not in parameters


def test_yaml_1e_minus_4_is_a_float_not_a_string():
    space = parse_space(
        "name: lr\ntraining:\n  learning_rate: {low: 1e-4, high: 1e-2, log: true}\n  l2: 1e-5\n"
    )
    assert space.training.learning_rate == FloatRange(1e-4, 1e-2, log=True)
    assert space.training.l2 == Fixed(1e-5)


def test_size_counts_conditional_blocks():
    space = parse_space(
        "name: s\nmodel:\n  blocks:\n    count: {low: 1, high: 2}\n    filters: [8, 16]\n"
        "  head:\n    dense_layers: 0\n"
    )
    # one block: 2 choices; two blocks: 2 * 2 choices
    assert space.size() == 2 + 4
    assert math.isinf(parse_space(FULL).size())


def test_name_defaults_to_file_stem(write_space):
    assert load_space(write_space("model: {}\n", name="my_space.yaml")).name == "my_space"


def test_json_schema_describes_the_sections():
    schema = space_json_schema()
    assert set(schema["properties"]) == {"name", "description", "model", "training", "search", "seeds"}
    blocks = schema["$defs"]["BlocksSpace"]["properties"]
    kernel_int = blocks["kernel_size"]["anyOf"][0]
    assert kernel_int == {"type": "integer", "minimum": 1, "maximum": 7}
    assert schema["additionalProperties"] is False


def test_the_readme_example_space_loads():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Search spaces", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    space = parse_space(example, source="README.md")
    assert space.search.trial_train_fraction == 1.0 and space.search.retrain_epochs == 20
    assert space.model.blocks.for_block(2)["filters"] == Choice((32, 64))
    assert len(space.seeds) == 1
