"""The planned space against a peer's search and a hand-made net, at equal budgets, on datasets of many shapes.

Contenders, one after another on the same split of each dataset (`benchmarks/_shaped_datasets.py`):

- autocnn_planned: `autocnn search --timeout BUDGET` with no space, so the planner makes one;
- keras_tuner: Keras Tuner Hyperband with a space written the way its guide writes one;
- hand_made: the hand-made networks of the ready-made space seed_cnns trained alone within the
  budget (the better one on test counts, which flatters it).

Writes reports/benchmarks/planned_space.{json,md,png}. A run with some budgets, datasets or
contenders is merged into the earlier results, so the grid can be run in parts.

    python benchmarks/planned_space.py --budget 5m 15m                  # the whole grid
    python benchmarks/planned_space.py --budget 5m --datasets digits_32px  # one dataset
    python benchmarks/planned_space.py --budget 20s --scale 0.1 --out /tmp/b  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, run_contender, write_results
from benchmarks._shaped_datasets import SHAPED_DATASETS, ShapedDataset
from benchmarks.fashion_mnist_budget import run_autocnn_planned, run_hand_made, run_keras_tuner

RUNNERS = {"autocnn_planned": run_autocnn_planned, "keras_tuner": run_keras_tuner, "hand_made": run_hand_made}
PEERS = ("keras_tuner", "hand_made")
NAME = "planned_space"


def run_dataset(
    shaped: ShapedDataset, *, budgets: list[str], contenders: list[str], scale: float
) -> dict[str, dict[str, Any]]:
    """Return the outcomes on one dataset by budget and contender."""
    from autocnn.core.plan import parse_timeout

    outcomes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as root:
        data = shaped.make(Path(root), scale)
        for budget in budgets:
            for name in contenders:
                try:
                    outcome = run_contender(RUNNERS[name], data, parse_timeout(budget))
                except Exception as error:  # one contender's failure is a result, not the grid's end
                    outcome = {"error": f"{type(error).__name__}: {error}"[:300], "test_accuracy": None}
                outcome.pop("curve", None)
                outcomes.setdefault(budget, {})[name] = outcome
                print(f"{budget} {shaped.name} {name}: test {outcome.get('test_accuracy')}", flush=True)
    return outcomes


def margins(by_dataset: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Return, per dataset with all three contenders, the planned search's test accuracy minus the better peer's."""
    found = {}
    for dataset, outcomes in by_dataset.items():
        accuracies = [outcomes.get(name, {}).get("test_accuracy") for name in ("autocnn_planned", *PEERS)]
        if all(accuracy is not None for accuracy in accuracies):
            found[dataset] = accuracies[0] - max(accuracies[1:])
    return found


def render(
    results: dict[str, dict[str, dict[str, Any]]],
    *,
    out: Path,
    scale: float,
    info: dict[str, str],
    json_too: bool = True,
) -> None:
    """Write the table (per budget: datasets x contenders, and the margin over the better peer) and the plot."""
    lines = [
        "# The planned space vs Keras Tuner Hyperband and a hand-made net, equal budgets",
        "",
        f"{info['cpus']} CPUs ({info['cpu_model']}), GPUs: {info['gpus']}; contenders ran one after another on "
        "the same split of each dataset"
        + (f"; smoke run on {scale:.0%} of the images" if scale < 1 else "")
        + ". Test accuracy; *margin* is the planned search minus the better of the two peers, in points.",
        "",
        "Run on: " + _dates(results) + " (a contender run later with `--only` is merged in; the JSON has "
        "each outcome's date and command).",
        "",
    ]
    datasets = {shaped.name: shaped.stands_for for shaped in SHAPED_DATASETS}
    for budget, by_dataset in results.items():
        found = margins(by_dataset)
        lines += [
            f"## {budget} per contender",
            "",
            "| dataset | autocnn_planned | keras_tuner | hand_made | margin | planned trials |",
            "|---|---|---|---|---|---|",
        ]
        for dataset in (name for name in datasets if name in by_dataset):
            outcomes = by_dataset[dataset]
            cells = [_cell(outcomes.get(c, {})) for c in ("autocnn_planned", *PEERS)]
            margin = f"{100 * found[dataset]:+.2f}" if dataset in found else "-"
            trials = outcomes.get("autocnn_planned", {}).get("trials", "-")
            lines.append(f"| {dataset} | {' | '.join(cells)} | {margin} | {trials} |")
        if found:
            ahead = sum(value >= 0 for value in found.values())
            mean = 100 * sum(found.values()) / len(found)
            lines += [
                "",
                f"At least as accurate as the better peer on {ahead} of {len(found)}; mean margin {mean:+.2f} points.",
            ]
        lines.append("")
    lines += [
        "Datasets:",
        "",
        *(f"- `{name}`: {text}" for name, text in datasets.items()),
        "",
        f"![test accuracy]({NAME}.png)",
    ]
    _plot(results, path=out / f"{NAME}.png")
    write_results(
        NAME, {"scale": scale, "hardware": info, "results": results}, lines, out=out, json_too=json_too
    )


