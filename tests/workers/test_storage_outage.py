"""Which database errors are waited out, and what is said while waiting."""

from __future__ import annotations

import pytest
from optuna.exceptions import StorageInternalError
from sqlalchemy.exc import IntegrityError, OperationalError

from autocnn.core import storage_outage
from autocnn.core.storage_outage import OutageLog, RetryingRDBStorage, is_connection_lost
from autocnn.errors import StorageUnavailableError


def _refused() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, Exception('connection to server at "db" failed: Connection refused')
    )


def _wrapped(error: Exception) -> StorageInternalError:
    try:
        raise StorageInternalError("An exception is raised during the commit.") from error
    except StorageInternalError as wrapper:
        return wrapper


def test_lost_connections_are_told_apart_from_other_database_errors():
    assert is_connection_lost(_refused())
    assert is_connection_lost(_wrapped(_refused()))  # Optuna wraps a failed commit
    assert not is_connection_lost(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_connection_lost(ValueError("no such study"))


class Flaky:
    """Fail ``failures`` times with ``error``, then return 42."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return 42


@pytest.fixture
def storage(monkeypatch):
    monkeypatch.setattr(storage_outage, "_FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(storage_outage, "OUTAGES", OutageLog())
    instance = RetryingRDBStorage.__new__(RetryingRDBStorage)  # no database: only the retrying is tested
    instance.url = "postgresql://bob:hunter2@db/studies"
    return instance


def test_a_short_outage_is_waited_out_and_said_once(storage, capsys):
    flaky = Flaky(3, _wrapped(_refused()))
    assert storage._retried(flaky) == 42 and flaky.calls == 4
    err = capsys.readouterr().err
    assert err.count("warning: lost the study database postgresql://bob:***@db/studies") == 1
    assert "hunter2" not in err
    assert err.count("the study database is back") == 1
    assert storage_outage.OUTAGES.recovered_within(60)


def test_other_errors_are_not_retried(storage):
    flaky = Flaky(1, IntegrityError("INSERT", {}, Exception("duplicate key")))
    with pytest.raises(IntegrityError):
        storage._retried(flaky)
    assert flaky.calls == 1


def test_an_outage_past_the_window_is_one_error_naming_the_database_and_the_way_on(storage, monkeypatch):
    monkeypatch.setenv("AUTOCNN_STORAGE_RETRY_S", "0.2")
    flaky = Flaky(10**6, _refused())
    with pytest.raises(StorageUnavailableError) as raised:
        storage._retried(flaky)
    message = str(raised.value)
    assert message.startswith("lost the study database postgresql://bob:***@db/studies for 0.2 s")
    assert "Connection refused" in message and "run the same command again" in message
    assert flaky.calls >= 2
    assert not storage_outage.OUTAGES.recovered_within(60)


def test_every_call_optunas_cache_makes_on_the_database_is_retried():
    import inspect
    import re

    from optuna.storages import _cached_storage

    called = set(re.findall(r"_backend\.(\w+)\(", inspect.getsource(_cached_storage)))
    assert called, "Optuna's cached storage no longer calls a backend: read it again"
    assert called - set(storage_outage.SETTINGS_CALLS) <= set(storage_outage.DATABASE_CALLS)
    for name in storage_outage.DATABASE_CALLS:
        assert getattr(RetryingRDBStorage, name) is not getattr(storage_outage.RDBStorage, name)
