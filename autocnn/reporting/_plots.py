"""The search plots: history, learning curves, importance, parallel coordinates, slices, trade-offs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.ticker import MaxNLocator

from autocnn._format import format_value, metric_label
from autocnn.core.records import TrialRecord, TrialStatus
from autocnn.reporting._document import Figure
from autocnn.reporting._facts import Scalar, StudyFacts, is_numeric, objective_value
from autocnn.reporting._importance import Importances
from autocnn.reporting._plotting import (
    FRONT_COLOR,
    MAIN_COLOR,
    MUTED_COLOR,
    TOP_COLORS,
    WINNER_COLOR,
    count_axis,
    ellipsize,
    house_style,
    legend_below,
    new_figure,
    plain_log_axis,
    save,
    short_name,
)

NO_VALUE_STATUSES = (TrialStatus.FAILED, TrialStatus.REJECTED, TrialStatus.INTERRUPTED)


def better(facts: StudyFacts, index: int) -> str:
    """Return ``higher is better`` or ``lower is better`` for objective ``index``."""
    return "higher is better" if facts.maximize(index) else "lower is better"


def plot_history(facts: StudyFacts, directory: Path) -> Figure | None:
    """Plot every trial's objective value and the best value so far, by trial number."""
    if not facts.ranked:
        return None
    count = len(facts.objectives)
    with house_style():
        figure = new_figure(9.5, 3.4 * count + 0.4)
        axes = figure.subplots(count, 1, sharex=True, squeeze=False)[:, 0]
        best = facts.best
        for index, ax in enumerate(axes):
            metric = facts.metrics[index]
            done = [(record.number, objective_value(record, index)) for record in facts.ranked]
            points = sorted((number, value) for number, value in done if value is not None)
            ax.scatter(
                [number for number, _ in points],
                [value for _, value in points],
                s=30,
                color=MAIN_COLOR,
                label="completed trial",
                zorder=3,
            )
            pruned = [
                (record.number, record.metrics[metric])
                for record in facts.records
                if record.status is TrialStatus.PRUNED and metric in record.metrics
            ]
            if pruned:
                ax.scatter(
                    [number for number, _ in pruned],
                    [value for _, value in pruned],
                    marker="x",
                    s=30,
                    color=MUTED_COLOR,
                    label="pruned trial (value when stopped)",
                    zorder=2,
                )
            running: list[float] = []
            for _, value in points:
                if not running:
                    running.append(value)
                else:
                    running.append(
                        max(running[-1], value) if facts.maximize(index) else min(running[-1], value)
                    )
            last_number = max(record.number for record in facts.records)
            ax.step(
                [number for number, _ in points] + [last_number],
                [*running, running[-1]],
                where="post",
                color=FRONT_COLOR,
                linewidth=2,
                label="best so far",
                zorder=4,
            )
            winner_value = None if best is None else objective_value(best, index)
            if best is not None and winner_value is not None and not facts.multi_objective:
                ax.scatter(
                    [best.number],
                    [winner_value],
                    marker="*",
                    s=220,
                    color=WINNER_COLOR,
                    zorder=5,
                    label=f"winner (trial {best.number})",
                )
            missing = [record.number for record in facts.records if record.status in NO_VALUE_STATUSES]
            if missing:
                ax.scatter(
                    missing,
                    [0.03] * len(missing),
                    transform=ax.get_xaxis_transform(),
                    marker="^",
                    s=36,
                    color=WINNER_COLOR,
                    alpha=0.6,
                    clip_on=False,
                    label="failed / rejected (no value)",
                    zorder=2,
                )
            if metric in ("params", "flops"):
                ax.set_yscale("log")
                count_axis(ax.yaxis)
            ax.set_ylabel(f"{facts.label(metric)}\n({better(facts, index)})")
        axes[-1].set_xlabel("trial number")
        legend_below(figure, *axes)
        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0].set_title("Optimization history")
        return _saved(
            figure, directory, "history.png", "Optimization history: each trial's value and the best so far"
        )


