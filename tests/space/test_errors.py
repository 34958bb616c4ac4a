"""Each kind of bad space file gets one message naming the file, the entry and the value."""

import pytest

from autocnn.errors import ConfigError
from autocnn.space import load_space


def error_for(write_space, text: str) -> str:
    path = write_space(text)
    with pytest.raises(ConfigError) as caught:
        load_space(path)
    message = str(caught.value)
    assert message.startswith(str(path) + ": ")
    return message


def test_unknown_key(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    filtres: [8, 16]\n")
    assert "model.blocks: unknown key 'filtres'" in message


def test_unknown_top_level_key(write_space):
    assert "unknown key 'modle'" in error_for(write_space, "name: x\nmodle: {}\n")


def test_wrong_type(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    filters: lots\n")
    assert "model.blocks.filters: 'lots' is not a number" in message


def test_low_greater_than_high(write_space):
    message = error_for(write_space, "name: x\ntraining:\n  learning_rate: {low: 1e-2, high: 1e-4}\n")
    assert "training.learning_rate: low (0.01) is greater than high (0.0001); swap them" in message


def test_empty_choice(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    kernel_size: []\n")
    assert "model.blocks.kernel_size: the choice list is empty" in message


def test_kernel_zero(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    kernel_size: 0\n")
    assert "model.blocks.kernel_size: 0 is outside 1..7" in message


def test_kernel_nine_in_a_choice(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    kernel_size: [3, 9]\n")
    assert "model.blocks.kernel_size: 9 is outside 1..7" in message


def test_negative_dropout(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    dropout: -0.1\n")
    assert "model.blocks.dropout: -0.1 is outside >= 0 and < 1" in message


def test_unknown_activation(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    activation: [relu, rleu]\n")
    assert "'rleu' is not allowed; expected one of relu, leaky_relu" in message


def test_bad_duration(write_space):
    message = error_for(write_space, "name: x\nsearch:\n  timeout: soon\n")
    assert "search.timeout: 'soon' is not a duration; write seconds or e.g. 30m, 2h" in message


def test_bad_seed_config(write_space):
    message = error_for(write_space, "name: x\nseeds:\n  - model: {blocks: [{filters: 0}]}\n")
    assert "seeds.0.model.blocks.0.filters" in message


def test_not_yaml(write_space):
    message = error_for(write_space, "name: x\nmodel: {blocks: [unclosed\n")
    assert "not valid YAML at line" in message


def test_yaml_that_is_not_a_mapping(write_space):
    assert "must be a mapping" in error_for(write_space, "- 1\n- 2\n")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such space file"):
        load_space(tmp_path / "missing.yaml")


def test_erasing_probability_above_one(write_space):
    message = error_for(write_space, "name: x\ntraining:\n  augmentation:\n    erasing: [0.0, 1.5]\n")
    assert "training.augmentation.erasing: 1.5 is outside 0..1" in message


def test_billion_laughs_is_refused_before_it_is_expanded(write_space):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]" for level in range(1, 9)]
    message = error_for(write_space, "name: x\n" + "\n".join(lines) + "\nmodel: {blocks: {filters: *a8}}\n")
    assert "expands to more than 100,000 values (YAML anchors and aliases" in message


def test_a_few_aliases_are_fine(write_space):
    space = load_space(
        write_space("name: x\nmodel:\n  blocks: {filters: &widths [8, 16]}\n  head: {units: *widths}\n")
    )
    assert space.model.head.units == space.model.blocks.filters


def test_deep_nesting_is_one_message(write_space):
    message = error_for(write_space, "name: x\nmodel: " + "[" * 30_000 + "]" * 30_000 + "\n")
    assert "nested too deeply to be a space file" in message


def test_a_huge_value_is_shortened_in_the_message(write_space):
    message = error_for(write_space, "name: x\nmodel:\n  blocks:\n    filters: " + "x" * 100_000 + "\n")
    assert "model.blocks.filters: 'xxxx" in message and len(message) < 400


def test_thousands_of_mistakes_list_the_first_few(write_space):
    message = error_for(write_space, "name: x\n" + "".join(f"key{number}: 1\n" for number in range(5_000)))
    lines = message.splitlines()
    assert len(lines) == 9 and "unknown key 'key0'" in lines[0]
    assert lines[-1].endswith("... and 4,992 more problems; fix these first")


def test_an_integer_beyond_any_float_is_not_a_finite_number(write_space):
    huge = "1" + "0" * 400
    message = error_for(write_space, f"name: x\ntraining: {{learning_rate: {{low: {huge}, high: 2}}}}\n")
    assert "training.learning_rate: 100000…(401 digits) is not a finite number" in message
