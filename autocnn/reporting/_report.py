"""write_report: a study's records in, ``index.html``, ``report.md``, the CSV and the PNGs out."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from autocnn._files import write_text_atomically
from autocnn._format import format_metric, format_number_of, format_seconds
from autocnn._version import __version__
from autocnn.core.augmentation_check import describe_augmentation
from autocnn.core.final_model import FinalSource
from autocnn.core.records import TrialStatus
from autocnn.reporting._document import (
    Block,
    BulletList,
    Cell,
    Document,
    Figure,
    Note,
    Paragraph,
    Section,
    Table,
    code,
)
from autocnn.reporting._facts import Scalar, StudyFacts, collect, parameter_values
from autocnn.reporting._html import render_html
from autocnn.reporting._importance import Importances, parameter_importances
from autocnn.reporting._markdown import render_markdown
from autocnn.reporting._plots import (
    plot_history,
    plot_importance,
    plot_learning_curves,
    plot_parallel,
    plot_pareto,
    plot_slices,
    plot_tradeoff,
)
from autocnn.reporting._provenance import provenance_blocks
from autocnn.reporting._tables import (
    architecture,
    other_trials_table,
    pareto_table,
    ranked_table,
    status_sentence,
    ties_table,
)
from autocnn.reporting._winner import configuration_block, layer_table, test_blocks, why_bullets

if TYPE_CHECKING:
    from autocnn.core.study import Study
    from autocnn.data import Dataset

GENERATED_PNGS = (
    "history.png",
    "learning_curves.png",
    "importance.png",
    "parallel_coordinates.png",
    "slices.png",
    "accuracy_vs_params.png",
    "accuracy_vs_time.png",
    "pareto_front.png",
    "confusion_matrix.png",
    "misclassified.png",
    "gradcam.png",
)


def write_report(
    study: Study,
    *,
    out: str | Path,
    dataset: Dataset | None = None,
    analyze_winner: bool = True,
    top: int = 5,
) -> Path:
    """Write the study's report into ``out`` and return the path of its ``index.html``.

    ``out`` receives ``index.html`` (self-contained: opens from disk, no network), ``report.md``
    (for GitHub; it shows the PNG files next to it), ``leaderboard.csv`` and the plots. Everything
    comes from the study's records, so a running, interrupted or crashed study gets a report too;
    one without a completed trial gets a short report that says so. ``dataset`` is only needed
    for the winner's test-set analysis and is loaded from the study's record when not given;
    ``analyze_winner=False`` skips that analysis (no model, no data). ``top`` is the number of
    trials whose learning curves are drawn.

    Example:
        >>> from autocnn.core.study import load_study  # doctest: +SKIP
        >>> write_report(load_study("quick_digits"), out="reports/quick_digits")  # doctest: +SKIP
        PosixPath('reports/quick_digits/index.html')

    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    for name in GENERATED_PNGS:
        (directory / name).unlink(missing_ok=True)
    facts = collect(study)
    _write_leaderboard(study, directory / "leaderboard.csv")
    sections = _sections(study, facts, directory, dataset=dataset, analyze_winner=analyze_winner, top=top)
    document = Document(
        title=f"autocnn report: {facts.name}",
        subtitle=_subtitle(facts),
        sections=tuple(sections),
    )
    write_text_atomically(directory / "report.md", render_markdown(document))
    index = directory / "index.html"
    write_text_atomically(index, render_html(document, directory=directory))
    return index


def _subtitle(facts: StudyFacts) -> str:
    objective = ", ".join(
        f"{objective.direction} {facts.label(objective.metric)}" for objective in facts.objectives
    )
    dataset = facts.dataset_name
    parts = [f"dataset {code(dataset)}" if dataset else "dataset unknown", f"objective: {objective}"]
    parts.append(status_sentence(facts))
    parts.append(f"generated {time.strftime('%Y-%m-%d %H:%M %Z')} by autocnn {__version__}")
    return " · ".join(parts)


