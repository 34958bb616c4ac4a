"""write_report on real and in-memory studies: files, ranking, reasons, self-containment, edge cases."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from pathlib import Path

import optuna
import pandas as pd
import pytest

from autocnn.reporting import compare_studies, write_report
from tests.reporting.helpers import balanced_info, copy_trial, memory_study

SEARCH_PNGS = {
    "history.png",
    "learning_curves.png",
    "importance.png",
    "parallel_coordinates.png",
    "slices.png",
    "accuracy_vs_params.png",
    "accuracy_vs_time.png",
}
WINNER_PNGS = {"confusion_matrix.png", "misclassified.png", "gradcam.png"}
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|<script[^>]*\bsrc\b|<link\b""",
    re.I,
)


@pytest.fixture(scope="module")
def report(finished, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    index = write_report(finished, out=out)  # loads digits itself, as the study recorded it
    assert index == out / "index.html"
    return out


def ranked_trials_in_markdown(text: str) -> list[int]:
    section = text.split("## Ranking", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| rank")]
    return [int(re.sub(r"[^0-9].*", "", row.split("|")[2].strip().strip("*"))) for row in rows]


def ranked_trials_in_html(text: str) -> list[int]:
    table = re.search(r'<table class="sortable ranking">(.*?)</table>', text, re.S)
    assert table is not None
    body = table.group(1).split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [int(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1].split(" ")[0]) for row in rows]


def test_every_file_is_written_and_every_figure_is_real(report):
    names = {path.name for path in report.iterdir()}
    assert {"index.html", "report.md", "leaderboard.csv"} | SEARCH_PNGS | WINNER_PNGS <= names
    markdown = (report / "report.md").read_text()
    page = (report / "index.html").read_text()
    referenced = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown))
    assert referenced == {name for name in names if name.endswith(".png")}
    for name in referenced:
        data = (report / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5_000, name
        assert base64.b64encode(data).decode() in page, f"{name} is not embedded in index.html"


def test_ranking_order_matches_the_study_in_html_markdown_and_csv(finished, report):
    expected = [record.number for record in finished.ranked()]
    values = [record.values[0] for record in finished.ranked()]
    assert values == sorted(values, reverse=True) and len(expected) == 3
    assert ranked_trials_in_markdown((report / "report.md").read_text()) == expected
    assert ranked_trials_in_html((report / "index.html").read_text()) == expected
    frame = pd.read_csv(report / "leaderboard.csv")
    assert list(frame["trial"]) == list(finished.leaderboard()["trial"])
    assert list(frame["trial"][:3]) == expected


def test_failed_rejected_and_pruned_trials_are_listed_with_their_reasons(finished, report):
    page = (report / "index.html").read_text()
    markdown = (report / "report.md").read_text()
    others = [record for record in finished.trials() if record.status != "complete"]
    assert {record.status for record in others} == {"rejected", "failed", "pruned"}
    for record in others:
        assert record.reason
        assert html.escape(record.reason) in page
        assert record.reason in markdown.replace("\\", "")
    other_section = markdown.split("## Pruned, failed and rejected trials", 1)[1].split("\n## ", 1)[0]
    assert "learning rate 10 may be too high" in other_section
    assert "reduces 1x1 to 0x0" in other_section


def test_html_is_self_contained(report):
    page = (report / "index.html").read_text()
    assert not EXTERNAL.findall(page)
    assert "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") == len(SEARCH_PNGS | WINNER_PNGS)


def test_winner_section_shows_layers_test_accuracy_and_reproducibility(finished, report):
    markdown = (report / "report.md").read_text()
    final = finished.final
    assert f"test accuracy {final.test_accuracy:.4f}" in markdown
    assert "| block1\\_conv1 |" in markdown or "`block1_conv1`" in markdown
    assert "Grad-CAM" in markdown and "Confusion matrix" in markdown
    info = finished.info
    assert info.dataset.fingerprint in markdown
    import hashlib

    assert hashlib.sha256(info.space_yaml.encode()).hexdigest() in markdown
    assert "autocnn search --space space.yaml --dataset digits --max-trials 5" in markdown
    assert "Why it won" in markdown and "It beat the runner-up" in markdown


