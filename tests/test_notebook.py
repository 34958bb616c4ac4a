"""examples/notebook.ipynb in a real Jupyter kernel: progress as lines, the study as a table, plots inline."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import REPO


def _shown_text(outputs) -> str:
    """Return what the notebook shows: stream text, and HTML outputs without their tags."""
    parts = []
    for output in outputs:
        parts.append(output.get("text", ""))
        markup = output.get("data", {}).get("text/html", "")
        parts.append(html.unescape(re.sub(r"<[^>]+>", "", markup)))
    return "".join(parts)


@pytest.mark.timeout(600)
def test_the_example_notebook_runs_and_shows_progress_a_table_and_plots(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="pip install nbclient nbformat ipykernel")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient nbformat ipykernel")
    notebook = nbformat.read(REPO / "examples" / "notebook.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=540, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    search, table, history, curves = (cell.outputs for cell in notebook.cells if cell.cell_type == "code")

    shown = _shown_text(search)
    assert "study quick_digits (new)" in shown
    assert re.search(r"^#0 .* complete .*val_acc 0\.\d+ .* best ", shown, flags=re.MULTILINE), shown
    assert re.search(r"^#1 ", shown, flags=re.MULTILINE) and "no more trials" in shown
    # nothing else: no TensorFlow start-up chatter, no widget warnings, no live line redrawn in place
    assert [output.output_type for output in search] == ["display_data"] * len(search), shown
    assert "\r" not in shown and "\x1b[" not in shown

    summary = _shown_text(table)
    assert "autocnn study quick_digits: 2 trials" in summary and "architecture" in summary
    assert "<table" in table[0]["data"]["text/html"] and "best trial #" in summary
    for outputs in (history, curves):
        assert [("image/png" in output.get("data", {})) for output in outputs] == [True]
    assert (tmp_path / "autocnn_runs" / "reports" / "quick_digits" / "history.png").is_file()
