"""A Ctrl-C or SIGTERM stops the training run it landed in, even with its KeyboardInterrupt lost, and no more."""

from __future__ import annotations

from typing import Any

import pytest

from autocnn import cli
from autocnn._stop import clear_stop, raise_if_stop_requested, request_stop
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


def test_a_stop_asked_of_a_cli_command_is_forgotten_when_main_returns(monkeypatch):
    def interrupted_command(**_: Any) -> None:
        request_stop()
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted_command)
    try:
        assert cli.main(["search"]) == 130
        try:
            raise_if_stop_requested()
        except KeyboardInterrupt:
            pytest.fail("the stop outlived the command: what the calling program trains next would stop")
    finally:
        clear_stop()