def test_a_study_with_one_completed_trial_gets_a_report_without_importance(finished, tmp_path):
    trials = finished.optuna_study.get_trials(deepcopy=False)
    on_gpu = copy_trial(trials[0], user_attrs={**trials[0].user_attrs, "device": "cuda:0 (H100)"})
    study = memory_study(finished, [on_gpu], tmp_path=tmp_path, name="single")
    out = tmp_path / "single"
    write_report(study, out=out)
    markdown = (out / "report.md").read_text()
    assert "| worker (host:pid) | device | trials | trial numbers |" in markdown
    assert "| cuda:0 (H100) | 1 | 0 |" in markdown
    assert ranked_trials_in_markdown(markdown) == [0]
    assert "needs at least 3 completed trials" in markdown
    assert "It is the only completed trial" in markdown
    assert "No test-set analysis" in markdown  # no saved model in this study's work directory
    assert not (out / "importance.png").exists() and (out / "history.png").exists()


def test_a_study_without_completed_trials_says_so(finished, tmp_path):
    failed = [
        t
        for t in finished.optuna_study.get_trials(deepcopy=False)
        if t.user_attrs.get("status") in ("rejected", "failed")
    ]
    study = memory_study(finished, [copy_trial(t) for t in failed], tmp_path=tmp_path, name="none_done")
    out = tmp_path / "none"
    write_report(study, out=out)
    markdown = (out / "report.md").read_text()
    assert "No trial has completed yet" in markdown
    assert "## Ranking" not in markdown and "learning rate 10 may be too high" in markdown
    assert pd.read_csv(out / "leaderboard.csv")["state"].tolist() == ["rejected", "failed"]

    empty = memory_study(None, [], tmp_path=tmp_path, name="empty", info={})
    write_report(empty, out=tmp_path / "empty")
    text = (tmp_path / "empty" / "report.md").read_text()
    assert "The study has no trials at all" in text
    assert "<html" in (tmp_path / "empty" / "index.html").read_text()


def test_a_running_trial_makes_the_report_a_snapshot(finished, tmp_path):
    trials = finished.optuna_study.get_trials(deepcopy=False)
    running = optuna.trial.create_trial(
        state=optuna.trial.TrialState.RUNNING, user_attrs={"worker": "elsewhere:1"}
    )
    study = memory_study(finished, [copy_trial(trials[0]), running], tmp_path=tmp_path, name="running")
    write_report(study, out=tmp_path / "running", analyze_winner=False)
    markdown = (tmp_path / "running" / "report.md").read_text()
    assert "1 trial is still running or queued" in markdown
    assert "| 1 | running | still running" in markdown


def test_a_two_objective_study_shows_its_pareto_front(finished, tmp_path):
    import copy

    from autocnn.core.metadata import INFO_ATTR as STUDY_ATTR

    source = next(t for t in finished.optuna_study.get_trials(deepcopy=False) if t.state.name == "COMPLETE")
    points = {"big": (0.95, 5000), "small": (0.80, 1000), "dominated": (0.70, 3000), "middle": (0.90, 2000)}
    trials = []
    for name, (accuracy, params) in points.items():
        attrs = copy.deepcopy(source.user_attrs)
        attrs["metrics"] = {**attrs["metrics"], "val_accuracy": accuracy, "params": float(params)}
        attrs["seed_name"] = name
        trials.append(copy_trial(source, values=[accuracy, float(params)], user_attrs=attrs))
    info = copy.deepcopy(finished.optuna_study.user_attrs[STUDY_ATTR])
    info["objective"] = [
        {"metric": "val_accuracy", "direction": "maximize"},
        {"metric": "params", "direction": "minimize"},
    ]
    study = memory_study(finished, trials, tmp_path=tmp_path, name="two", info=info)
    out = tmp_path / "two"
    write_report(study, out=out, analyze_winner=False)
    markdown = (out / "report.md").read_text()
    assert (out / "pareto_front.png").stat().st_size > 5_000
    front = markdown.split("## Pareto front", 1)[1].split("\n## ", 1)[0]
    assert "3 of 4 completed trials are Pareto-optimal" in front
    table = [line for line in front.splitlines() if line.startswith("| ") and "seed" in line]
    assert [re.search(r"seed (\w+)", line).group(1) for line in table] == ["big", "middle", "small"]
    assert ranked_trials_in_markdown(markdown) == [0, 3, 1, 2]


