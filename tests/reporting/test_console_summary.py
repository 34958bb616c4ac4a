"""The CLI's end-of-search summary and live progress name the validation score the search used."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from tests.reporting.helpers import balanced_info, copy_trial, memory_study
from tests.search_info import search_info


def _balanced_copy(finished: Any, tmp_path: Any) -> Any:
    from autocnn.core.study import FINAL_ATTR

    trials = [copy_trial(t) for t in finished.optuna_study.get_trials(deepcopy=False)]
    study = memory_study(finished, trials, tmp_path=tmp_path, name="balanced", info=balanced_info(finished))
    study.optuna_study.set_user_attr(FINAL_ATTR, finished.optuna_study.user_attrs[FINAL_ATTR])
    return study


def _summary(study: Any, monkeypatch: Any) -> str:
    from autocnn import cli

    shown = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=shown, width=100, highlight=False, markup=False))
    cli._print_summary(study)
    return shown.getvalue()


def test_the_summary_says_balanced_accuracy_when_the_search_was_judged_by_it(finished, tmp_path, monkeypatch):
    balanced = _balanced_copy(finished, tmp_path)
    assert not finished.balanced_validation and balanced.balanced_validation
    plain, judged = _summary(finished, monkeypatch), _summary(balanced, monkeypatch)
    assert "val_acc" in plain and "bal_acc" not in plain
    assert "val_acc" not in judged
    assert "bal_acc" in judged.splitlines()[2]  # the table's header row, under its title and top rule
    assert "bal_acc: validation accuracy with every class counting the same" in judged
    assert "(held-back accuracy 0." in plain and "(held-back balanced accuracy 0." in judged


def test_live_progress_names_the_score_of_a_balanced_search(finished, tmp_path):
    from autocnn._progress import ConsoleProgress

    balanced = _balanced_copy(finished, tmp_path)
    shown = io.StringIO()
    progress = ConsoleProgress(Console(file=shown, width=100, highlight=False, markup=False))
    for study in (finished, balanced):
        progress.on_search_start(
            search_info(study.info.space(study=study.name), study_name=study.name, workdir=str(tmp_path))
        )
        record = study.best_trial
        progress.on_trial_start(record.number, record.config)
        progress.on_trial_end(record)
    plain, judged = shown.getvalue().split(f"study {balanced.name}")
    assert " val_acc 0." in plain and "bal_acc" not in plain
    assert " bal_acc 0." in judged and " val_acc" not in judged
    assert "bal_acc: validation accuracy with every class counting the same" in judged


def test_live_progress_counts_one_epoch_in_the_singular(finished):
    from autocnn._progress import ConsoleProgress

    shown = io.StringIO()
    progress = ConsoleProgress(Console(file=shown, width=100, highlight=False, markup=False))
    record = finished.best_trial
    for epochs in (1, 3):
        progress.on_retrain_start(record.number, record.config, epochs=epochs)
    assert shown.getvalue().splitlines() == [
        f"retraining trial #{record.number} on train + validation for 1 epoch ...",
        f"retraining trial #{record.number} on train + validation for 3 epochs ...",
    ]
