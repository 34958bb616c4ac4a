"""Opening the study storage: a schema being created by another process at the same time."""

from __future__ import annotations

import multiprocessing

import pytest

from autocnn.core.storage import _create_rdb_storage, open_storage
from autocnn.errors import ConfigError


class FlakySchema:
    """Stands in for RDBStorage: fails like the loser of a schema race, then opens."""

    failures = 0

    def __init__(self, url: str, **options: object) -> None:
        if FlakySchema.failures:
            FlakySchema.failures -= 1
            raise RuntimeError('(sqlite3.OperationalError) table "studies" already exists')
        self.url = url


def test_the_loser_of_a_schema_race_opens_on_its_next_try():
    FlakySchema.failures = 2
    storage = _create_rdb_storage(FlakySchema, "sqlite:///x.db")
    assert storage.url == "sqlite:///x.db" and FlakySchema.failures == 0


def test_other_errors_and_a_race_that_never_ends_are_raised():
    FlakySchema.failures = 100
    with pytest.raises(RuntimeError, match="already exists"):
        _create_rdb_storage(FlakySchema, "sqlite:///x.db")
    with pytest.raises(ConfigError, match="cannot open storage"):
        open_storage("sqlite:////nonexistent-folder/deeper/studies.db")


def _open_and_count(url: str, queue: multiprocessing.Queue) -> None:
    storage = open_storage(url, heartbeat=False)
    queue.put(len(storage.get_all_studies()))


def test_four_processes_open_one_fresh_sqlite_file_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_open_and_count, args=(url, queue)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert sorted(queue.get(timeout=5) for _ in processes) == [0, 0, 0, 0]