def _write_leaderboard(study: Study, path: Path) -> None:
    frame = study.leaderboard()
    write_text_atomically(path, "rank,trial,state\n" if frame.empty else frame.to_csv(index=False))


def _sections(
    study: Study,
    facts: StudyFacts,
    directory: Path,
    *,
    dataset: Dataset | None,
    analyze_winner: bool,
    top: int,
) -> list[Section]:
    values = parameter_values(facts)
    importances = parameter_importances(facts, values)
    sections = [
        Section("Summary", "summary", tuple(_summary(facts, why_bullets(facts, importances, values))))
    ]
    if facts.ranked:
        ranking: list[Block] = [
            ranked_table(facts),
            Paragraph(f"Every trial, with its full configuration, is in {code('leaderboard.csv')}."),
        ]
        sections.append(Section("Ranking", "ranking", tuple(ranking)))
        tied = ties_table(facts)
        if tied is not None:
            sections.append(Section("Ties", "ties", (tied,), level=3))
    if facts.multi_objective and facts.ranked:
        front: list[Block] = [
            Paragraph(
                f"{len(facts.pareto)} of {len(facts.ranked)} completed trials are Pareto-optimal: each is the best "
                "choice for some weighting of the objectives. The report's winner is the one with the best "
                f"{facts.label(facts.metrics[0])}."
            )
        ]
        front += [
            block for block in (plot_pareto(facts, directory), pareto_table(facts)) if block is not None
        ]
        sections.append(Section("Pareto front", "pareto-front", tuple(front)))
    others = other_trials_table(facts)
    if others is not None:
        sections.append(
            Section("Pruned, failed and rejected trials", "other-trials", (*_reasons(facts), others))
        )
    progress = [
        block
        for block in (
            plot_history(facts, directory),
            plot_learning_curves(facts, directory, top=top),
            None if _pareto_is_params(facts) else plot_tradeoff(facts, directory, cost="params"),
            plot_tradeoff(facts, directory, cost="time"),
        )
        if block is not None
    ]
    if progress:
        sections.append(Section("How the search went", "search", tuple(progress)))
    if facts.ranked:
        blocks = _importance_blocks(facts, importances, values, directory)
        sections.append(Section("What mattered", "importance", tuple(blocks)))
    best = facts.best
    if best is not None:
        sections.append(Section(f"The winner: trial {best.number}", "winner", tuple(_winner_blocks(facts))))
        if analyze_winner:
            sections.append(
                Section(
                    "The winner on the test set", "test", tuple(test_blocks(study, facts, dataset, directory))
                )
            )
    sections.append(
        Section(
            "Reproducibility",
            "reproducibility",
            tuple(provenance_blocks(facts, storage_url=study.storage_url)),
        )
    )
    return sections


def _pareto_is_params(facts: StudyFacts) -> bool:
    return facts.multi_objective and set(facts.metrics[:2]) == {"val_accuracy", "params"}


