"""Files written whole or not at all: a reader, or a process killed mid-write, never sees half a file."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autocnn._system import process_alive


def temporary_beside(path: Path) -> Path:
    """Return a hidden path beside ``path``, with its suffix (Keras checks it), to write before renaming.

    Example:
        >>> temporary_beside(Path("/runs/best_model.keras")).name.endswith(".tmp.keras")
        True

    """
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def remove_leftovers(path: Path) -> None:
    """Remove the temporary files or folders beside ``path`` that a killed process (kill -9) left behind."""
    if not path.parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(path.stem)}\.(\d+)\.tmp{re.escape(path.suffix)}")
    for sibling in path.parent.iterdir():
        match = pattern.fullmatch(sibling.name)
        if match is None or process_alive(int(match[1])):
            continue
        if sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step, else it is removed.

    Temporaries that killed processes left beside ``path`` are removed first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    temporary = temporary_beside(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all, creating the folder."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
