"""Files written whole or not at all."""

from __future__ import annotations

import os
import subprocess

import pytest

from autocnn._files import replacing, write_text_atomically


def test_a_write_that_fails_midway_leaves_the_old_file_whole_and_no_leftover(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("the old report\n")
    with pytest.raises(RuntimeError), replacing(path) as temporary:
        temporary.write_text("half of the new")
        raise RuntimeError("killed here")
    assert path.read_text() == "the old report\n"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["report.md"]


def test_a_finished_write_replaces_the_file_and_creates_its_folder(tmp_path):
    path = tmp_path / "new" / "index.html"
    write_text_atomically(path, "<p>ä</p>")
    assert path.read_text(encoding="utf-8") == "<p>ä</p>"
    assert sorted(item.name for item in path.parent.iterdir()) == ["index.html"]


def test_temporaries_of_killed_processes_are_removed_and_those_of_running_ones_kept(tmp_path):
    path = tmp_path / "best_model.keras"
    left_file = tmp_path / f".best_model.{_a_dead_pid()}.tmp.keras"
    left_folder = tmp_path / f".best_model.{_a_dead_pid()}.tmp.keras"  # a SavedModel export is a folder
    running = tmp_path / f".best_model.{os.getppid()}.tmp.keras"
    another_file = tmp_path / f".report.{_a_dead_pid()}.tmp.md"
    for item in (left_file, running, another_file):
        item.write_text("x")
    left_folder.mkdir()
    (left_folder / "saved_model.pb").write_text("x")
    write_text_atomically(path, "model")
    assert sorted(item.name for item in tmp_path.iterdir()) == sorted(
        [path.name, running.name, another_file.name]
    )


def _a_dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