def _report_of_a_copy(finished, tmp_path, *, name: str, change, change_final=None) -> tuple[str, str]:
    """Return the markdown reports of ``finished`` and of a copy whose recorded study info ``change`` edits.

    ``change_final``, if given, edits the copy's recorded final model.
    """
    import copy

    from autocnn.core.metadata import INFO_ATTR as STUDY_ATTR
    from autocnn.core.study import FINAL_ATTR

    write_report(finished, out=tmp_path / "original", analyze_winner=False)
    trials = [copy_trial(t) for t in finished.optuna_study.get_trials(deepcopy=False)]
    info = copy.deepcopy(finished.optuna_study.user_attrs[STUDY_ATTR])
    change(info)
    study = memory_study(finished, trials, tmp_path=tmp_path, name=name, info=info)
    final = copy.deepcopy(finished.optuna_study.user_attrs[FINAL_ATTR])
    if change_final is not None:
        change_final(final)
    study.optuna_study.set_user_attr(FINAL_ATTR, final)
    write_report(study, out=tmp_path / name, analyze_winner=False)
    return (tmp_path / "original" / "report.md").read_text(), (tmp_path / name / "report.md").read_text()


def test_a_low_fidelity_search_says_its_trials_trained_on_a_fraction(finished, tmp_path):
    original, low = _report_of_a_copy(
        finished, tmp_path, name="low", change=lambda info: info.update(trial_train_fraction=0.2)
    )
    assert "cheap fidelity" not in original
    assert "Trials trained on 20% of the training split (a cheap fidelity)" in low
    assert f"retrained for {finished.final.epochs} epoch" in low


def test_a_low_fidelity_search_that_kept_the_trials_own_model_does_not_call_it_retrained(finished, tmp_path):
    _, kept_trial = _report_of_a_copy(
        finished,
        tmp_path,
        name="kept_trial",
        change=lambda info: info.update(trial_train_fraction=0.2),
        change_final=lambda final: final.update(kept="trial_model"),
    )
    number = finished.final.trial_number
    assert "Trials trained on 20% of the training split (a cheap fidelity)" in kept_trial
    assert f"The final model is trial {number}'s own model from the search" in kept_trial
    assert "not retrained on the training and validation data" in kept_trial
    assert "was retrained for" not in kept_trial
    # the span of the trials is not the search's time: planning and the final model come after it
    assert re.search(r"; the trials ran in (?:[\d.]+ s|\d+ min \d+ s) of wall time\.", kept_trial)


def test_a_search_judged_by_balanced_accuracy_says_so(finished, tmp_path):
    def balanced(info):
        info.update(space_yaml=balanced_info(finished)["space_yaml"])

    original, judged = _report_of_a_copy(finished, tmp_path, name="balanced", change=balanced)
    assert "balanced accuracy" not in original
    assert "Validation accuracy here is balanced accuracy (search.balanced_validation" in judged
    # the header and the ranking name the score the trials were ranked by
    assert "objective: maximize val accuracy ·" in original
    assert "objective: maximize balanced val accuracy ·" in judged
    assert "| rank | trial | val accuracy |" in original
    assert "| rank | trial | balanced val accuracy |" in judged
    assert "held back from the retrain, it scored 0." in original
    assert "held back from the retrain, it scored balanced accuracy 0." in judged


