"""A stop asked for by Ctrl-C or SIGTERM, remembered: a KeyboardInterrupt swallowed by a finalizer is raised again."""

from __future__ import annotations

import threading

_REQUESTED = threading.Event()


def request_stop() -> None:
    """Remember that the user asked this process to stop."""
    _REQUESTED.set()


def clear_stop() -> None:
    """Forget an earlier request (a new command starts)."""
    _REQUESTED.clear()


def raise_if_stop_requested() -> None:
    """Raise KeyboardInterrupt if a stop was asked for (the signal's own exception may have been lost)."""
    if _REQUESTED.is_set():
        raise KeyboardInterrupt
