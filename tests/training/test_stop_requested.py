"""A Ctrl-C or SIGTERM whose KeyboardInterrupt was lost still stops the training run it landed in."""

from __future__ import annotations

import pytest

from autocnn._stop import clear_stop, request_stop
from autocnn.config import TrialConfig
from autocnn.core.records import EpochRecord
from autocnn.data import load_dataset
from autocnn.training import fit_config

CONFIG = TrialConfig.from_dict(
    {
        "model": {"blocks": [{"filters": 4, "pooling": "none"}], "head": {"dense_units": []}},
        "training": {"batch_size": 64, "epochs": 20},
    }
)


def test_a_stop_whose_interrupt_a_finalizer_swallowed_ends_the_fit_at_its_next_step():
    epochs_seen: list[int] = []

    def remember_a_stop_after_the_first_epoch(record: EpochRecord) -> bool:
        epochs_seen.append(record.epoch)
        if record.epoch == 1:
            request_stop()  # what the signal handler does before its KeyboardInterrupt, here lost
        return False

    try:
        with pytest.raises(KeyboardInterrupt):
            fit_config(CONFIG, load_dataset("digits"), on_epoch=remember_a_stop_after_the_first_epoch, seed=0)
    finally:
        clear_stop()
    assert epochs_seen == [1]
