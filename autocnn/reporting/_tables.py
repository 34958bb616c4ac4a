"""The report's tables: the ranking, ties, the Pareto front and the trials that did not complete."""

from __future__ import annotations

from autocnn._format import (
    format_count,
    format_metric,
    format_number_of,
    format_seconds,
    format_si,
)
from autocnn.core.records import TrialRecord, TrialStatus
from autocnn.reporting._document import Align, Cell, Table
from autocnn.reporting._facts import StudyFacts, objective_value

OTHER_ORDER = (
    TrialStatus.RUNNING,
    TrialStatus.WAITING,
    TrialStatus.INTERRUPTED,
    TrialStatus.PRUNED,
    TrialStatus.FAILED,
    TrialStatus.REJECTED,
)


def architecture(record: TrialRecord) -> str:
    """Return the compact architecture string of a trial ('' without a configuration)."""
    from autocnn.model import describe_config

    return describe_config(record.config) if record.config is not None else ""


def trial_label(record: TrialRecord) -> str:
    """Return ``7`` or ``7 (seed small)`` for a trial."""
    return f"{record.number} (seed {record.seed_name})" if record.seed_name else str(record.number)


def ranked_table(facts: StudyFacts, *, limit: int | None = None) -> Table:
    """Return the completed trials, best first, with their values, size, cost and architecture."""
    show_val = "val_accuracy" not in facts.metrics
    final = facts.final
    headers = ["rank", "trial"]
    headers += [facts.label(metric) for metric in facts.metrics]
    if facts.multi_objective:
        headers.append("Pareto front")
    if show_val:
        headers.append(facts.label("val_accuracy"))
    show_params = "params" not in facts.metrics
    show_flops = "flops" not in facts.metrics
    headers.append("test accuracy")
    headers += ["parameters"] * show_params + ["FLOPs"] * show_flops
    headers += ["epochs", "duration", "state", "architecture"]
    rows = []
    for rank, record in enumerate(facts.ranked[:limit] if limit else facts.ranked, start=1):
        row = [Cell(str(rank), sort=rank), Cell(trial_label(record), sort=record.number)]
        for index, metric in enumerate(facts.metrics):
            value = objective_value(record, index)
            row.append(Cell(format_metric(metric, value), sort=value))
        if facts.multi_objective:
            on_front = record.number in facts.pareto
            row.append(Cell("yes" if on_front else "", sort=0 if on_front else 1))
        if show_val:
            row.append(Cell(format_metric("val_accuracy", record.val_accuracy), sort=record.val_accuracy))
        test = final.test_accuracy if final is not None and final.trial_number == record.number else None
        row.append(Cell(format_metric("val_accuracy", test) if test is not None else "", sort=test))
        if show_params:
            row.append(Cell(format_count(record.params), sort=record.params))
        if show_flops:
            row.append(Cell(format_si(record.flops), sort=record.flops))
        row += [
            Cell(str(record.epochs_trained), sort=record.epochs_trained),
            Cell(format_seconds(record.duration), sort=record.duration),
            Cell(record.status),
            Cell(architecture(record), code=True),
        ]
        rows.append(tuple(row))
    right: list[Align] = ["right"]
    left: list[Align] = ["left"]
    align = right + left + right * len(facts.metrics)
    align += left * facts.multi_objective + right * show_val
    align += right * (1 + show_params + show_flops + 2) + left * 2
    caption = (
        "Completed trials, best first"
        + (" (Pareto rank, then the first objective)" if facts.multi_objective else "")
        + ". Test accuracy is measured once, for the final model only. Click a column to sort."
    )
    return Table(
        headers=tuple(headers),
        rows=tuple(rows),
        align=tuple(align),
        caption=caption,
        highlight=frozenset({0}) if rows else frozenset(),
        sortable=True,
        css_class="ranking",
    )


def ties(facts: StudyFacts) -> list[list[TrialRecord]]:
    """Return groups of completed trials with exactly the same objective values, best group first."""
    groups: dict[tuple[float, ...], list[TrialRecord]] = {}
    for record in facts.ranked:
        groups.setdefault(tuple(record.values or ()), []).append(record)
    return [group for group in groups.values() if len(group) > 1]


