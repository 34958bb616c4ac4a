"""A fixed sample of generated bad inputs: each loads or is refused with exit 2 and a short message."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from benchmarks._bad_inputs import Outcome, bad_datasets, bad_spaces, judge


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("make", "command", "count", "kinds"),
    [
        (bad_spaces, ("spaces", "validate"), 200, 12),
        (bad_datasets, ("datasets", "info"), 60, 3),
    ],
    ids=["space files", "datasets"],
)
def test_generated_bad_inputs_load_or_are_refused_clearly(
    tmp_path: Path, make, command, count, kinds
) -> None:
    verdicts = [judge(case, tmp_path, command=command) for case in make(seed=7, count=count)]
    broken = [v for v in verdicts if v.outcome is Outcome.BROKEN]
    assert not broken, "\n\n".join(f"{v.case.description} (exit {v.exit_code}):\n{v.detail}" for v in broken)
    outcomes = collections.Counter(verdict.outcome for verdict in verdicts)
    assert outcomes[Outcome.REFUSED] > count // 2  # the generator makes bad inputs, not good ones
    assert len({v.case.kind for v in verdicts if v.outcome is Outcome.REFUSED}) == kinds
