"""Tables the CLI prints: one line per row in 80 columns, more columns when the terminal is wider."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from rich.console import Console

from autocnn._console import Column, fitting_table

COLUMNS = [
    Column("rank"),
    Column("state"),
    Column("params", justify="right", optional=True),
    Column("time", justify="right", optional=True),
    Column("architecture", stretch=True),
]
ROWS = [
    (
        "1",
        "complete",
        "421,642",
        "12.5s",
        "C32k3s1·BN·relu·max2 | C64k3s1·BN·relu·max2 | C128k3s1·BN·relu | gap | D256",
    ),
    ("2", "pruned", "1,234", "0.5s", "C8k3s1·relu | flat | adam 0.03"),
]


def rendered(width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, highlight=False)
    console.print(fitting_table(COLUMNS, ROWS, width=width, title="top trials"))
    return console.file.getvalue().splitlines()


def test_a_narrow_terminal_drops_optional_columns_and_cuts_long_text_on_one_line():
    lines = rendered(60)
    assert max(len(line) for line in lines) <= 60
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == len(ROWS)  # no row wraps onto a second line
    assert "params" not in lines[2] and "time" not in lines[2] and "architecture" in lines[2]
    assert body[0].rstrip("│ ").endswith("…")


def test_a_wide_terminal_shows_every_column_in_full():
    lines = rendered(200)
    assert "params" in lines[2] and "time" in lines[2]
    assert any(ROWS[0][4] in line for line in lines)


def test_datasets_list_fits_80_columns_and_shows_where_when_wider():
    def listed(columns: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "autocnn", "datasets", "list"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": columns},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    narrow = listed("80")
    assert max(len(line) for line in narrow) <= 80
    assert len([line for line in narrow if line.startswith("│")]) == 5  # one line per dataset
    wide = listed("200")
    assert any("where" in line for line in wide) and any("bundled with scikit-learn" in line for line in wide)
