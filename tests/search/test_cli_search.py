"""`autocnn search` as a user runs it: real subprocesses, signals, exit codes and output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autocnn.core.study import load_study

SLOW_SPACE = """
name: slow
model:
  blocks: {count: 1, filters: [8, 16], pooling: none}
  head: {dense_layers: 0}
training: {batch_size: 4, epochs: 5}
search: {algorithm: random, pruner: none, max_trials: 50}
"""


def autocnn(*args: str, workdir: Path, tracking: bool = False) -> list[str]:
    return [
        sys.executable,
        "-m",
        "autocnn",
        *args,
        "--workdir",
        str(workdir),
        *([] if tracking else ["--no-tracking"]),
    ]


def start(command: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(command[command.index("--workdir") + 1]).parent,
        env=env,
    )


def wait_for_trials(
    workdir: Path, study: str, count: int, *, process: subprocess.Popen[str], limit_s: float = 300
) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the search exited ({process.returncode}) early: {process.stderr.read()}")
        if (workdir / "studies.db").exists():
            try:
                done = [t for t in load_study(study, workdir=workdir).trials() if t.status == "complete"]
            except Exception:
                done = []
            if len(done) >= count:
                return
        time.sleep(0.5)
    raise AssertionError(f"study {study} did not reach {count} completed trials")


def wait_for_running_trial(workdir: Path, study: str, *, limit_s: float = 60) -> int:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        # a trial lost before its configuration was sampled has nothing to retry: wait for one sampled
        trials = load_study(study, workdir=workdir).trials()
        running = [t for t in trials if t.status == "running" and t.config is not None]
        if running:
            time.sleep(1.0)  # into its first epochs
            return running[0].number
        time.sleep(0.2)
    raise AssertionError(f"study {study} has no running trial")


def test_search_prints_a_ranked_table_and_the_test_accuracy(tiny_space, workdir):
    result = subprocess.run(
        autocnn(
            "search",
            "--dataset",
            "digits",
            "--space",
            str(tiny_space),
            "--max-trials",
            "2",
            workdir=workdir,
            tracking=True,
        ),
        capture_output=True,
        text=True,
        cwd=workdir.parent,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "oneDNN" not in result.stderr
    study = load_study("tiny_digits", workdir=workdir)
    final = study.final
    assert f"test accuracy {final.test_accuracy:.4f}" in result.stdout
    assert "top trials of study 'tiny_digits'" in result.stdout
    assert "no more trials: the study has its 2 trials" in result.stdout
    assert str(final.model_path) in result.stdout
    assert Path(final.model_path).is_file()
    assert (
        "MLflow  sqlite:///" in result.stdout and (workdir / "mlflow.db").is_file()
    )  # tracking is on by default


def test_json_output_is_one_object(tiny_space, workdir):
    result = subprocess.run(
        autocnn(
            "search",
            "--dataset",
            "digits",
            "--space",
            str(tiny_space),
            "--max-trials",
            "1",
            "--no-retrain",
            "--json",
            workdir=workdir,
        ),
        capture_output=True,
        text=True,
        cwd=workdir.parent,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["trials"] == {"complete": 1}
    assert summary["final"] is None and summary["best_trial"]["number"] == 0


def test_bad_timeout_is_exit_2_without_traceback(tiny_space, workdir):
    result = subprocess.run(
        autocnn(
            "search", "--dataset", "digits", "--space", str(tiny_space), "--timeout", "soon", workdir=workdir
        ),
        capture_output=True,
        text=True,
        cwd=workdir.parent,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--timeout: 'soon' is not a duration" in result.stderr and "Traceback" not in result.stderr


def test_unknown_dataset_is_exit_2(tiny_space, workdir):
    result = subprocess.run(
        autocnn("search", "--dataset", "nonexistent_set", "--space", str(tiny_space), workdir=workdir),
        capture_output=True,
        text=True,
        cwd=workdir.parent,
        timeout=120,
    )
    assert result.returncode == 2
    assert "'nonexistent_set' is neither a registered name" in result.stderr


def output_after_stop(process: subprocess.Popen[str], *, stop: signal.Signals) -> tuple[str, str]:
    """Return the stopped process's stdout and stderr; kill it and fail if it has not exited 3 minutes after."""
    try:
        return process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        message = f"no exit 3 minutes after {stop.name}; stdout: {stdout[-2000:]} stderr: {stderr[-2000:]}"
        raise AssertionError(message) from None


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_exits_130_and_keeps_finished_trials(tmp_path, workdir, stop):
    space = tmp_path / "slow.yaml"
    space.write_text(SLOW_SPACE)
    process = start(autocnn("search", "--dataset", "digits", "--space", str(space), workdir=workdir))
    wait_for_trials(workdir, "slow_digits", 1, process=process)
    running = wait_for_running_trial(workdir, "slow_digits")
    process.send_signal(stop)
    stdout, stderr = output_after_stop(process, stop=stop)
    assert process.returncode == 130, stderr
    assert "search interrupted" in stderr and "Traceback" not in stderr
    assert "top trials of study 'slow_digits'" in stdout
    records = load_study("slow_digits", workdir=workdir).trials()
    assert any(r.status == "complete" for r in records)
    assert (records[-1].number, records[-1].status) == (running, "interrupted"), records[-1].reason
    assert not any(r.status == "running" for r in records)


def test_ctrl_c_during_the_retrain_exits_130_and_keeps_the_trials(tmp_path, workdir):
    space = tmp_path / "long_retrain.yaml"
    space.write_text(SLOW_SPACE.replace("max_trials: 50", "max_trials: 1, retrain_epochs: 500"))
    process = start(autocnn("search", "--dataset", "digits", "--space", str(space), workdir=workdir))
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("retraining trial #0"):
            break
    else:
        raise AssertionError(f"no retrain started: {process.communicate()[1][-2000:]}")
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    _, stderr = output_after_stop(process, stop=signal.SIGINT)
    assert process.returncode == 130, stderr
    assert "search interrupted" in stderr and "Traceback" not in stderr
    study = load_study("slow_digits", workdir=workdir)
    assert [record.status for record in study.trials()] == ["complete"]
    assert study.final is None  # a retrain cut short is not shipped as the final model
    assert not (workdir / "slow_digits" / "best_model.keras").exists()


def test_kill_9_loses_only_the_running_trial_and_resume_continues(tmp_path, workdir):
    space = tmp_path / "slow.yaml"
    space.write_text(SLOW_SPACE)
    command = autocnn("search", "--dataset", "digits", "--space", str(space), "--no-retrain", workdir=workdir)
    process = start(command)
    wait_for_trials(workdir, "slow_digits", 1, process=process)
    wait_for_running_trial(workdir, "slow_digits")
    process.kill()
    process.wait(timeout=30)
    before = load_study("slow_digits", workdir=workdir).trials()
    finished = {r.number for r in before if r.status == "complete"}
    assert [r.status for r in before if r.number not in finished] == ["running"]
    lost = next(r.number for r in before if r.status == "running")
    resumed = subprocess.run(
        [*command, "--max-trials", str(len(finished) + 2)],
        capture_output=True,
        text=True,
        cwd=workdir.parent,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    after = load_study("slow_digits", workdir=workdir).trials()
    by_number = {r.number: r for r in after}
    assert by_number[lost].status == "failed"
    assert "ended while this trial was running" in by_number[lost].reason
    assert {r.number for r in after if r.status == "complete"} >= finished
    assert len({r.number for r in after}) == len(after)
    retry = [r for r in after if r.retry_of == lost]
    assert len(retry) == 1 and retry[0].status == "complete"
    assert retry[0].config == by_number[lost].config