def plot_learning_curves(facts: StudyFacts, directory: Path, *, top: int = 5) -> Figure | None:
    """Plot validation accuracy and loss per epoch of the top trials, the others in grey."""
    with_curves = [
        record for record in facts.records if any(e.val_accuracy is not None for e in record.curve)
    ]
    if not with_curves:
        return None
    leaders = [record for record in facts.ranked if record.curve][:top]
    leader_numbers = {record.number for record in leaders}
    with house_style():
        figure = new_figure(11, 4.2)
        ax_acc, ax_loss = figure.subplots(1, 2)
        others_labelled = False
        any_pruned = any(record.status is TrialStatus.PRUNED for record in with_curves)
        for record in with_curves:
            if record.number in leader_numbers:
                continue
            label = (
                None
                if others_labelled
                else "other trials" + (" (pruned ones stop early)" if any_pruned else "")
            )
            others_labelled = True
            _curve(ax_acc, ax_loss, record, color=MUTED_COLOR, width=1.0, alpha=0.55, label=label)
        loss_top = 0.0
        for rank, record in enumerate(leaders, start=1):
            color = TOP_COLORS[(rank - 1) % len(TOP_COLORS)]
            _curve(
                ax_acc,
                ax_loss,
                record,
                color=color,
                width=2.2,
                alpha=1.0,
                label=f"#{rank}: trial {record.number}",
            )
            losses = [
                e.val_loss for e in record.curve if e.val_loss is not None and math.isfinite(e.val_loss)
            ]
            loss_top = max([loss_top, *losses])
        if loss_top > 0:
            ax_loss.set_ylim(0, loss_top * 1.6)
        for ax, name in ((ax_acc, "validation accuracy"), (ax_loss, "validation loss")):
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_acc.set_title(f"Learning curves of the top {len(leaders)} trials")
        ax_loss.set_title("Validation loss (lower is better)")
        legend_below(figure, ax_acc, columns=6)
        return _saved(
            figure,
            directory,
            "learning_curves.png",
            "Learning curves: validation accuracy and loss per epoch",
        )


def _curve(
    ax_acc: Axes,
    ax_loss: Axes,
    record: TrialRecord,
    *,
    color: str,
    width: float,
    alpha: float,
    label: str | None,
) -> None:
    epochs = [e.epoch for e in record.curve if e.val_accuracy is not None]
    accuracy = [e.val_accuracy for e in record.curve if e.val_accuracy is not None]
    ax_acc.plot(
        epochs, accuracy, marker="o", markersize=3, color=color, linewidth=width, alpha=alpha, label=label
    )
    loss_points = [
        (e.epoch, e.val_loss) for e in record.curve if e.val_loss is not None and math.isfinite(e.val_loss)
    ]
    ax_loss.plot(
        [epoch for epoch, _ in loss_points],
        [loss for _, loss in loss_points],
        marker="o",
        markersize=3,
        color=color,
        linewidth=width,
        alpha=alpha,
    )


def plot_importance(importances: Importances, directory: Path) -> Figure | None:
    """Plot each parameter's importance as horizontal bars (one color per objective)."""
    if not importances.by_metric:
        return None
    names = list(importances.order)
    metrics = list(importances.by_metric)
    with house_style():
        figure = new_figure(9, 1.2 + 0.42 * len(names) * max(1, len(metrics) * 0.7))
        ax = figure.subplots()
        height = 0.8 / len(metrics)
        positions = np.arange(len(names))[::-1]
        for index, metric in enumerate(metrics):
            scores = [importances.by_metric[metric].get(name, 0.0) for name in names]
            offsets = positions + (len(metrics) - 1) * height / 2 - index * height
            bars = ax.barh(
                offsets, scores, height=height * 0.92, color=TOP_COLORS[index], label=metric_label(metric)
            )
            ax.bar_label(bars, labels=[f"{score:.2f}" for score in scores], padding=3, fontsize=8)
        ax.set_yticks(positions, names)
        ax.set_xlim(0, max(max(scores.values()) for scores in importances.by_metric.values()) * 1.15)
        ax.set_xlabel("importance (fANOVA, share of the objective's variance; sums to 1)")
        ax.grid(axis="y", visible=False)
        ax.set_title("Hyperparameter importance")
        if len(metrics) > 1:
            legend_below(figure, ax)
        return _saved(figure, directory, "importance.png", "Hyperparameter importance (fANOVA)")


