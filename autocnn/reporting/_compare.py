"""compare_studies: several studies side by side (best value, time to reach it, best-so-far curves)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from autocnn._files import write_text_atomically
from autocnn._format import format_metric, format_seconds
from autocnn.core.records import TrialStatus
from autocnn.reporting._document import (
    Block,
    BulletList,
    Cell,
    Document,
    Figure,
    Paragraph,
    Section,
    Table,
    code,
)
from autocnn.reporting._facts import StudyFacts, collect
from autocnn.reporting._html import render_html
from autocnn.reporting._markdown import render_markdown
from autocnn.reporting._plotting import FRONT_COLOR, TOP_COLORS, house_style, legend_below, new_figure, save
from autocnn.reporting._tables import architecture, status_sentence

if TYPE_CHECKING:
    from autocnn.core.study import Study


def compare_studies(studies: list[Study], *, out: str | Path) -> Path:
    """Write a side-by-side comparison of ``studies`` into ``out``; return its ``index.html``.

    The studies are compared on the first objective of the first study (read from every trial's
    metrics, so studies with other objectives can still be compared). ``out`` receives
    ``index.html``, ``report.md`` and ``best_so_far.png``.

    Example:
        >>> compare_studies([load_study("a"), load_study("b")], out="reports/a_vs_b")  # doctest: +SKIP

    """
    from autocnn.errors import ConfigError

    if len(studies) < 2:
        raise ConfigError(f"compare_studies needs at least two studies; got {len(studies)}")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    all_facts = [collect(study) for study in studies]
    metric = all_facts[0].metrics[0]
    maximize = all_facts[0].maximize(0)
    label = all_facts[0].label(metric)
    curves = [best_so_far_by_metric(facts, metric, maximize=maximize) for facts in all_facts]
    blocks: list[Block] = [
        Paragraph(
            f"Compared on {label} ({'higher' if maximize else 'lower'} is better), read from every "
            "completed trial of each study."
        ),
        _table(all_facts, curves, metric=metric),
    ]
    notes = _caveats(all_facts, metric)
    if notes:
        blocks.append(BulletList(tuple(notes)))
    figure = _plot(all_facts, curves, directory, metric=metric, maximize=maximize)
    blocks.append(
        figure if figure is not None else Paragraph("No study has a completed trial yet: nothing to plot.")
    )
    names = " vs ".join(facts.name for facts in all_facts)
    document = Document(
        title=f"autocnn comparison: {names}",
        subtitle=f"{len(all_facts)} studies · generated {time.strftime('%Y-%m-%d %H:%M %Z')}",
        sections=(Section("Side by side", "side-by-side", tuple(blocks)),),
    )
    write_text_atomically(directory / "report.md", render_markdown(document))
    index = directory / "index.html"
    write_text_atomically(index, render_html(document, directory=directory))
    return index


def best_so_far_by_metric(
    facts: StudyFacts, metric: str, *, maximize: bool
) -> list[tuple[int, float, float, float]]:
    """Return ``(trial, elapsed seconds, value, best so far)`` of completed trials, in finishing order."""
    done = [
        record
        for record in facts.records
        if record.status is TrialStatus.COMPLETE and metric in record.metrics and record.finished is not None
    ]
    done.sort(key=lambda record: (record.finished, record.number))
    out: list[tuple[int, float, float, float]] = []
    best: float | None = None
    for record in done:
        value = record.metrics[metric]
        best = value if best is None else (max(best, value) if maximize else min(best, value))
        out.append((record.number, facts.elapsed(record.finished) or 0.0, value, best))
    return out


def _table(
    all_facts: list[StudyFacts], curves: list[list[tuple[int, float, float, float]]], *, metric: str
) -> Table:
    """Return one column per study and one row per property, so the studies read side by side."""
    columns: list[list[Cell]] = []
    for facts, curve in zip(all_facts, curves, strict=True):
        reached = None
        if curve:
            best_value = curve[-1][3]
            reached = next(point for point in curve if point[2] == best_value)
        winner = next((record for record in facts.ranked if reached and record.number == reached[0]), None)
        final = facts.final
        columns.append(
            [
                Cell(facts.dataset_name or "?"),
                Cell(facts.info.space_name or "?"),
                Cell(", ".join(f"{o.direction} {facts.label(o.metric)}" for o in facts.objectives)),
                Cell(facts.info.backend.description),
                Cell(status_sentence(facts)),
                Cell(format_metric(metric, reached[3]) if reached else "–"),
                Cell(str(reached[0]) if reached else "–"),
                Cell(format_seconds(reached[1]) if reached else "–"),
                Cell(format_seconds(facts.wall_seconds)),
                Cell(format_seconds(facts.trial_seconds)),
                Cell(
                    f"{final.test_accuracy:.4f} (trial {final.trial_number})"
                    if final is not None
                    else "not retrained"
                ),
                Cell(architecture(winner) if winner is not None else "–", code=winner is not None),
            ]
        )
    labels = (
        "dataset",
        "search space",
        "objectives",
        "backend / algorithm / pruner",
        "trials",
        f"best {all_facts[0].label(metric)}",
        "reached by trial",
        "time to reach it",
        "wall time of the trials",
        "sum of trial durations",
        "test accuracy of the final model",
        "best architecture",
    )
    rows = tuple((Cell(label), *(column[index] for column in columns)) for index, label in enumerate(labels))
    return Table(
        headers=("", *(facts.name for facts in all_facts)),
        rows=rows,
        caption="Time to reach it: from the study's first trial start to the end of the trial that first "
        "reached the best value.",
        css_class="compare",
    )


def _caveats(all_facts: list[StudyFacts], metric: str) -> list[str]:
    notes = []
    datasets = {None if facts.info.dataset is None else facts.info.dataset.fingerprint for facts in all_facts}
    if len(datasets) > 1:
        notes.append("The studies used different data, so their numbers are not directly comparable.")
    objectives = {tuple(facts.metrics) for facts in all_facts}
    if len(objectives) > 1:
        listed = "; ".join(f"{code(facts.name)}: {', '.join(facts.metrics)}" for facts in all_facts)
        notes.append(
            f"The studies optimized different objectives ({listed}); all are shown on {all_facts[0].label(metric)}."
        )
    balanced = [facts.name for facts in all_facts if facts.balanced_validation]
    if balanced and len(balanced) < len(all_facts):
        named = ", ".join(code(name) for name in balanced)
        notes.append(
            f"Validation accuracy is balanced accuracy (every class counting the same) in {named} only, "
            "so validation scores are not directly comparable."
        )
    return notes


def _plot(
    all_facts: list[StudyFacts],
    curves: list[list[tuple[int, float, float, float]]],
    directory: Path,
    *,
    metric: str,
    maximize: bool,
) -> Figure | None:
    if not any(curves):
        return None
    longest = max((point[1] for curve in curves for point in curve), default=0.0)
    scale, unit = (1.0, "s") if longest < 180 else (60.0, "min") if longest < 3 * 3600 else (3600.0, "h")
    with house_style():
        figure = new_figure(11, 4.4)
        ax_trials, ax_time = figure.subplots(1, 2, sharey=True)
        for index, (facts, curve) in enumerate(zip(all_facts, curves, strict=True)):
            if not curve:
                continue
            color = (TOP_COLORS[0], FRONT_COLOR, *TOP_COLORS[1:])[index % (len(TOP_COLORS) + 1)]
            style = ("-", "--", ":", "-.")[index % 4]
            ordered = sorted(curve, key=lambda point: point[0])
            running: list[float] = []
            for _, _, value, _ in ordered:
                running.append(
                    value
                    if not running
                    else (max(running[-1], value) if maximize else min(running[-1], value))
                )
            ax_trials.step(
                [p[0] for p in ordered],
                running,
                where="post",
                color=color,
                linestyle=style,
                linewidth=2,
                label=facts.name,
            )
            ax_trials.scatter([p[0] for p in ordered], [p[2] for p in ordered], color=color, s=14, alpha=0.45)
            ax_time.step(
                [p[1] / scale for p in curve],
                [p[3] for p in curve],
                where="post",
                color=color,
                linestyle=style,
                linewidth=2,
                label=facts.name,
            )
            ax_time.scatter(
                [p[1] / scale for p in curve], [p[2] for p in curve], color=color, s=14, alpha=0.45
            )
        ax_trials.set_xlabel("trial number")
        ax_trials.set_ylabel(f"best {all_facts[0].label(metric)} so far")
        ax_time.set_xlabel(f"time since the study's first trial started ({unit})")
        ax_trials.set_title("Best so far, by trial")
        ax_time.set_title("Best so far, by time")
        legend_below(figure, ax_trials)
        save(figure, directory / "best_so_far.png")
    caption = f"Best {all_facts[0].label(metric)} so far (lines) and each completed trial (dots)"
    return Figure(filename="best_so_far.png", alt=caption, caption=caption)
