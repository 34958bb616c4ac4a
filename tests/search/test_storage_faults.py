"""Storage faults: a full disk, a read-only work directory, damaged databases: one clear line, nothing lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autocnn.cli import main
from autocnn.core.study import load_study


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 20 MB tmpfs mounted for the test (the suite runs as root in CI)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def search(workdir: Path, space: Path, trials: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(
        ["search", "--dataset", "digits", "--space", str(space), "--workdir", str(workdir), "--no-tracking",
         "--max-trials", str(trials), "--no-retrain", "-q"]
    )  # fmt: skip
    return code, capsys.readouterr().err


def test_a_full_disk_stops_the_search_with_one_line_and_loses_nothing(small_disk, tiny_space, capsys):
    workdir = small_disk / "runs"
    assert search(workdir, tiny_space, 1, capsys)[0] == 0
    ballast = small_disk / "ballast"
    subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=64k"], capture_output=True, check=False)
    code, err = search(workdir, tiny_space, 3, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(f"error: cannot write {workdir}") and "the disk is full" in lines[0]
    assert "run the same command again" in lines[0]
    with sqlite3.connect(workdir / "studies.db") as database:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ballast.unlink()
    assert search(workdir, tiny_space, 3, capsys)[0] == 0
    records = load_study("tiny_digits", workdir=workdir).trials()
    assert records[0].status == "complete" and sum(r.status == "complete" for r in records) == 3


def search_in_a_process(workdir: Path, space: Path, trials: int) -> tuple[int, str]:
    """Search in a child process (an in-process search keeps the database open: no remount)."""
    finished = subprocess.run(
        [sys.executable, "-m", "autocnn", "search", "--dataset", "digits", "--space", str(space),
         "--workdir", str(workdir), "--no-tracking", "--max-trials", str(trials), "--no-retrain", "-q"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return finished.returncode, finished.stderr


def test_a_read_only_work_directory_is_one_line(small_disk, tiny_space):
    workdir = small_disk / "runs"
    assert search_in_a_process(workdir, tiny_space, 1)[0] == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        code, err = search_in_a_process(workdir, tiny_space, 2)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert f"error: cannot write {workdir / 'studies.db'}: it is read-only" in err
        code, err = search_in_a_process(small_disk / "new", tiny_space, 1)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"error: cannot write {small_disk / 'new'}: the file system is read-only")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert [r.status for r in load_study("tiny_digits", workdir=workdir).trials()] == ["complete"]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_study_database_is_refused_and_left_as_it_was(tmp_path, tiny_space, capsys, damage):
    workdir = tmp_path / "runs"
    if damage == "garbage":
        workdir.mkdir()
        (workdir / "studies.db").write_bytes(bytes(range(256)) * 20)
    else:
        assert search(workdir, tiny_space, 1, capsys)[0] == 0
        whole = (workdir / "studies.db").read_bytes()
        (workdir / "studies.db").write_bytes(whole[: len(whole) // 2])
    before = (workdir / "studies.db").read_bytes()
    code, err = search(workdir, tiny_space, 2, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert f"cannot open storage sqlite:///{workdir / 'studies.db'}" in err
    assert "the file is damaged or not a study database: restore it from a backup, or move it aside" in err
    assert (workdir / "studies.db").read_bytes() == before


def test_a_damaged_tracking_database_is_one_warning_and_the_search_goes_on(tmp_path, tiny_space, capsys):
    workdir = tmp_path / "runs"
    workdir.mkdir()
    garbage = bytes(range(256)) * 20
    (workdir / "mlflow.db").write_bytes(garbage)
    code = main(
        ["search", "--dataset", "digits", "--space", str(tiny_space), "--workdir", str(workdir),
         "--max-trials", "2", "--no-retrain"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warnings = [line for line in (captured.out + captured.err).splitlines() if "tracking stopped" in line]
    assert len(warnings) == 1 and "the search goes on without tracking" in warnings[0]
    assert [r.status for r in load_study("tiny_digits", workdir=workdir).trials()] == ["complete"] * 2
    assert (workdir / "mlflow.db").read_bytes() == garbage