def plot_parallel(
    facts: StudyFacts,
    values: dict[str, list[Scalar]],
    order: Sequence[str],
    directory: Path,
    *,
    limit: int = 6,
) -> Figure | None:
    """Plot completed trials as lines across the most important parameters and the objective."""
    names = [name for name in order if name in values][:limit] or list(values)[:limit]
    if not names or len(facts.ranked) < 2:
        return None
    scores = [objective_value(record, 0) for record in facts.ranked]
    if any(score is None for score in scores):
        return None
    objective = [float(score) for score in scores if score is not None]
    metric = facts.metrics[0]
    objective_column: list[Scalar] = list(objective)
    columns: list[list[Scalar]] = [*(values[name] for name in names), objective_column]
    labels = [short_name(name) for name in names] + [facts.label(metric)]
    scaled: list[list[float]] = []
    ticks: list[list[tuple[float, str]]] = []
    for index, column in enumerate(columns):
        name = names[index] if index < len(names) else metric
        positions, axis_ticks = _axis_scale(
            column, log=name in facts.log_scale or name in ("params", "flops")
        )
        scaled.append(positions)
        ticks.append(axis_ticks)
    with house_style():
        figure = new_figure(11, 4.8)
        ax = figure.subplots()
        ax.axis("off")
        norm = Normalize(
            vmin=min(objective),
            vmax=max(objective) if max(objective) > min(objective) else min(objective) + 1,
        )
        colormap = "viridis" if facts.maximize(0) else "viridis_r"
        mappable = ScalarMappable(norm=norm, cmap=colormap)
        xs = list(range(len(columns)))
        order_by_score = sorted(
            range(len(objective)), key=lambda row: objective[row] * (1 if facts.maximize(0) else -1)
        )
        colors = mappable.to_rgba(np.asarray(objective))
        for row in order_by_score:
            ax.plot(
                xs,
                [column[row] for column in scaled],
                color=tuple(colors[row]),
                linewidth=1.4,
                alpha=0.8,
            )
        ax.plot(
            xs,
            [column[0] for column in scaled],
            color=WINNER_COLOR,
            linewidth=3,
            label=f"winner (trial {facts.ranked[0].number})",
        )
        for x, axis_ticks, label in zip(xs, ticks, labels, strict=True):
            ax.plot([x, x], [0, 1], color="#444444", linewidth=1)
            ax.text(x, 1.06, label, ha="center", va="bottom", fontsize=9, fontweight="bold")
            for position, text in axis_ticks:
                ax.text(
                    x + 0.04,
                    position,
                    text,
                    ha="left",
                    va="center",
                    fontsize=8,
                    color="#222222",
                    zorder=10,
                    bbox={
                        "boxstyle": "round,pad=0.15",
                        "facecolor": "white",
                        "edgecolor": "none",
                        "alpha": 0.85,
                    },
                )
        ax.set_xlim(-0.4, len(columns) - 1 + 0.5)
        ax.set_ylim(-0.05, 1.05)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.02), frameon=False)
        colorbar = figure.colorbar(mappable, ax=ax, fraction=0.03, pad=0.01)
        colorbar.set_label(facts.label(metric))
        ax.set_title("Parallel coordinates of the completed trials", pad=34)
        return _saved(
            figure,
            directory,
            "parallel_coordinates.png",
            "Parallel coordinates: the most important parameters and the objective",
        )


def _axis_scale(column: list[Scalar], *, log: bool) -> tuple[list[float], list[tuple[float, str]]]:
    """Map a column to [0, 1] and return tick positions with labels."""
    if is_numeric(column):
        numbers = [float(value) for value in column]
        low, high = min(numbers), max(numbers)
        use_log = log and low > 0

        def transform(value: float) -> float:
            return math.log10(value) if use_log else value

        span = transform(high) - transform(low)
        if span == 0:
            return [0.5] * len(numbers), [(0.5, format_value(column[0]))]
        positions = [(transform(value) - transform(low)) / span for value in numbers]
        distinct = sorted(set(column), key=float)
        if len(distinct) <= 6 and all(isinstance(value, int) for value in column):
            marks = [float(value) for value in distinct]
        else:
            middle = 10 ** ((transform(low) + transform(high)) / 2) if use_log else (low + high) / 2
            marks = [low, middle, high]
        return positions, [((transform(mark) - transform(low)) / span, f"{mark:.3g}") for mark in marks]
    categories: list[Scalar] = []
    for value in column:
        if not any(value == known and type(value) is type(known) for known in categories):
            categories.append(value)
    categories.sort(key=lambda value: _category_key(((type(value).__name__, str(value)), value)))
    spots = np.linspace(0, 1, len(categories)) if len(categories) > 1 else np.array([0.5])
    where = {
        (type(value).__name__, str(value)): float(spot) for value, spot in zip(categories, spots, strict=True)
    }
    positions = [where[(type(value).__name__, str(value))] for value in column]
    return positions, [
        (float(spot), ellipsize(format_value(value), width=14))
        for value, spot in zip(categories, spots, strict=True)
    ]


def few_integers(column: list[Scalar], *, limit: int = 6) -> bool:
    """Return whether a column holds only integers, with at most ``limit`` distinct values."""
    return all(isinstance(value, int) and not isinstance(value, bool) for value in column) and (
        len(set(column)) <= limit
    )


