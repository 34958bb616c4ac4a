"""One small finished study (every trial state) shared by the reporting tests, and the digits data."""

from __future__ import annotations

from typing import Any

import pytest

REPORT_SPACE = """
name: report
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
  learning_rate: {low: 3.0e-3, high: 3.0e-2, log: true}
  batch_size: 128
  epochs: 2
search:
  algorithm: random
  pruner: median
seeds:
  - name: good1
    model: {blocks: [{filters: 8, pooling: none}]}
    training: {learning_rate: 0.01, batch_size: 128, epochs: 2}
  - name: good2
    model: {blocks: [{filters: 8, pooling: max}]}
    training: {learning_rate: 0.02, batch_size: 128, epochs: 2}
  - name: good3
    model: {blocks: [{filters: 4, pooling: none}]}
    training: {learning_rate: 0.03, batch_size: 128, epochs: 2}
  - name: too_deep
    model: {blocks: [{filters: 4}, {filters: 4}, {filters: 4}, {filters: 4}]}
    training: {batch_size: 128, epochs: 1}
  - name: diverges
    model: {blocks: [{filters: 8, pooling: none}], head: {dense_units: [64]}}
    training: {optimizer: sgd, learning_rate: 10.0, l2: 1.0, batch_size: 32, epochs: 2}
  - name: too_slow
    model: {blocks: [{filters: 8, pooling: none}]}
    training: {learning_rate: 1.0e-7, batch_size: 128, epochs: 2}
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A retrained study on digits: 3 complete, 1 rejected, 1 failed (NaN loss), 1 pruned trial."""
    from autocnn.core.session import search

    root = tmp_path_factory.mktemp("report_study")
    space = root / "space.yaml"
    space.write_text(REPORT_SPACE)
    study = search(
        space,
        dataset="digits",
        workdir=root / "runs",
        max_trials=5,
        retrain=True,
        command_line="autocnn search --space space.yaml --dataset digits --max-trials 5",
    )
    statuses = [record.status for record in study.trials()]
    assert statuses == ["complete", "complete", "complete", "rejected", "failed", "pruned"], statuses
    return study


@pytest.fixture(scope="module")
def digits() -> Any:
    from autocnn.data import load_dataset

    return load_dataset("digits", validation_fraction=0.1, seed=0)
