"""Why the search starts no other trial: said once, in words, to every callback."""

from __future__ import annotations

import re

from autocnn.callbacks import SearchCallback
from autocnn.search import search
from tests.search.conftest import TINY_SPACE


class EndReasons(SearchCallback):
    """Keeps the reasons the search gives for starting no other trial."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.retrain_epochs: list[int] = []

    def on_trials_end(self, reason: str) -> None:
        self.reasons.append(reason)

    def on_retrain_start(self, number, config, *, epochs):
        self.retrain_epochs.append(epochs)


def test_the_trial_limit_is_the_reason(tiny_space, workdir):
    ends = EndReasons()
    search(tiny_space, dataset="digits", workdir=workdir, max_trials=2, retrain=False, callbacks=[ends])
    assert ends.reasons == ["the study has its 2 trials"]


def test_a_retrain_longer_than_the_budget_stops_the_trials_and_says_how_to_get_more(tmp_path, workdir):
    """Keeping time for the retrain is no silent loss of trials: the reason names the setting to change."""
    space = tmp_path / "long_retrain.yaml"
    space.write_text(TINY_SPACE.replace("  max_trials: 3\n", "  max_trials: 50\n  retrain_epochs: 1000\n"))
    ends = EndReasons()
    study = search(
        space, dataset="digits", workdir=workdir, max_trials=50, timeout="20s", retrain=True, callbacks=[ends]
    )
    assert len(ends.reasons) == 1
    reason = ends.reasons[0]
    match = re.fullmatch(
        r"the final retrain's 1000 epochs of about [\d.]+ (?:min|s) need ([\d.]+) (min|s), "
        r"more than the ([\d.]+) (min|s) left, so the retrain gets the epochs that fit; "
        r"lower search.retrain_epochs or raise the timeout for more trials",
        reason,
    )
    assert match, reason
    needed = float(match[1]) * (60 if match[2] == "min" else 1)
    left = float(match[3]) * (60 if match[4] == "min" else 1)
    assert needed > left and left <= 20
    # It stopped at the first trial whose winner's retrain did not fit, and the retrain was cut to the time left.
    assert len([trial for trial in study.trials() if trial.status == "complete"]) < 50
    assert ends.retrain_epochs and 1 <= ends.retrain_epochs[0] < 1000
    assert study.final is not None and 1 <= study.final.epochs <= ends.retrain_epochs[0]