def _category_key(item: tuple[tuple[str, str], Scalar]) -> tuple[str, float, str]:
    """Sort categories by type, then numerically where they are numbers, else by text."""
    (kind, text), value = item
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return (kind, number, text)


def plot_slices(
    facts: StudyFacts,
    values: dict[str, list[Scalar]],
    order: Sequence[str],
    directory: Path,
    *,
    limit: int = 4,
) -> Figure | None:
    """Plot the objective against each of the most important parameters."""
    names = [name for name in order if name in values][:limit] or list(values)[:limit]
    scores = [objective_value(record, 0) for record in facts.ranked]
    if not names or any(score is None for score in scores):
        return None
    objective = [float(score) for score in scores if score is not None]
    columns = 2 if len(names) > 1 else 1
    rows = math.ceil(len(names) / columns)
    with house_style():
        figure = new_figure(4.8 * columns + 0.6, 3.4 * rows + 0.5)
        axes = figure.subplots(rows, columns, squeeze=False, sharey=True)
        generator = np.random.default_rng(0)
        for index, ax in enumerate(axes.flat):
            if index >= len(names):
                ax.set_visible(False)
                continue
            name = names[index]
            column = values[name]
            if is_numeric(column) and not few_integers(column):
                xs = [float(value) for value in column]
                if name in facts.log_scale and min(xs) > 0:
                    ax.set_xscale("log")
                    plain_log_axis(ax.xaxis)
            else:
                categories = sorted(
                    {(type(v).__name__, str(v)): v for v in column}.items(), key=_category_key
                )
                lookup = {key: position for position, (key, _) in enumerate(categories)}
                xs = [lookup[(type(v).__name__, str(v))] + generator.uniform(-0.08, 0.08) for v in column]
                ax.set_xticks(
                    range(len(categories)), [ellipsize(format_value(v), width=12) for _, v in categories]
                )
                ax.set_xlim(-0.5, len(categories) - 0.5)
                ax.grid(axis="x", visible=False)
            ax.scatter(xs[1:], objective[1:], s=34, color=MAIN_COLOR, alpha=0.8, label="completed trial")
            ax.scatter(xs[:1], objective[:1], s=220, marker="*", color=WINNER_COLOR, label="winner", zorder=4)
            ax.set_xlabel(name)
            if index % columns == 0:
                ax.set_ylabel(facts.label(facts.metrics[0]))
        legend_below(figure, axes.flat[0])
        figure.suptitle(
            f"{facts.label(facts.metrics[0]).capitalize()} against the most important parameters",
            fontweight="bold",
        )
        return _saved(figure, directory, "slices.png", "Slice plots: the objective against single parameters")


