"""README's library snippet is true: it runs as written from an empty folder, twice in one process."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

RUN_TWICE = """
import sys
snippet = sys.stdin.read()
for _ in range(2):
    exec(compile(snippet, "README.md", "exec"), {})
print("ran twice")
"""


def library_snippet() -> str:
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- library-snippet -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert "autocnn.search(" in block
    return block


def test_the_library_snippet_runs_twice_from_an_empty_folder(tmp_path):
    snippet = library_snippet().replace("max_trials=10", "max_trials=2")  # the same calls, a shorter search
    result = subprocess.run(
        [sys.executable, "-c", RUN_TWICE],
        input=snippet,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.rstrip().endswith("ran twice")
    assert (tmp_path / "autocnn_runs" / "reports" / "quick_digits" / "index.html").is_file()
    assert (tmp_path / "dist" / "model.tflite").is_file()
