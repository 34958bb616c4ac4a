"""A real, throw-away PostgreSQL server (Debian's postgresql package), for the tests and the fault benchmark."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path | None:
    """Return the folder of the newest installed PostgreSQL server's programs, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresServer:
    """One PostgreSQL server in a temporary folder, on a free loopback port, with database ``autocnn``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # pytest's temporary folders are private to root; the server runs as the postgres user
        self.root = Path(tempfile.mkdtemp(prefix="autocnn-postgres-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.sockets.mkdir()
        if os.geteuid() == 0:
            for path in (self.root, self.sockets):
                shutil.chown(path, "postgres", "postgres")
                path.chmod(0o700)
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres")

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the ``autocnn`` database."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/autocnn"

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bindir / program), *arguments]), check=True, capture_output=True
        )

    def _pg_ctl(self, *arguments: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), *arguments)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} -c max_connections=200"
        self._pg_ctl("-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        """Stop the server at once, closing every connection (``pg_ctl -m fast stop``)."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def create_database(self) -> None:
        """Create the empty ``autocnn`` database."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "autocnn")

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def throwaway_postgres(bindir: Path) -> Iterator[PostgresServer]:
    """Yield a started server with an empty ``autocnn`` database; remove it all afterwards."""
    server = PostgresServer(bindir)
    try:
        server.start()
        server.create_database()
        yield server
    finally:
        server.remove()
