"""Why the search starts no other trial: said once, in words, to every callback."""

from __future__ import annotations

import re

import pytest

from autocnn.core.callbacks import SearchCallback
from autocnn.core.session import search
from autocnn.core.study import Study
from tests.search.conftest import TINY_SPACE

DURATION = r"(?:[\d.]+ s|\d+ min \d+ s)"


def seconds_of(text: str) -> float:
    """Read back a duration as the search writes it: ``0.8 s``, ``42 s`` or ``3 min 05 s``."""
    minutes = re.fullmatch(r"(\d+) min (\d+) s", text)
    return int(minutes[1]) * 60 + int(minutes[2]) if minutes else float(text.removesuffix(" s"))


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


def long_retrain_search(
    tmp_path, workdir, *, share: float | None, timeout_s: int = 20
) -> tuple[EndReasons, Study]:
    space = tmp_path / "long_retrain.yaml"
    settings = "  max_trials: 50\n  retrain_epochs: 1000\n"
    if share is not None:
        settings += f"  retrain_share: {share}\n"
    space.write_text(TINY_SPACE.replace("  max_trials: 3\n", settings))
    ends = EndReasons()
    study = search(
        space,
        dataset="digits",
        workdir=workdir,
        max_trials=50,
        timeout=f"{timeout_s}s",
        retrain=True,
        callbacks=[ends],
    )
    assert len(ends.reasons) == 1
    # The retrain was cut to the time left.
    assert ends.retrain_epochs and 1 <= ends.retrain_epochs[0] < 1000
    assert study.final is not None and 1 <= study.final.epochs <= ends.retrain_epochs[0]
    return ends, study


def test_a_retrain_longer_than_the_budget_stops_the_trials_and_says_how_to_get_more(tmp_path, workdir):
    """Keeping time for the retrain is no silent loss of trials: the reason names the setting to change."""
    # A tiny network's epoch on digits takes about 0.02 s here: 1000 of them need about twice the 10 s.
    ends, study = long_retrain_search(tmp_path, workdir, share=1.0, timeout_s=10)
    match = re.fullmatch(
        rf"the final retrain's 1000 epochs of about {DURATION} need ({DURATION}), "
        rf"more than the ({DURATION}) left, so the retrain gets the epochs that fit; "
        r"lower search.retrain_epochs or raise the timeout for more trials",
        ends.reasons[0],
    )
    assert match, ends.reasons[0]
    needed, left = seconds_of(match[1]), seconds_of(match[2])
    assert needed > left and left <= 10
    # It stopped at the first trial whose winner's retrain did not fit.
    assert len([trial for trial in study.trials() if trial.status == "complete"]) < 50


def test_trials_keep_their_share_of_the_budget_however_long_the_planned_retrain(tmp_path, workdir):
    """With retrain_share 0.25, a 1000-epoch retrain leaves three quarters of the budget to trials."""
    ends, study = long_retrain_search(tmp_path, workdir, share=0.25)
    match = re.fullmatch(
        rf"the final retrain keeps its share of the budget, ({DURATION}) \(search.retrain_share 0.25\); "
        rf"its 1000 epochs of about {DURATION} need ({DURATION}), so it gets the epochs that fit "
        rf"in the ({DURATION}) left",
        ends.reasons[0],
    )
    assert match, ends.reasons[0]
    kept, needed, left = (seconds_of(text) for text in match.groups())
    assert kept == pytest.approx(5, abs=0.5) and needed > kept and left <= 20
    # Without the share, the first trial's winner would have stopped the search (see the test above).
    assert len([trial for trial in study.trials() if trial.status == "complete"]) >= 2


def test_a_trial_longer_than_the_others_stops_where_the_retrains_share_begins(tmp_path, workdir, monkeypatch):
    """A trial that outlasts the estimate never eats the retrain's share: it is cut where the share begins."""
    import autocnn.training

    real_fit = autocnn.training.fit_config
    trial_deadlines: list[float] = []
    retrain_deadlines: list[float] = []

    def fit_with_a_never_ending_second_trial(config, dataset, **kwargs):
        if "save_weights_to" not in kwargs:  # the retrain
            retrain_deadlines.append(kwargs["deadline"])
            return real_fit(config, dataset, **kwargs)
        trial_deadlines.append(kwargs["deadline"])
        if len(trial_deadlines) == 2:
            kwargs["epochs"] = 1_000_000  # far past the first trial's few seconds: only a deadline ends it
        return real_fit(config, dataset, **kwargs)

    monkeypatch.setattr(autocnn.training, "fit_config", fit_with_a_never_ending_second_trial)
    # 1000 retrain epochs need more than a quarter of 20 s: the retrain keeps exactly its share, 5 s
    ends, study = long_retrain_search(tmp_path, workdir, share=0.25, timeout_s=20)
    assert len(trial_deadlines) == 2 and len(retrain_deadlines) == 1
    assert ends.reasons[0].startswith("the final retrain keeps its share of the budget, 5.0 s")
    assert retrain_deadlines[0] - trial_deadlines[1] == pytest.approx(5, abs=0.25)
    second = study.trials()[1]
    assert second.status == "pruned" and second.reason.startswith("stopped at the time budget")
    # the retrain had its 5 s: a tiny network (0.02 s an epoch here) trains far more epochs in them
    assert study.final is not None and study.final.epochs >= 20
