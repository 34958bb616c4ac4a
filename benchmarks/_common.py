"""Helpers shared by the benchmark scripts: output files and best-so-far curves from study records."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "reports" / "benchmarks"


def best_so_far(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return (seconds, best value so far) for (seconds, value) points, in time order."""
    best = float("-inf")
    curve = []
    for seconds, value in sorted(points):
        best = max(best, value)
        curve.append((seconds, best))
    return curve


def run_contender(
    runner: Callable[[Any, float, str], dict[str, Any]], data: Any, budget_s: float
) -> dict[str, Any]:
    """Run one contender in a fresh work directory; return its outcome with its wall time and date."""
    with tempfile.TemporaryDirectory() as workdir:
        started = time.monotonic()
        outcome = runner(data, budget_s, workdir)
        outcome["wall_s"] = round(time.monotonic() - started, 1)
    outcome["date"] = time.strftime("%Y-%m-%d %H:%M")
    return outcome


def study_curve(study: Any) -> list[tuple[float, float]]:
    """Return (seconds since the first trial started, validation accuracy) of a study's completed trials."""
    records = [record for record in study.trials() if record.started is not None]
    if not records:
        return []
    origin = min(record.started for record in records)
    return [
        ((record.finished - origin).total_seconds(), float(record.val_accuracy))
        for record in records
        if record.status == "complete" and record.finished is not None and record.val_accuracy is not None
    ]


def write_results(
    name: str, results: dict[str, Any], markdown: list[str], out: Path = OUT, *, json_too: bool = True
) -> None:
    """Write ``name``.json (unless not ``json_too``) and ``name``.md under ``out``; print the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    if json_too:
        results = {
            "command": " ".join(["python", *sys.argv]),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            **results,
        }
        (out / f"{name}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    text = "\n".join(markdown) + "\n"
    (out / f"{name}.md").write_text(text)
    print(text)


def plot_curves(
    curves: dict[str, list[tuple[float, float]]],
    *,
    path: Path,
    title: str,
    ylabel: str,
    finals: dict[str, tuple[float, float]] | None = None,
) -> None:
    """Plot best-so-far curves (seconds on x) into ``path``; ``finals`` marks (seconds, test accuracy) points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    colors: dict[str, Any] = {}
    for label, curve in curves.items():
        if curve:
            xs, ys = zip(*best_so_far(curve), strict=True)
            (line,) = axes.step([x / 60 for x in xs], ys, where="post", label=label, linewidth=1.8)
            colors[label] = line.get_color()
    for label, (seconds, accuracy) in (finals or {}).items():
        axes.plot(
            [seconds / 60],
            [accuracy],
            marker="*",
            markersize=13,
            linestyle="none",
            color=colors.get(label),
            label=f"{label}: test accuracy of its final model",
        )
    axes.set_xlabel("wall time (minutes)")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def machine_facts(load_before: float) -> dict[str, Any]:
    """Return the machine a timing ran on, with its 1-minute load average before and after."""
    import platform

    import keras

    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "keras": keras.__version__,
        "load_average_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def add_dataset_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--dataset``: Fashion-MNIST when it is available offline, else digits."""
    from autocnn.data import list_datasets

    offline = {info.name for info in list_datasets() if info.available_offline}
    parser.add_argument(
        "--dataset",
        default="fashion_mnist" if "fashion_mnist" in offline else "digits",
        help="a registered dataset or a path (default: fashion_mnist when available offline, else digits)",
    )