def _dates(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Return the days each contender's outcomes were measured on, e.g. ``keras_tuner 2026-12-03``."""
    days: dict[str, set[str]] = {}
    for by_dataset in results.values():
        for outcomes in by_dataset.values():
            for name, outcome in outcomes.items():
                if "date" in outcome:
                    days.setdefault(name, set()).add(str(outcome["date"]).split()[0])
    return "; ".join(f"{name} {', '.join(sorted(days[name]))}" for name in RUNNERS if name in days)


def _cell(outcome: dict[str, Any]) -> str:
    """Return a contender's table cell: its test accuracy, "error" (the JSON says which) or "-" (not run)."""
    if "error" in outcome:
        return "error"
    return "-" if outcome.get("test_accuracy") is None else f"{outcome['test_accuracy']:.4f}"


def _plot(results: dict[str, dict[str, dict[str, Any]]], *, path: Path) -> None:
    """Plot grouped bars of test accuracy: one panel per budget, one group per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    contenders = ("autocnn_planned", *PEERS)
    figure, panels = plt.subplots(1, len(results), figsize=(6 * len(results), 4.2), squeeze=False)
    for panel, (budget, by_dataset) in zip(panels[0], results.items(), strict=True):
        datasets = list(by_dataset)
        for offset, name in enumerate(contenders):
            values = [by_dataset[d].get(name, {}).get("test_accuracy") or 0.0 for d in datasets]
            panel.bar([i + (offset - 1) * 0.27 for i in range(len(datasets))], values, width=0.27, label=name)
        panel.set_xticks(range(len(datasets)), [d.replace("_", "\n", 1) for d in datasets], fontsize=8)
        lowest = min(
            (
                v
                for v in (by_dataset[d].get(n, {}).get("test_accuracy") for d in datasets for n in contenders)
                if v
            ),
            default=0.0,
        )
        panel.set_ylim(max(0.0, math.floor(10 * lowest - 0.5) / 10), 1)
        panel.set_ylabel("test accuracy")
        panel.set_title(f"{budget} per contender")
        panel.grid(axis="y", alpha=0.3)
        panel.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", nargs="+", default=["5m", "15m"], help="per contender and dataset")
    parser.add_argument("--datasets", nargs="+", choices=[d.name for d in SHAPED_DATASETS], default=None)
    parser.add_argument("--only", nargs="+", choices=list(RUNNERS), default=list(RUNNERS))
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of each dataset's images (smoke runs)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--render", action="store_true", help="run nothing: write the table and plot again from the JSON"
    )
    args = parser.parse_args()

    from autocnn._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from autocnn._system import hardware

    path = args.out / f"{NAME}.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    results: dict[str, dict[str, dict[str, Any]]] = (
        earlier.get("results", {}) if earlier.get("scale") == args.scale else {}
    )
    if args.render:
        if not results:
            sys.exit(f"--render: no results with --scale {args.scale} in {path}; run the contenders first")
        render(results, out=args.out, scale=args.scale, info=earlier["hardware"], json_too=False)
        return
    for shaped in SHAPED_DATASETS:
        if args.datasets and shaped.name not in args.datasets:
            continue
        fresh = run_dataset(shaped, budgets=args.budget, contenders=args.only, scale=args.scale)
        for budget, outcomes in fresh.items():
            results.setdefault(budget, {}).setdefault(shaped.name, {}).update(outcomes)
        render(results, out=args.out, scale=args.scale, info=hardware())  # after each dataset


if __name__ == "__main__":
    main()
