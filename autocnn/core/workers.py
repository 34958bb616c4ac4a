"""Worker processes on this machine: where each runs (CPU or a GPU) and a supervisor that restarts them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autocnn.errors import ConfigError

RECYCLE_EXIT_CODE = 75
MAX_RESTARTS = 3


@dataclass(frozen=True)
class WorkerSlot:
    """One worker process: its index and the GPU it is pinned to (None: CPU)."""

    index: int
    gpu: str | None

    @property
    def device(self) -> str:
        """Return ``gpu N`` or ``cpu``, recorded with every trial the worker runs."""
        return f"gpu {self.gpu}" if self.gpu is not None else "cpu"

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        """Return the process environment: pinned to its GPU with memory growth, or to no GPU."""
        env = dict(base)
        if self.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.gpu
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        return env


def visible_gpus(environ: dict[str, str] | None = None, *, nvidia_smi: str | None = None) -> list[str]:
    """Return the GPU ids this process may use (CUDA_VISIBLE_DEVICES, else nvidia-smi), without TensorFlow."""
    environ = dict(os.environ) if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        return [
            gpu.strip() for gpu in environ["CUDA_VISIBLE_DEVICES"].split(",") if gpu.strip() not in ("", "-1")
        ]
    command = nvidia_smi or shutil.which("nvidia-smi")
    if command is None:
        return []
    try:
        listing = subprocess.run(
            [command, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listing.stdout.splitlines() if line.strip().isdigit()]


def plan_workers(
    *, workers: int | None, gpus: Sequence[str] | None, trials_per_gpu: int, available: Sequence[str]
) -> list[WorkerSlot]:
    """Return the worker slots: K workers per GPU when there are GPUs, else ``workers`` CPU workers.

    ``gpus`` (default: all ``available``) must be a subset of the available GPUs; with GPUs,
    ``workers`` (default GPUs x K) is spread round-robin and may not exceed GPUs x K.

    Example:
        >>> [slot.device for slot in plan_workers(workers=None, gpus=None, trials_per_gpu=2, available=["0", "1"])]
        ['gpu 0', 'gpu 1', 'gpu 0', 'gpu 1']

    """
    if trials_per_gpu < 1:
        raise ConfigError(f"`trials_per_gpu` must be >= 1; got {trials_per_gpu}")
    if workers is not None and workers < 1:
        raise ConfigError(f"`workers` must be >= 1; got {workers}")
    chosen = list(available) if gpus is None else list(gpus)
    unknown = [gpu for gpu in chosen if gpu not in available]
    if unknown:
        seen = ", ".join(available) or "none"
        raise ConfigError(
            f"`gpus` {','.join(chosen)}: GPU {unknown[0]} is not visible here (visible: {seen})"
        )
    if not chosen:
        return [WorkerSlot(index, None) for index in range(workers or 1)]
    capacity = len(chosen) * trials_per_gpu
    count = capacity if workers is None else workers
    if count > capacity:
        raise ConfigError(
            f"`workers` {count} exceeds {len(chosen)} GPU(s) x `trials_per_gpu` {trials_per_gpu} = {capacity}; "
            "raise `trials_per_gpu` or lower `workers`"
        )
    return [WorkerSlot(index, chosen[index % len(chosen)]) for index in range(count)]


def supervise(
    slots: Sequence[WorkerSlot],
    command: Callable[[WorkerSlot], list[str]],
    *,
    environment: dict[str, str] | None = None,
    poll: Callable[[], None],
    on_crash: Callable[[], None] = lambda: None,
    poll_interval: float = 1.0,
) -> dict[int, int]:
    """Run one process per slot until all end; restart recycled (exit 75) and crashed ones.

    A worker that exits with 0 is done. One that exits with code 75 asked to be recycled (it ran
    its trial quota or grew past its memory limit) and is started again; one killed or crashed is
    restarted up to 3 times. Each process gets this one's environment with ``environment`` added.
    ``poll`` is called while waiting, ``on_crash`` after a process ends in any other way than
    done or recycled (before it is restarted). Returns the last exit code per slot.
    """
    processes: dict[int, subprocess.Popen[bytes]] = {}
    restarts = dict.fromkeys((slot.index for slot in slots), 0)
    codes: dict[int, int] = {}

    def start(slot: WorkerSlot) -> None:
        processes[slot.index] = subprocess.Popen(
            command(slot), env=slot.environment({**os.environ, **(environment or {})})
        )

    by_index = {slot.index: slot for slot in slots}
    for slot in slots:
        start(slot)
    try:
        while processes:
            time.sleep(poll_interval)
            poll()
            for index, process in list(processes.items()):
                code = process.poll()
                if code is None:
                    continue
                del processes[index]
                codes[index] = code
                if code not in (0, RECYCLE_EXIT_CODE):
                    on_crash()
                if code == RECYCLE_EXIT_CODE or (code not in (0, 2, 130) and restarts[index] < MAX_RESTARTS):
                    restarts[index] += code != RECYCLE_EXIT_CODE
                    start(by_index[index])
        poll()
    except BaseException:  # Ctrl-C, or this process could not go on: its workers stop with it
        for process in processes.values():
            process.send_signal(2)
        for process in processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        raise
    return codes


def worker_command(*, study: str, storage: str, workdir: str, run: str, slot: WorkerSlot) -> list[str]:
    """Return the ``autocnn worker`` command line for one slot: it rebuilds run ``run`` from the study."""
    return [
        sys.executable,
        "-m",
        "autocnn",
        "worker",
        "--study",
        study,
        "--storage",
        storage,
        "--workdir",
        workdir,
        "--run",
        run,
        "--device",
        slot.device,
        "--quiet",
    ]
