"""A network study database's calls retried through a short outage (a restart, a failover), then one clear error."""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from optuna.storages import BaseStorage, RDBStorage

from autocnn.errors import StorageUnavailableError

OUTAGE_RETRY_S = 120
_FIRST_DELAY_S = 0.5
LONGEST_RETRY_DELAY_S = 5.0  # a live worker's calls (its heartbeats too) retry at least this often

#: Storage calls that reach the database.
DATABASE_CALLS = (
    *sorted(BaseStorage.__abstractmethods__),
    "get_best_trial",
    "get_trial_id_from_study_id_trial_number",
    "get_trial_param",
    "get_trial_system_attrs",
    "get_trial_user_attrs",
    "record_heartbeat",
    # private, but Optuna's cache in front of every RDBStorage calls them
    "_create_new_trial",
    "_get_best_trial_id",
    "_get_stale_trial_ids",
    "_get_trials",
    "_set_trial_param",
)
#: Calls that only read the storage's own settings.
SETTINGS_CALLS = ("get_heartbeat_interval", "get_heartbeat_stale_trial_callback")

Result = TypeVar("Result")


def outage_retry_s() -> float:
    """Return how long a lost database is waited for (AUTOCNN_STORAGE_RETRY_S, default 120 s)."""
    return float(os.environ.get("AUTOCNN_STORAGE_RETRY_S", OUTAGE_RETRY_S))


def is_connection_lost(error: BaseException) -> bool:
    """Return whether ``error`` (or an error it was raised from) says the database connection failed."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (OperationalError, InterfaceError, DisconnectionError)):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class OutageLog:
    """When this process last got its database back: heartbeats missed meanwhile prove no worker dead."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recovered_at: float | None = None
        self._warned = False

    def lost(self, *, url: str, error: BaseException, retry_s: float) -> None:
        """Say once per outage, on stderr, that the database is gone and for how long it is waited for."""
        with self._lock:
            if self._warned:
                return
            self._warned = True
        print(
            f"warning: lost the study database {url} ({_first_line(error)}); "
            f"retrying for up to {retry_s:g} s",
            file=sys.stderr,
            flush=True,
        )

    def recovered(self) -> None:
        """Record that a call went through after the database was lost."""
        with self._lock:
            if not self._warned:
                return
            self._warned = False
            self._recovered_at = time.monotonic()
        print("the study database is back; the search goes on", file=sys.stderr, flush=True)

    def recovered_within(self, seconds: float) -> bool:
        """Return whether the database came back less than ``seconds`` ago."""
        return self._recovered_at is not None and time.monotonic() - self._recovered_at < seconds


OUTAGES = OutageLog()


def _first_line(error: BaseException) -> str:
    from autocnn.core.storage import mask_secrets

    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(getattr(cause, "orig", None) or cause).strip()
    return mask_secrets(text.splitlines()[0] if text else type(cause).__name__)


class RetryingRDBStorage(RDBStorage):  # type: ignore[misc]  # Optuna is not type-checked here
    """An Optuna RDBStorage whose database calls wait out a lost connection for ``outage_retry_s()``."""

    _calling = threading.local()

    def _retried(self, call: Callable[[], Result]) -> Result:
        from autocnn.core.storage import mask_secrets

        if getattr(self._calling, "active", False):  # a call inside a call: the outer one retries
            return call()
        self._calling.active = True
        try:
            lost_since: float | None = None
            delay = _FIRST_DELAY_S
            while True:
                try:
                    result = call()
                except Exception as error:
                    if not is_connection_lost(error):
                        raise
                    retry_s = outage_retry_s()
                    now = time.monotonic()
                    lost_since = now if lost_since is None else lost_since
                    if now - lost_since >= retry_s:
                        raise StorageUnavailableError(
                            f"lost the study database {mask_secrets(self.url)} for {retry_s:g} s "
                            f"({_first_line(error)}); every finished trial is kept there: run the same "
                            "command again once the database is back (a trial that was running is "
                            "retried), or wait longer with AUTOCNN_STORAGE_RETRY_S"
                        ) from None
                    OUTAGES.lost(url=mask_secrets(self.url), error=error, retry_s=retry_s)
                    time.sleep(min(delay, max(0.0, lost_since + retry_s - now)))
                    delay = min(delay * 2, LONGEST_RETRY_DELAY_S)
                    continue
                if lost_since is not None:
                    OUTAGES.recovered()
                return result
        finally:
            self._calling.active = False


def _retrying(name: str) -> Callable[..., Any]:
    method = getattr(RDBStorage, name)

    @functools.wraps(method)
    def call(self: RetryingRDBStorage, *args: Any, **kwargs: Any) -> Any:
        return self._retried(lambda: method(self, *args, **kwargs))

    return call


for _name in DATABASE_CALLS:
    setattr(RetryingRDBStorage, _name, _retrying(_name))
