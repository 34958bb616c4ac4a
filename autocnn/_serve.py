"""Serving a web UI from a child process: free port, loopback warning, readiness, a clean stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from autocnn._system import processes
from autocnn.errors import ConfigError

STOP_TIMEOUT_S = 10.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_until_stopped(
    command: list[str],
    *,
    env: dict[str, str],
    probe_url: str,
    what: str,
    ready_timeout: float,
    on_ready: Callable[[], None],
    out: TextIO,
) -> int:
    """Run ``command`` in a process group of its own until Ctrl-C or SIGTERM; return the exit code.

    ``on_ready`` is called once ``probe_url`` answers. Ctrl-C or SIGTERM stops the whole group and
    is a normal end (0); a server that stops at start or never answers is an error (1 or its code).
    """
    previous = install_sigterm_handler()
    process: subprocess.Popen[bytes] | None = None
    try:
        process = subprocess.Popen(command, start_new_session=True, env=env)
        if not wait_until_ready(process, probe_url, timeout=ready_timeout):
            if process.poll() is None:
                print(
                    f"error: {what} did not answer at {probe_url} within {ready_timeout:g} s", file=sys.stderr
                )
                return 1
            print(f"error: {what} stopped at start (exit code {process.returncode})", file=sys.stderr)
            return process.returncode or 1
        on_ready()
        code = process.wait()
        print(f"{what} stopped on its own (exit code {code})", file=sys.stderr if code else out)
        return code
    except KeyboardInterrupt:
        print(f"stopping {what}", file=out, flush=True)
        return 0
    finally:
        if process is not None:
            stop_process_group(process)
        restore_sigterm_handler(previous)


def warn_if_exposed(host: str, *, what: str) -> None:
    """Warn on stderr before ``what`` listens on an address other than loopback, without a password."""
    if host in LOOPBACK:
        return
    print(
        f"warning: {what} will listen on {host} without a password: anyone who can reach this "
        "machine can read it (the default, 127.0.0.1, serves only this machine)",
        file=sys.stderr,
        flush=True,
    )


def stop_process_group(process: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop ``process`` and every process of its group: SIGTERM, then SIGKILL after ``timeout`` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and group_members(process.pid):
            process.poll()  # reap the leader as soon as it exits
            time.sleep(0.1)
        if not group_members(process.pid):
            break
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def group_members(pgid: int) -> list[int]:
    """Return the live (not zombie) processes of process group ``pgid``."""
    if not Path("/proc").is_dir():  # no procfs: ask the kernel whether the group has any member
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    return [entry.pid for entry in processes() if entry.group == pgid and entry.state != "Z"]


def check_port_free(host: str, port: int, *, what: str) -> None:
    """ConfigError naming ``what`` and the `port` parameter if ``host:port`` is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"cannot serve {what} on {host}:{port} ({error.strerror or error}); choose another `port`"
            ) from None


def wait_until_ready(process: subprocess.Popen[bytes], url: str, *, timeout: float) -> bool:
    """Return True once ``url`` answers 200, False if ``process`` ends or ``timeout`` s pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def display_host(host: str) -> str:
    """Return the host to print in a URL a browser on this machine can open."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install_sigterm_handler() -> object:
    """Make SIGTERM raise KeyboardInterrupt, like Ctrl-C; return the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


def restore_sigterm_handler(previous: object) -> None:
    """Put back the handler :func:`install_sigterm_handler` replaced."""
    if previous is None or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