@pytest.mark.parametrize(("views_score", "kept"), [(0.97, True), (0.95, False)])
def test_the_winner_says_whether_the_final_model_averages_views_and_what_they_scored(
    finished, tmp_path, views_score, kept
):
    choice = {
        "views": {"shift": 1, "flip": "none"},
        "guard_accuracy": views_score,
        "plain_guard_accuracy": 0.95,
    }

    def with_views(final):
        final.update(test_time_views=choice, plain_test_accuracy=0.9 if kept else None, test_accuracy=0.92)

    original, changed = _report_of_a_copy(
        finished, tmp_path, name="views", change=lambda info: None, change_final=with_views
    )
    assert "views of each image" not in original
    views = "5 views of each image (the image and its 4 shifts by 1 pixel)"
    images = finished.final.guard_images
    guard = f"scored {views_score:.4f} on the {images:,} validation images held back from the retrain"
    if kept:
        assert (
            f"It averages its predictions over {views}, which {guard}, against 0.9500 for the image alone"
            in changed
        )
        assert "on test 0.9200 against 0.9000. Each prediction costs 5 passes of the network." in changed
    else:
        assert (
            f"Averaging its predictions over {views} {guard}, against 0.9500 for the image alone" in changed
        )
        assert "so it reads each image once." in changed


def test_data_other_than_the_searched_data_is_flagged(finished, digits, tmp_path):
    import dataclasses

    other = dataclasses.replace(digits, fingerprint="0" * 64)
    write_report(finished, out=tmp_path / "other", dataset=other)
    markdown = (tmp_path / "other" / "report.md").read_text()
    assert "differs from the study's" in markdown
    assert "fingerprint 000000000000" in markdown and (tmp_path / "other" / "gradcam.png").exists()


def test_compare_puts_two_studies_side_by_side(finished, tmp_path):
    trials = finished.optuna_study.get_trials(deepcopy=False)
    other = memory_study(finished, [copy_trial(trials[1])], tmp_path=tmp_path, name="other")
    index = compare_studies([finished, other], out=tmp_path / "compare")
    page = index.read_text()
    markdown = (tmp_path / "compare" / "report.md").read_text()
    assert (tmp_path / "compare" / "best_so_far.png").stat().st_size > 5_000
    assert not EXTERNAL.findall(page)
    header = next(line for line in markdown.splitlines() if line.startswith("|  |"))
    assert finished.name.replace("_", "\\_") in header or finished.name in header
    assert "other" in header
    best = max(record.values[0] for record in finished.ranked())
    row = next(line for line in markdown.splitlines() if line.startswith("| best val accuracy"))
    assert row.split("|")[2].strip() == f"{best:.4f}"
    assert row.split("|")[3].strip() == f"{trials[1].values[0]:.4f}"
    with pytest.raises(Exception, match="at least two studies"):
        compare_studies([finished], out=tmp_path / "one")


def test_compare_warns_when_only_some_studies_were_judged_by_balanced_accuracy(finished, tmp_path):
    trials = finished.optuna_study.get_trials(deepcopy=False)
    info = balanced_info(finished)
    judged = memory_study(finished, [copy_trial(trials[1])], tmp_path=tmp_path, name="judged", info=info)
    plain = memory_study(finished, [copy_trial(trials[1])], tmp_path=tmp_path, name="plain")
    compare_studies([finished, plain], out=tmp_path / "same")
    compare_studies([finished, judged], out=tmp_path / "mixed")
    same = (tmp_path / "same" / "report.md").read_text()
    mixed = (tmp_path / "mixed" / "report.md").read_text()
    assert "balanced accuracy" not in same
    assert (
        "Validation accuracy is balanced accuracy (every class counting the same) in `judged` only" in mixed
    )


@pytest.mark.browser
def test_chromium_renders_every_image_offline(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs headless Chromium")
    page = (report / "index.html").read_text()
    probe = (
        "<script>window.addEventListener('load', function () { document.title = 'decoded:' + "
        "Array.prototype.filter.call(document.images, function (i) { return i.naturalWidth > 0; }).length "
        "+ '/' + document.images.length; });</script></body>"
    )
    copy = tmp_path / "probe.html"
    copy.write_text(page.replace("</body>", probe))
    result = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000", "--dump-dom", copy.as_uri(),
        ],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    title = re.search(r"<title>(.*?)</title>", result.stdout)
    assert title is not None, result.stderr[-2000:]
    count = len(SEARCH_PNGS | WINNER_PNGS)
    assert title.group(1) == f"decoded:{count}/{count}"