def _summary(facts: StudyFacts, why: list[str]) -> list[Block]:
    space = facts.info.space_name
    blocks: list[Block] = []
    intro = f"Study {code(facts.name)}"
    if space:
        intro += f" searched the space {code(space)}"
    if facts.dataset_name:
        intro += f" on the dataset {code(facts.dataset_name)}"
    intro += f": {status_sentence(facts)}"
    if facts.wall_seconds is not None:
        intro += f"; the trials ran in {format_seconds(facts.wall_seconds)} of wall time"
    blocks.append(Paragraph(intro + "."))
    running = sum(
        1 for record in facts.records if record.status in (TrialStatus.RUNNING, TrialStatus.WAITING)
    )
    if running:
        blocks.append(
            Note(
                f"{running} trial{'s are' if running != 1 else ' is'} still running or queued: this report is a "
                "snapshot; write it again later for the final picture."
            )
        )
    best = facts.best
    if best is None:
        blocks.append(
            Note(
                "No trial has completed yet, so there is no ranking and no winner. "
                + (
                    "The trials that ended without a result, and why, are listed below."
                    if facts.records
                    else "The study has no trials at all: run the search first."
                ),
                kind="warning",
            )
        )
        return blocks
    values = ", ".join(
        f"{facts.label(metric)} {format_metric(metric, value)}"
        for metric, value in zip(facts.metrics, best.values or (), strict=False)
    )
    text = f"The winner is trial {best.number} ({values}): {code(architecture(best))}."
    final = facts.final
    if final is not None and final.trial_number == best.number:
        text += f" Its final model ({final.kept.description}) scored test accuracy {final.test_accuracy:.4f}."
    blocks.append(Paragraph(text))
    fidelity = _fidelity_sentence(facts)
    if fidelity:
        blocks.append(Note(fidelity))
    if facts.balanced_validation:
        blocks.append(
            Note(
                "Validation accuracy here is balanced accuracy (search.balanced_validation, for unbalanced "
                "classes): the mean over the classes of the share of their images predicted right, every "
                "class counting the same. Test accuracy is plain accuracy."
            )
        )
    blocks.extend(_rung_blocks(facts))
    blocks.extend(_augmentation_check_blocks(facts))
    if why:
        blocks.append(Paragraph("Why it won:"))
        blocks.append(BulletList(tuple(why)))
    return blocks


def _rung_blocks(facts: StudyFacts) -> list[Block]:
    """Say how the final rung judged the top trials again, with one row per trial it trained."""
    if not facts.rung:
        return []
    results = sorted(facts.rung, key=lambda result: -result.val_accuracy)
    epochs = max(result.planned_epochs for result in results)
    text = (
        f"The final rung trained the top {format_number_of(len(results), 'trial')} again for "
        f"{format_number_of(epochs, 'epoch')} on all {results[0].train_images:,} training images, judged on "
        "the validation split; the trials it judged rank first, by its result, and the best of them was retrained."
    )
    rows = tuple(
        (
            Cell(str(result.trial_number), sort=result.trial_number),
            Cell("-" if result.trial_val_accuracy is None else f"{result.trial_val_accuracy:.4f}"),
            Cell(f"{result.val_accuracy:.4f}", sort=result.val_accuracy),
            Cell(str(result.epochs) if result.completed else f"{result.epochs} (cut at the deadline)"),
            Cell(format_seconds(result.seconds), sort=result.seconds),
        )
        for result in results
    )
    table = Table(
        headers=("trial", "trial val accuracy", "rung val accuracy", "rung epochs", "time"),
        rows=rows,
        align=("right", "right", "right", "right", "right"),
        caption="The final rung",
    )
    return [Paragraph(text), table]


def _augmentation_check_blocks(facts: StudyFacts) -> list[Block]:
    """Say how the augmentation check chose the retrain's augmentation, with one row per augmentation."""
    check = facts.augmentation_check
    if check is None or not check.runs:
        return []
    chosen = check.chosen
    own = check.runs[0]
    text = (
        f"The augmentation check trained trial {check.trial_number} for "
        f"{format_number_of(check.planned_epochs, 'epoch')} on {check.train_images:,} training images with each "
        "augmentation the space allows, judged on the validation split: short trials cannot show what "
        "augmentation gives a long retrain. The retrain used "
        + (
            f"{code(describe_augmentation(chosen.augmentation))}."
            if chosen is not None
            else f"the trial's own augmentation, {code(describe_augmentation(own.augmentation))}, since no other "
            "beat it by a standard error of its validation accuracy."
        )
    )
    rows = tuple(
        (
            Cell(describe_augmentation(run.augmentation) + (" (the trial's own)" if run is own else "")),
            Cell(f"{run.val_accuracy:.4f}", sort=run.val_accuracy),
            Cell(
                str(run.epochs)
                if run.epochs >= check.planned_epochs
                else f"{run.epochs} (cut at the deadline)"
            ),
            Cell(format_seconds(run.seconds), sort=run.seconds),
        )
        for run in check.runs
    )
    table = Table(
        headers=("augmentation", "val accuracy", "epochs", "time"),
        rows=rows,
        align=("left", "right", "right", "right"),
        caption="The augmentation check",
    )
    return [Paragraph(text), table]