def ties_table(facts: StudyFacts) -> Table | None:
    """Return one row per group of tied trials, or None without ties."""
    groups = ties(facts)
    if not groups:
        return None
    rows = []
    for group in groups:
        ranks = [facts.rank_of(record.number) for record in group]
        values = ", ".join(
            format_metric(metric, objective_value(group[0], index))
            for index, metric in enumerate(facts.metrics)
        )
        rows.append(
            (
                Cell(values),
                Cell(", ".join(str(record.number) for record in group)),
                Cell(", ".join(str(rank) for rank in ranks)),
                Cell(", ".join(format_count(record.params) for record in group)),
            )
        )
    return Table(
        headers=(
            " / ".join(facts.label(metric) for metric in facts.metrics),
            "tied trials",
            "their ranks",
            "their parameters",
        ),
        rows=tuple(rows),
        align=("right", "left", "left", "left"),
        caption="Trials with exactly the same objective values; among them the earlier trial ranks higher.",
    )


def other_trials_table(facts: StudyFacts) -> Table | None:
    """Return the trials that did not complete, grouped by state, with their reasons."""
    others = [record for record in facts.records if record.status is not TrialStatus.COMPLETE]
    if not others:
        return None
    order = {status: index for index, status in enumerate(OTHER_ORDER)}
    others.sort(key=lambda record: (order.get(record.status, len(order)), record.number))
    rows = []
    for record in others:
        last = record.curve[-1].val_accuracy if record.curve else None
        rows.append(
            (
                Cell(trial_label(record), sort=record.number),
                Cell(record.status),
                Cell(record.reason or _default_reason(record), css="reason"),
                Cell(str(record.epochs_trained), sort=record.epochs_trained),
                Cell(format_metric("val_accuracy", last), sort=last),
                Cell(format_count(record.params), sort=record.params),
                Cell(format_seconds(record.duration), sort=record.duration),
                Cell(architecture(record), code=True),
            )
        )
    return Table(
        headers=(
            "trial",
            "state",
            "reason",
            "epochs",
            "last val accuracy",
            "parameters",
            "duration",
            "architecture",
        ),
        rows=tuple(rows),
        align=("left", "left", "left", "right", "right", "right", "right", "left"),
        caption="Trials that did not complete: pruned (stopped early by the pruner), failed (training broke), "
        "rejected (never trained: invalid or over a limit) and unfinished ones.",
        sortable=True,
        css_class="others",
    )


def _default_reason(record: TrialRecord) -> str:
    if record.status is TrialStatus.RUNNING:
        return "still running (or its worker stopped without a trace)"
    if record.status is TrialStatus.WAITING:
        return "queued, not started"
    return "no reason recorded"


def pareto_table(facts: StudyFacts) -> Table | None:
    """Return the trials on the Pareto front of a multi-objective study, by the first objective."""
    if not facts.multi_objective or not facts.pareto:
        return None
    members = [record for record in facts.ranked if record.number in facts.pareto]
    rows = []
    for record in members:
        row = [Cell(trial_label(record), sort=record.number)]
        for index, metric in enumerate(facts.metrics):
            value = objective_value(record, index)
            row.append(Cell(format_metric(metric, value), sort=value))
        row.append(Cell(architecture(record), code=True))
        rows.append(tuple(row))
    right: list[Align] = ["right"]
    return Table(
        headers=("trial", *(facts.label(metric) for metric in facts.metrics), "architecture"),
        rows=tuple(rows),
        align=("left", *(right * len(facts.metrics)), "left"),
        caption="No other completed trial is at least as good in every objective and better in one.",
        highlight=frozenset({0}),
    )


def status_sentence(facts: StudyFacts) -> str:
    """Return e.g. ``20 trials: 9 complete, 11 pruned``."""
    counts = facts.counts()
    total = sum(counts.values())
    if not total:
        return "no trials yet"
    parts = ", ".join(f"{count} {status}" for status, count in counts.items())
    return f"{format_number_of(total, 'trial')}: {parts}"
