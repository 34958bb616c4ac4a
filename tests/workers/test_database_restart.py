"""A real PostgreSQL server stopped under running workers: they wait it out, or exit with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autocnn.core.session import search
from autocnn.core.study import load_study
from autocnn.errors import StorageUnavailableError
from tests.conftest import REPO
from tests.workers.test_shared_study import SLOW_WORKER_SPACE, accounted

pytestmark = pytest.mark.postgres
HEARTBEATS = {"AUTOCNN_HEARTBEAT_INTERVAL": "1", "AUTOCNN_HEARTBEAT_GRACE": "4"}


def _start_worker(url: str, workdir: Path, *, max_trials: int, retry_s: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "autocnn", "worker", "--study", "slow_shared", "--storage", url,
            "--workdir", str(workdir), "--max-trials", str(max_trials), "--no-tracking",
        ],
        cwd=REPO,
        env={**os.environ, **HEARTBEATS, "AUTOCNN_STORAGE_RETRY_S": str(retry_s)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


@pytest.fixture
def study_url(write_space, workdir, postgres_server, monkeypatch) -> str:
    """A one-trial study on the test's own server, with fast heartbeats; return the server's URL."""
    for name, value in HEARTBEATS.items():
        monkeypatch.setenv(name, value)
    search(
        write_space(SLOW_WORKER_SPACE), dataset="digits", storage=postgres_server.url, workdir=workdir,
        study="slow_shared", max_trials=1, retrain=False,
    )  # fmt: skip
    return postgres_server.url


def _wait_for_running_trials(url: str, workdir: Path, *, workers: int = 1) -> int:
    """Wait until ``workers`` workers each run a sampled trial; return one's number.

    A trial lost before its configuration was sampled has nothing to retry, so waiting only for
    RUNNING would race the worker's sampling.
    """
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        running = [
            record
            for record in load_study("slow_shared", storage=url, workdir=workdir).trials()
            if record.status == "running" and record.config is not None
        ]
        if len({record.worker for record in running}) >= workers:
            return running[0].number
        time.sleep(0.3)
    raise AssertionError(f"{workers} workers did not start a trial each")


def test_workers_wait_out_a_database_restart_and_lose_nothing(study_url, workdir, postgres_server):
    url = study_url
    workers = [_start_worker(url, workdir, max_trials=5, retry_s=120) for _ in range(2)]
    # a worker still starting would find no database to open: that is refused at once (a wrong URL)
    _wait_for_running_trials(url, workdir, workers=2)
    postgres_server.stop()  # every connection closed; new ones refused
    time.sleep(8)  # twice the heartbeat grace: the running trials' heartbeats are all missed
    postgres_server.start()
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr[-2000:]
        assert "Traceback" not in stderr
    told = "".join(stderr for _, stderr in outputs)
    assert "warning: lost the study database postgresql+psycopg2://postgres@127.0.0.1" in told
    assert "the study database is back; the search goes on" in told
    records = load_study("slow_shared", storage=url, workdir=workdir).trials()
    accounted(records, limit=5)
    # the trial that ran through the outage finished where it ran: none was failed as lost
    assert [record.status for record in records] == ["complete"] * len(records)
    assert all(record.retry_of is None for record in records)


def test_a_database_gone_for_good_ends_a_worker_with_one_line_and_a_restart_completes_the_study(
    study_url, workdir, postgres_server
):
    url = study_url
    worker = _start_worker(url, workdir, max_trials=3, retry_s=3)
    lost = _wait_for_running_trials(url, workdir)
    postgres_server.stop()
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode == StorageUnavailableError.exit_code, stderr[-2000:]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "lost the study database postgresql+psycopg2://postgres@127.0.0.1" in errors[0]
    assert "for 3 s" in errors[0] and "run the same command again once the database is back" in errors[0]

    postgres_server.start()
    again = _start_worker(url, workdir, max_trials=3, retry_s=3)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr[-2000:]
    records = load_study("slow_shared", storage=url, workdir=workdir).trials()
    accounted(records, limit=3)
    by_number = {record.number: record for record in records}
    assert by_number[lost].status == "failed"  # its worker died with the database: failed, then retried
    retries = [record for record in records if record.retry_of == lost]
    assert [retry.status for retry in retries] == ["complete"]
