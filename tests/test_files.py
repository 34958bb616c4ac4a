"""Files written whole or not at all."""

from __future__ import annotations

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
