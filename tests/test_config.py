import pytest

from autocnn.config import TrialConfig
from autocnn.errors import ConfigError


def test_round_trips_through_dict_and_json():
    config = TrialConfig.from_dict(
        {
            "name": "x",
            "model": {
                "blocks": [{"filters": 8, "batch_norm": True}, {"filters": 16}],
                "head": {"dense_units": [32]},
            },
            "training": {"learning_rate": 0.01, "augmentation": {"zoom": 0.1}},
        }
    )
    assert TrialConfig.from_dict(config.to_dict()) == config
    assert TrialConfig.from_json(config.to_json()) == config
    assert config.model.blocks[1].filters == 16


def test_flat_names_are_readable():
    flat = TrialConfig.from_dict(
        {"model": {"blocks": [{}, {"filters": 64}], "head": {"dense_units": [128]}}}
    ).flat()
    assert flat["blocks.count"] == 2
    assert flat["block2.filters"] == 64
    assert flat["head.dense1.units"] == 128
    assert flat["training.learning_rate"] == 1e-3
    assert flat["training.augmentation.flip"] == "none"


def test_bad_value_names_the_entry():
    with pytest.raises(ConfigError, match=r"config\.model\.blocks\.0\.kernel_size"):
        TrialConfig.from_dict({"model": {"blocks": [{"kernel_size": 9}]}})


def test_bad_json():
    with pytest.raises(ConfigError, match="not valid JSON"):
        TrialConfig.from_json("{nope")
