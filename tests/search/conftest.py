from __future__ import annotations

import pytest

TINY_SPACE = """
name: tiny
model:
  blocks:
    count: 1
    filters: [4, 8]
    kernel_size: 3
    pooling: [max, none]
  head:
    pooling: [flatten, global_avg]
    dense_layers: 0
training:
  optimizer: adam
  learning_rate: [3e-3, 1e-2, 3e-2]
  batch_size: 128
  epochs: 2
search:
  algorithm: random
  pruner: none
  max_trials: 3
"""


@pytest.fixture
def tiny_space(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPACE)
    return path
