"""The tracker interface: a search callback that records a search somewhere, and the one that does not."""

from __future__ import annotations

from autocnn.core.callbacks import SearchCallback


class Tracker(SearchCallback):
    """Record a search (its runs, trials, metrics and models); the base class records nothing.

    A tracker is an ordinary :class:`~autocnn.core.callbacks.SearchCallback`: pass it to
    :func:`autocnn.search` in ``callbacks``. Its hooks must never stop a search: an
    implementation catches its own errors, warns once and goes on without recording.
    """

    observes_remote_trials = False  # each worker process records its own trials

    @property
    def location(self) -> str | None:
        """Return where the records go (secrets masked), or None when nothing is recorded."""
        return None


class NoTracker(Tracker):
    """Record nothing and write no file (``autocnn search --no-tracking``)."""

    def __repr__(self) -> str:
        """Return ``NoTracker()``."""
        return "NoTracker()"
