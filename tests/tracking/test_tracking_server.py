"""A real ``mlflow server`` that dies in the middle of a search: tracking stops once, the search goes on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from autocnn.config import TrialConfig
from autocnn.core.callbacks import SearchCallback
from autocnn.tracking import MLflowTracker


class TrackingServer:
    """One ``mlflow server`` process group on a free loopback port."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
                "--artifacts-destination", str(root / "artifacts"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.kill()
        raise AssertionError("mlflow server did not start in 120 s")

    def kill(self) -> None:
        """SIGKILL the server and its workers, as a crash or an out-of-memory kill would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)


@pytest.fixture
def tracking_server(tmp_path: Path) -> Iterator[TrackingServer]:
    server = TrackingServer(tmp_path / "server")
    yield server
    server.kill()


class KillServerAtTrial(SearchCallback):
    """Before trial ``number`` starts, read what the server holds, then kill it."""

    def __init__(self, server: TrackingServer, tracker: MLflowTracker, number: int) -> None:
        self.server, self.tracker, self.number = server, tracker, number
        self.finished_runs_before: list[str] = []

    def on_trial_start(self, number: int, config: TrialConfig, *, seed_name: str = "") -> None:
        if number != self.number:
            return
        runs = self.tracker._client.search_runs(
            [self.tracker.experiment_id], filter_string="tags.trial = '0'"
        )
        self.finished_runs_before = [run.info.status for run in runs]
        self.server.kill()


def test_a_tracking_server_dying_mid_search_stops_tracking_once_and_the_search_goes_on(
    tracking_server, small_space, workdir, capsys
):
    from autocnn.core.session import search

    tracker = MLflowTracker(tracking_uri=tracking_server.uri)
    killer = KillServerAtTrial(tracking_server, tracker, number=1)
    study = search(
        small_space,
        dataset="digits",
        workdir=workdir,
        max_trials=3,
        retrain=True,
        callbacks=[killer, tracker],
    )
    assert killer.finished_runs_before == ["FINISHED"]  # trial 0 was tracked on the server
    assert [record.status for record in study.trials()] == ["complete"] * 3
    assert study.final is not None and Path(study.final.model_path).is_file()
    err = capsys.readouterr().err
    assert err.count("warning: MLflow tracking stopped while starting trial 1") == 1, err
    assert err.count("warning: MLflow") == 1, err
    assert not tracker.active
    # MLflow's own retries (7, doubling from 2 s) would hold the search for minutes here
    assert sum(tracker.timings.values()) < 60, tracker.timings
