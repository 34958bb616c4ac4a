"""Errors autocnn raises; the CLI maps each class to an exit code."""

from __future__ import annotations

__all__ = [
    "AutoCNNError",
    "ConfigError",
    "DataError",
    "ExportError",
    "InvalidArchitectureError",
    "MissingExtraError",
    "SearchError",
    "SearchInterrupted",
    "StorageUnavailableError",
    "StudyMismatchError",
    "WriteFailedError",
]


class AutoCNNError(Exception):
    """Base class of every error autocnn raises on purpose.

    The message is meant for people: it says what is wrong, where, and how to fix it. A Python
    parameter it names is written in backticks (`max_trials`), so that the CLI can show the
    flag instead (--max-trials).
    """

    exit_code: int = 1


class ConfigError(AutoCNNError, ValueError):
    """A search space, configuration or option given by the user is invalid."""

    exit_code = 2


class DataError(AutoCNNError):
    """A dataset cannot be found, downloaded or read, or its content is inconsistent."""

    exit_code = 2


class InvalidArchitectureError(AutoCNNError, ValueError):
    """A trial configuration describes a network that cannot be built (e.g. a 0x0 feature map)."""

    exit_code = 2


class StudyMismatchError(AutoCNNError):
    """An existing study was created with another search space or dataset."""

    exit_code = 2


class SearchError(AutoCNNError):
    """The search could not go on (e.g. too many consecutive failed trials)."""

    exit_code = 1


class ExportError(AutoCNNError):
    """A model could not be exported, or the export does not reproduce the model's outputs."""

    exit_code = 1


class MissingExtraError(AutoCNNError):
    """An optional dependency is not installed; the message names the install command."""

    exit_code = 2


class WriteFailedError(AutoCNNError):
    """Results could not be written (disk full, read-only or forbidden); what was written is kept."""

    exit_code = 2


class StorageUnavailableError(AutoCNNError):
    """The study database stayed unreachable past the retry window; every finished trial is kept in it."""

    exit_code = 69  # EX_UNAVAILABLE: a service is down; run the same command again later


class SearchInterrupted(AutoCNNError):  # noqa: N818 (reads better than ...Error)
    """The search was stopped with Ctrl-C or SIGTERM; finished trials are kept (``study``)."""

    exit_code = 130
    study: object = None