def pareto_2d(points: Sequence[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Return the points with no other point at lower-or-equal x and higher-or-equal y (one better), by x."""
    front: list[tuple[float, float, int]] = []
    best_y = -math.inf
    for x, y, number in sorted(points, key=lambda point: (point[0], -point[1], point[2])):
        if y > best_y:
            front.append((x, y, number))
            best_y = y
    return front


def plot_tradeoff(facts: StudyFacts, directory: Path, *, cost: str) -> Figure | None:
    """Plot validation accuracy against a cost (``params`` or ``time``) and highlight the Pareto front."""

    def cost_of(record: TrialRecord) -> float | None:
        if cost == "params":
            return None if record.params is None else float(record.params)
        seconds = record.metrics.get("train_time", record.duration)
        return None if seconds is None else float(seconds)

    points = [
        (x, float(record.metrics["val_accuracy"]), record.number)
        for record in facts.ranked
        if (x := cost_of(record)) is not None and "val_accuracy" in record.metrics
    ]
    if not points:
        return None
    pruned = [
        (x, float(record.metrics["val_accuracy"]))
        for record in facts.records
        if record.status is TrialStatus.PRUNED
        and (x := cost_of(record)) is not None
        and "val_accuracy" in record.metrics
    ]
    front = pareto_2d(points)
    best = facts.best
    with house_style():
        figure = new_figure(9.5, 4.8)
        ax = figure.subplots()
        if pruned:
            ax.scatter(
                [x for x, _ in pruned],
                [y for _, y in pruned],
                marker="x",
                s=30,
                color=MUTED_COLOR,
                label="pruned trial (accuracy when stopped)",
            )
        ax.scatter(
            [x for x, _, _ in points],
            [y for _, y, _ in points],
            s=34,
            color=MAIN_COLOR,
            label="completed trial",
            zorder=3,
        )
        ax.plot(
            [x for x, _, _ in front],
            [y for _, y, _ in front],
            color=FRONT_COLOR,
            linewidth=1.8,
            marker="o",
            markersize=11,
            markerfacecolor="none",
            markeredgewidth=1.8,
            drawstyle="steps-post",
            label="Pareto front",
            zorder=4,
        )
        for x, y, number in front:
            _label_point(ax, x, y, f"trial {number}")
        if best is not None:
            winner = [(x, y) for x, y, number in points if number == best.number]
            if winner:
                ax.scatter(
                    [winner[0][0]],
                    [winner[0][1]],
                    marker="*",
                    s=240,
                    color=WINNER_COLOR,
                    zorder=5,
                    label=f"winner (trial {best.number})",
                )
        xs = [x for x, _, _ in points] + [x for x, _ in pruned]
        if min(xs) > 0 and max(xs) / min(xs) > 20:
            ax.set_xscale("log")
            if cost == "params":
                count_axis(ax.xaxis)
            else:
                plain_log_axis(ax.xaxis)
        if cost == "params":
            ax.set_xlabel("parameters" + (" (log scale)" if ax.get_xscale() == "log" else ""))
            title = "Validation accuracy against model size"
            caption = (
                "Accuracy against parameters; the front holds the smallest network for each accuracy level"
            )
            filename = "accuracy_vs_params.png"
        else:
            ax.set_xlabel(
                "training time of the trial (s)" + (", log scale" if ax.get_xscale() == "log" else "")
            )
            title = "Validation accuracy against training time"
            caption = (
                "Accuracy against training time; the front holds the fastest trial for each accuracy level"
            )
            filename = "accuracy_vs_time.png"
        ax.set_ylabel("validation accuracy")
        ax.set_title(title)
        legend_below(figure, ax)
        return _saved(figure, directory, filename, caption)


def plot_pareto(facts: StudyFacts, directory: Path) -> Figure | None:
    """Plot the first two objectives of a multi-objective study, the Pareto front highlighted."""
    if not facts.multi_objective or not facts.ranked:
        return None
    rows = [
        (objective_value(record, 1), objective_value(record, 0), record.number) for record in facts.ranked
    ]
    points = [(float(x), float(y), number) for x, y, number in rows if x is not None and y is not None]
    if not points:
        return None
    on_front = sorted((point for point in points if point[2] in facts.pareto), key=lambda point: point[0])
    dominated = [point for point in points if point[2] not in facts.pareto]
    x_metric, y_metric = facts.metrics[1], facts.metrics[0]
    with house_style():
        figure = new_figure(9.5, 5)
        ax = figure.subplots()
        if dominated:
            ax.scatter(
                [p[0] for p in dominated],
                [p[1] for p in dominated],
                s=30,
                color=MUTED_COLOR,
                label="dominated trial",
            )
        ax.plot(
            [p[0] for p in on_front],
            [p[1] for p in on_front],
            color=FRONT_COLOR,
            linewidth=1.8,
            marker="o",
            markersize=8,
            drawstyle="steps-pre" if facts.maximize(1) else "steps-post",
            label=f"Pareto front ({len(on_front)} trials)",
            zorder=3,
        )
        for x, y, number in on_front:
            _label_point(ax, x, y, f"trial {number}")
        best = facts.ranked[0]
        for x, y, number in points:
            if number == best.number:
                ax.scatter(
                    [x],
                    [y],
                    marker="*",
                    s=240,
                    color=WINNER_COLOR,
                    zorder=5,
                    label=f"winner (trial {number})",
                )
        if x_metric in ("params", "flops") and min(p[0] for p in points) > 0:
            ax.set_xscale("log")
            count_axis(ax.xaxis)
        ax.set_xlabel(f"{facts.label(x_metric)} ({better(facts, 1)})")
        ax.set_ylabel(f"{facts.label(y_metric)} ({better(facts, 0)})")
        title = "Pareto front"
        if len(facts.objectives) > 2:
            title += f" (first two of {len(facts.objectives)} objectives)"
        ax.set_title(title)
        legend_below(figure, ax)
        return _saved(figure, directory, "pareto_front.png", "Pareto front of the study's objectives")


def _label_point(ax: Axes, x: float, y: float, text: str) -> None:
    ax.annotate(
        text,
        (x, y),
        xytext=(7, -13),
        textcoords="offset points",
        fontsize=8,
        color="#7a3b00",
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        zorder=6,
    )


def _saved(figure: object, directory: Path, filename: str, caption: str) -> Figure:
    from matplotlib.figure import Figure as MplFigure

    assert isinstance(figure, MplFigure)
    save(figure, directory / filename)
    return Figure(filename=filename, alt=caption, caption=caption)