def _fidelity_sentence(facts: StudyFacts) -> str | None:
    """Say that trials trained on a fraction of the data, so their scores read as a cheap fidelity."""
    fraction = facts.info.trial_train_fraction
    if not isinstance(fraction, int | float) or fraction >= 1:
        return None
    text = (
        f"Trials trained on {fraction:.0%} of the training split (a cheap fidelity) and were judged on the "
        "whole validation split: their validation scores rank the networks but are lower than what the "
        "same networks reach trained on all the data."
    )
    final = facts.final
    if final is not None and final.kept is FinalSource.TRIAL_MODEL:
        text += (
            f" The final model is trial {final.trial_number}'s own model from the search "
            f"({format_number_of(final.epochs, 'epoch')}), not retrained on the training and validation data."
        )
    elif final is not None:
        text += (
            f" The final model of trial {final.trial_number} was retrained for "
            f"{format_number_of(final.epochs, 'epoch')} on the training and validation data."
        )
    return text


def _reasons(facts: StudyFacts) -> list[Block]:
    reasons = Counter(
        (record.status, record.reason or "no reason recorded")
        for record in facts.records
        if record.status not in (TrialStatus.COMPLETE, TrialStatus.PRUNED)
    )
    pruned = sum(1 for record in facts.records if record.status is TrialStatus.PRUNED)
    items = []
    if pruned:
        items.append(
            f"{pruned} pruned: stopped early because their validation results fell behind earlier trials "
            f"at the same epoch ({facts.info.backend.pruner} pruner)."
        )
    for (status, reason), count in reasons.most_common(8):
        items.append(f"{count} {status}: {reason}")
    return [BulletList(tuple(items))] if items else []


def _importance_blocks(
    facts: StudyFacts, importances: Importances, values: dict[str, list[Scalar]], directory: Path
) -> list[Block]:
    blocks: list[Block] = []
    if importances.note:
        blocks.append(Note(importances.note))
    figure = plot_importance(importances, directory)
    if figure is not None:
        blocks.append(
            Paragraph(
                "How much of the variation of each objective among the completed trials each searched parameter "
                "explains (fANOVA on a random forest fitted to the trials; parameters that only some trials have, "
                "such as the filters of a second block, are left out)."
            )
        )
        blocks.append(figure)
    order = importances.order or tuple(values)
    for plot in (
        plot_parallel(facts, values, order, directory),
        plot_slices(facts, values, order, directory),
    ):
        if plot is not None:
            blocks.append(plot)
    if not any(isinstance(block, Figure) for block in blocks):
        blocks.append(
            Paragraph("Nothing to plot yet: these views need at least two completed trials that differ.")
        )
    return blocks


def _winner_blocks(facts: StudyFacts) -> list[Block]:
    best = facts.best
    assert best is not None
    blocks: list[Block] = [Paragraph(f"Architecture: {code(architecture(best))}")]
    if best.seed_name:
        blocks.append(Paragraph(f"It is the seed configuration {code(best.seed_name)} from the space file."))
    details = [
        f"{facts.label(metric)}: {format_metric(metric, value)}"
        for metric, value in zip(facts.metrics, best.values or (), strict=False)
    ]
    if "val_accuracy" not in facts.metrics and best.val_accuracy is not None:
        details.append(f"val accuracy: {best.val_accuracy:.4f}")
    details.append(f"epochs trained: {best.epochs_trained}")
    details.append(f"trial duration: {format_seconds(best.duration)}")
    if best.device:
        details.append(f"device: {best.device}")
    blocks.append(BulletList(tuple(details)))
    table = layer_table(best, facts)
    if table is not None:
        blocks.append(table)
    configuration = configuration_block(best)
    if configuration is not None:
        blocks.append(configuration)
    return blocks
