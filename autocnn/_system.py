"""Facts about this process and machine: worker identity, versions, hardware, process memory."""

from __future__ import annotations

import os
import platform
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


def worker_id() -> str:
    """Return ``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def in_notebook() -> bool:
    """Return whether this process is a Jupyter kernel (IPython's ZMQ shell)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def process_alive(pid: int) -> bool:
    """Return whether a process with ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) among this machine's processes."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class ProcessEntry:
    """One process as ``/proc`` lists it."""

    pid: int
    parent: int
    group: int
    state: str  # "R", "S", ... "Z" for a zombie


def processes() -> list[ProcessEntry]:
    """Return the processes of this machine from ``/proc`` (an empty list without procfs)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    entries = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2:
            entries.append(ProcessEntry(int(entry.name), int(fields[1]), int(fields[2]), fields[0]))
    return entries


def package_versions() -> dict[str, str]:
    """Return versions of Python and the packages a result depends on."""
    versions = {"python": sys.version.split()[0]}
    for package in ("autocnn", "tensorflow", "keras", "optuna", "mlflow", "keras-tuner", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def hardware() -> dict[str, str]:
    """Return CPU count and model, memory, and visible GPUs (from CUDA_VISIBLE_DEVICES and TensorFlow)."""
    info = {
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": str(os.cpu_count()),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
    }
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        info["gpus"] = ", ".join(gpu.name for gpu in gpus) if gpus else "none"
    except Exception:  # TensorFlow missing or broken: hardware info is best effort
        info["gpus"] = "unknown"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kilobytes = int(meminfo.readline().split()[1])
        return f"{kilobytes / 1024 / 1024:.1f}"
    except (OSError, ValueError, IndexError):
        return "unknown"


def rss_mb() -> float:
    """Return this process's resident memory in MB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return 0.0


def configure_gpus() -> list[str]:
    """Turn on memory growth for every visible GPU (so several trials can share one); return their names."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialized: growth was set before, or cannot change now
    return [gpu.name for gpu in gpus]
