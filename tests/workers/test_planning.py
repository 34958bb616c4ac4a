"""Worker placement on GPUs and the supervisor, without a GPU."""

from __future__ import annotations

import sys

import pytest

from autocnn.core.workers import RECYCLE_EXIT_CODE, WorkerSlot, plan_workers, supervise, visible_gpus
from autocnn.errors import ConfigError


def test_k_workers_per_gpu_round_robin():
    slots = plan_workers(workers=None, gpus=None, trials_per_gpu=2, available=["0", "1"])
    assert [slot.gpu for slot in slots] == ["0", "1", "0", "1"]
    env = slots[1].environment({"PATH": "/bin"})
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_chosen_gpus_and_worker_count():
    slots = plan_workers(workers=3, gpus=["1", "3"], trials_per_gpu=2, available=["0", "1", "2", "3"])
    assert [slot.device for slot in slots] == ["gpu 1", "gpu 3", "gpu 1"]


def test_too_many_workers_for_the_gpus_is_refused():
    with pytest.raises(ConfigError, match=r"`workers` 5 exceeds 2 GPU\(s\) x `trials_per_gpu` 2 = 4"):
        plan_workers(workers=5, gpus=None, trials_per_gpu=2, available=["0", "1"])


def test_unknown_gpu_is_refused():
    with pytest.raises(ConfigError, match="GPU 7 is not visible here"):
        plan_workers(workers=None, gpus=["7"], trials_per_gpu=1, available=["0"])


def test_without_gpus_workers_run_on_the_cpu():
    slots = plan_workers(workers=3, gpus=None, trials_per_gpu=4, available=[])
    assert [slot.device for slot in slots] == ["cpu", "cpu", "cpu"]
    assert "CUDA_VISIBLE_DEVICES" not in slots[0].environment({})


def test_visible_gpus_from_environment_and_nvidia_smi(tmp_path):
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nprintf '0\\n1\\n'\n")
    fake.chmod(0o755)
    assert visible_gpus({}, nvidia_smi=str(fake)) == ["0", "1"]


def test_supervisor_restarts_recycled_and_crashed_workers(tmp_path):
    marker = tmp_path / "runs"

    def command(slot: WorkerSlot) -> list[str]:
        script = (
            "import pathlib, sys; p = pathlib.Path(sys.argv[1]); runs = p.read_text() if p.exists() else '';"
            "p.write_text(runs + sys.argv[2]);"
            f"n = runs.count(sys.argv[2]); sys.exit({RECYCLE_EXIT_CODE} if n == 0 else (9 if n == 1 else 0))"
        )
        return [sys.executable, "-c", script, str(marker), str(slot.index)]

    polls, crashes = [], []
    codes = supervise(
        [WorkerSlot(0, None)],
        command,
        poll=lambda: polls.append(1),
        on_crash=lambda: crashes.append(marker.read_text()),
        poll_interval=0.05,
    )
    assert marker.read_text() == "000"  # recycled (75), then crashed (9) and restarted, then done (0)
    assert codes == {0: 0}
    assert polls
    assert crashes == ["00"]  # told once, after the crash and before the restart, not for the recycle
