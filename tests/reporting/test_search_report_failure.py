"""`autocnn search` whose report fails: the summary is printed, one error line says how to write it again."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.search.conftest import TINY_SPACE

REPORT_FAILS = """
import sys
import autocnn.reporting as reporting
def failing_report(*args, **kwargs):
    raise RuntimeError("the plot library broke")
reporting.write_report = failing_report
from autocnn.cli import main_exit
sys.argv = ["autocnn", *sys.argv[1:]]
main_exit()
"""


def run(prefix: list[str], args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def test_a_failed_report_keeps_the_summary_and_names_the_command_that_writes_it(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_SPACE)
    searched = run(
        [sys.executable, "-c", REPORT_FAILS],
        ["search", "--dataset", "digits", "--space", "tiny.yaml", "--study", "kept", "--max-trials", "1",
         "--no-tracking"],
        cwd=tmp_path,
    )  # fmt: skip
    assert searched.returncode == 1, searched.stderr[-3000:]
    assert "Traceback" not in searched.stderr
    assert "top trials of study 'kept'" in searched.stdout and "test accuracy" in searched.stdout
    errors = [line for line in searched.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "report could not be written (RuntimeError: the plot library broke)" in errors[0]
    suggested = shlex.split(errors[0].split("write it again with: ", 1)[1])
    assert suggested[:2] == ["autocnn", "report"]

    again = run([sys.executable, "-m", "autocnn"], suggested[1:], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    index = tmp_path / "autocnn_runs" / "reports" / "kept" / "index.html"
    assert index.is_file() and "kept" in index.read_text()
