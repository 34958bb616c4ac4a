"""Several worker processes on one study: SQLite on this machine, and a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from autocnn.core.records import LoopEnd
from autocnn.core.session import run_worker, search
from autocnn.core.study import load_study
from tests.conftest import REPO

WORKER_SPACE = """
name: shared
model:
  blocks: {count: 1, filters: [4, 8, 16], pooling: [max, none]}
  head: {dense_layers: 0}
training: {learning_rate: {low: 0.003, high: 0.01, log: true}, batch_size: 64, epochs: 2}
search: {algorithm: tpe, pruner: none}
"""

SLOW_WORKER_SPACE = """
name: slow_shared
model:
  blocks: {count: 1, filters: [8, 16], pooling: none}
  head: {dense_layers: 0}
training: {learning_rate: [0.003, 0.01], batch_size: 4, epochs: 6}
search: {algorithm: random, pruner: none}
"""


def accounted(records, *, limit):
    numbers = [r.number for r in records]
    assert numbers == list(range(len(records))), numbers  # unique, no gaps
    counted = [r for r in records if r.status in ("complete", "pruned", "failed")]
    assert len(counted) >= limit
    assert not [r for r in records if r.status == "running"]
    configs = [r.config.to_json() for r in records if r.status == "complete" and r.retry_of is None]
    return counted, configs


def test_two_workers_share_the_default_sqlite_study(write_space, workdir):
    study = search(
        write_space(WORKER_SPACE), dataset="digits", workdir=workdir, max_trials=4, workers=2, retrain=True
    )
    records = study.trials()
    counted, configs = accounted(records, limit=4)
    assert len(counted) <= 4 + 1  # a worker may start one trial the other is about to finish
    assert len(set(configs)) == len(configs)  # each worker samples from its own seed: no duplicate work
    workers = {r.worker.rsplit(":", 1)[1] for r in records}
    assert len(workers) == 2 and str(os.getpid()) not in workers
    assert study.final is not None and study.final.trial_number == study.best_trial.number


def test_recycling_a_worker_after_its_quota(write_space, workdir):
    study = search(write_space(WORKER_SPACE), dataset="digits", workdir=workdir, max_trials=1, retrain=False)
    outcome = run_worker(study.name, workdir=workdir, max_trials=5, recycle_after=2)
    assert outcome is LoopEnd.RECYCLE
    assert len(load_study(study.name, workdir=workdir).trials()) == 3


@pytest.mark.parametrize("limit", ["recycle_after", "max_rss_mb"])
def test_the_supervisor_restarts_workers_past_their_quota_or_memory_limit(write_space, workdir, limit):
    # 1 trial, or 1 MB (any process is past it once it has trained), per worker process
    study = search(
        write_space(WORKER_SPACE), dataset="digits", workdir=workdir, max_trials=4, workers=2, retrain=False,
        **{limit: 1},
    )  # fmt: skip
    records = study.trials()
    assert sum(r.status == "complete" for r in records) >= 4 and not [
        r for r in records if r.status == "running"
    ]
    processes = {r.worker for r in records}
    assert len(processes) >= 3  # 2 workers to start, and at least one restarted in its place
    assert all(r.retry_of is None for r in records)  # a recycled worker loses no trial


def _worker(postgres_url, workdir, max_trials):
    env = {**os.environ, "AUTOCNN_HEARTBEAT_INTERVAL": "1", "AUTOCNN_HEARTBEAT_GRACE": "4"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autocnn",
            "worker",
            "--study",
            "slow_shared",
            "--storage",
            postgres_url,
            "--workdir",
            str(workdir),
            "--max-trials",
            str(max_trials),
            "--quiet",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
def test_three_workers_on_postgresql_survive_a_killed_worker(write_space, workdir, postgres_url, monkeypatch):
    monkeypatch.setenv("AUTOCNN_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("AUTOCNN_HEARTBEAT_GRACE", "4")
    space = write_space(SLOW_WORKER_SPACE)
    search(
        space,
        dataset="digits",
        storage=postgres_url,
        workdir=workdir,
        study="slow_shared",
        max_trials=1,
        retrain=False,
    )
    limit = 5
    workers = [_worker(postgres_url, workdir, limit) for _ in range(3)]
    victim = workers[0]
    deadline = time.monotonic() + 120
    victim_trial = None
    while time.monotonic() < deadline and victim_trial is None:
        time.sleep(0.5)
        for record in load_study("slow_shared", storage=postgres_url, workdir=workdir).trials():
            sampled = record.config is not None  # a trial lost before sampling is not retried
            if record.status == "running" and sampled and record.worker.endswith(f":{victim.pid}"):
                victim_trial = record.number
    assert victim_trial is not None, "the victim never started a trial"
    time.sleep(1.0)
    victim.send_signal(signal.SIGKILL)
    for worker in workers[1:]:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr
    records = load_study("slow_shared", storage=postgres_url, workdir=workdir).trials()
    accounted(records, limit=limit)
    by_number = {r.number: r for r in records}
    lost = by_number[victim_trial]
    assert lost.status == "failed" and "stopped sending heartbeats" in lost.reason
    retries = [r for r in records if r.retry_of == victim_trial]
    assert len(retries) == 1 and retries[0].status == "complete"
    assert retries[0].config == lost.config
