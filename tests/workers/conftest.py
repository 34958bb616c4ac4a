"""A real, throw-away PostgreSQL server for the worker tests (Debian's postgresql package)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks._postgres import PostgresServer, server_binaries, throwaway_postgres


def _binaries():
    bindir = server_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    return bindir


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres(_binaries()) as server:
        yield server.url


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    """A server of this test's own, which the test may stop and start."""
    with throwaway_postgres(_binaries()) as server:
        yield server
