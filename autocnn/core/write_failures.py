"""Turn a failed write (disk full, read-only, forbidden) anywhere under a search into one clear error."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autocnn.core.storage import mask_secrets, sqlite_path
from autocnn.errors import AutoCNNError, WriteFailedError

#: What each errno means to a user, and what to do about it.
_BY_ERRNO = {
    errno.ENOSPC: "the disk is full; free some space there or choose another `workdir`",
    errno.EDQUOT: "the disk quota is used up; free some space there or choose another `workdir`",
    errno.EROFS: "the file system is read-only; choose a writable `workdir`",
    errno.EACCES: "it is read-only or not yours to write; choose a `workdir` you can write to",
    errno.EPERM: "it is read-only or not yours to write; choose a `workdir` you can write to",
}
#: SQLite's messages for the same conditions (it reports them without an errno).
_BY_SQLITE_MESSAGE = {
    "database or disk is full": errno.ENOSPC,
    "attempt to write a readonly database": errno.EROFS,
    "unable to open database file": errno.EACCES,
}


def write_failure(error: BaseException, *, storage_url: str | None = None) -> WriteFailedError | None:
    """Return the clear error for ``error`` when a write failed somewhere in its causes, else None."""
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.errno in _BY_ERRNO:
            where = cause.filename or _storage_place(storage_url)
            return _failed(where, cause.errno, detail=cause.strerror or str(cause))
        if isinstance(cause, sqlite3.Error):
            for message, number in _BY_SQLITE_MESSAGE.items():
                if message in str(cause) and _folder_refuses_writes(storage_url, number):
                    return _failed(_storage_place(storage_url), number, detail=message)
    return None


def _folder_refuses_writes(storage_url: str | None, number: int) -> bool:
    """Whether SQLite's "unable to open" means a folder it may not write (not a missing folder)."""
    if number != errno.EACCES:
        return True
    database = None if storage_url is None else sqlite_path(storage_url)
    return database is not None and database.parent.is_dir() and not os.access(database.parent, os.W_OK)


def _storage_place(storage_url: str | None) -> str:
    if storage_url is None:
        return "the work directory"
    return str(sqlite_path(storage_url) or mask_secrets(storage_url))


def _failed(where: str | Path, number: int, *, detail: str) -> WriteFailedError:
    return WriteFailedError(f"cannot write {where}: {_BY_ERRNO[number]} ({detail})")


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@contextmanager
def writes_reported(*, storage_url: str) -> Iterator[None]:
    """Raise WriteFailedError instead of whatever a failed write raised inside the block."""
    try:
        yield
    except AutoCNNError:
        raise
    except Exception as error:
        failure = write_failure(error, storage_url=storage_url)
        if failure is None:
            raise
        raise WriteFailedError(
            f"{failure}. Every trial finished before this is kept in the study; once it can be written, "
            "run the same command again to continue"
        ) from None
