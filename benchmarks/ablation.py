"""The planned search with each of its levers switched off in turn, at one budget, on one dataset.

The space is planned once for the data and the budget (one probe of this machine) and kept in the
results, so a run in parts (`--only`) ablates the same plan. Rows, one after another on the same
split, each `autocnn search` with the planned space and the budget (search and retrain):

- all: the plan as it is;
- one row per lever the plan uses, with that lever off (a lever the plan does not use is listed,
  not run): final_rung, augmentation_check, quartile_pruner, label_smoothing, cosine_schedule.

Writes reports/benchmarks/ablation_<dataset>_<budget>.{json,md}: test accuracy, its change from
"all" in points, trials and wall time. One run per row: differences under the run-to-run spread
of "all" (Fashion-MNIST, 60 min: 0.7 points) are not effects.

    python benchmarks/ablation.py --budget 30m                         # Fashion-MNIST, every lever
    python benchmarks/ablation.py --budget 30m --only all final_rung   # parts, merged into earlier runs
    python benchmarks/ablation.py --budget 10s --dataset digits --subset 0.3  # a smoke run
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, run_contender, write_results
from benchmarks.fashion_mnist_budget import run_autocnn

ALL = "all"


@dataclass(frozen=True)
class Lever:
    """A part of the planned search and the space entry that switches it off."""

    name: str
    entry: tuple[str, ...]  # the path of the entry in the space file
    off: Any  # the entry's value with the lever off (also its default: an absent entry is off)

    @property
    def dotted(self) -> str:
        """The entry as a space file's dotted name, e.g. ``search.final_rung.candidates``."""
        return ".".join(self.entry)


LEVERS = (
    Lever("final_rung", ("search", "final_rung", "candidates"), 0),
    Lever("augmentation_check", ("search", "augmentation_check", "epochs"), 0),
    Lever("quartile_pruner", ("search", "pruner"), "median"),
    Lever("label_smoothing", ("training", "label_smoothing"), 0.0),
    Lever("cosine_schedule", ("training", "lr_schedule"), "constant"),
)
ROWS = (ALL, *(lever.name for lever in LEVERS))


def entry_value(document: dict[str, Any], lever: Lever) -> Any:
    """Return the lever's entry in a space file's ``document``, or its off value when absent."""
    value: Any = document
    for key in lever.entry:
        if not isinstance(value, dict) or key not in value:
            return lever.off
        value = value[key]
    return value


def switched_off(document: dict[str, Any], lever: Lever) -> dict[str, Any] | None:
    """Return a copy of ``document`` with ``lever`` off; None when the plan does not use the lever."""
    if entry_value(document, lever) == lever.off:
        return None
    changed = copy.deepcopy(document)
    parent = changed
    for key in lever.entry[:-1]:
        parent = parent[key]
    parent[lever.entry[-1]] = lever.off
    return changed


def planned_document(data: Any, *, budget_s: float, earlier: dict[str, Any]) -> str:
    """Return the planned space file: the earlier run's (the same plan across parts), else a new plan."""
    if earlier.get("plan_yaml"):
        return str(earlier["plan_yaml"])
    from autocnn.planning import plan_space

    return plan_space(data, timeout=budget_s).yaml


def run_rows(names: list[str], *, data: Any, budget_s: float, plan_yaml: str) -> dict[str, dict[str, Any]]:
    """Run each named row (``all`` or a lever off) with the budget; return their outcomes by name."""
    import yaml

    from autocnn.space import parse_space

    document = yaml.safe_load(plan_yaml)
    outcomes: dict[str, dict[str, Any]] = {}
    for name in names:
        lever = next((lever for lever in LEVERS if lever.name == name), None)
        variant = document if lever is None else switched_off(document, lever)
        if variant is None:
            assert lever is not None
            outcomes[name] = {"not_in_plan": f"{lever.dotted} is already {lever.off!r}"}
            continue
        space = parse_space(yaml.safe_dump(variant, sort_keys=False), source=f"{name}.yaml")
        outcome = run_contender(functools.partial(run_autocnn, space=space), data, budget_s)
        outcome.pop("curve", None)
        outcome["change"] = (
            "none" if lever is None else f"{lever.dotted}: {entry_value(document, lever)!r} -> {lever.off!r}"
        )
        outcome["command"] = " ".join(["python", *sys.argv])
        outcomes[name] = outcome
        print(f"{name}: test {outcome.get('test_accuracy')}", flush=True)
    return outcomes


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Return the Markdown rows: each lever off, its test accuracy and its change from ``all``."""
    baseline = results.get(ALL, {}).get("test_accuracy")
    lines = [
        "| lever off | change | test accuracy | vs all (points) | trials | wall (s) | date |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ROWS:
        outcome = results.get(name)
        if outcome is None:
            continue
        if "not_in_plan" in outcome:
            lines.append(f"| {name} | not in the plan: {outcome['not_in_plan']} | | | | | |")
            continue
        accuracy = outcome.get("test_accuracy")
        shown = "-" if accuracy is None else f"{accuracy:.4f}"
        versus = (
            ""
            if name == ALL or accuracy is None or baseline is None
            else f"{100 * (accuracy - baseline):+.2f}"
        )
        lines.append(
            f"| {name} | {outcome['change']} | {shown} | {versus} | {outcome['trials']} | "
            f"{outcome['wall_s']} | {outcome['date']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", default="30m", help="per row: 30m for the issue's table, 10s for a smoke run"
    )
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument(
        "--subset", type=float, default=1.0, help="fraction of the training data (smoke runs)"
    )
    parser.add_argument("--only", nargs="+", choices=ROWS, default=list(ROWS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    from autocnn._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from autocnn._system import hardware
    from autocnn.core.plan import parse_timeout
    from autocnn.data import load_dataset

    name = f"ablation_{args.dataset}_{args.budget.replace(' ', '')}"
    path = args.out / f"{name}.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    if earlier.get("subset") != args.subset:
        earlier = {}
    budget_s = parse_timeout(args.budget)
    data = load_dataset(args.dataset, validation_fraction=0.1, seed=0)
    if args.subset < 1:
        data = data.subset(args.subset, seed=0)
    plan_yaml = planned_document(data, budget_s=budget_s, earlier=earlier)
    results: dict[str, dict[str, Any]] = dict(earlier.get("results", {}))
    results.update(run_rows(args.only, data=data, budget_s=budget_s, plan_yaml=plan_yaml))
    info = hardware()
    write_results(
        name,
        {
            "budget": args.budget,
            "subset": args.subset,
            "hardware": info,
            "plan_yaml": plan_yaml,
            "results": results,
        },
        [
            f"# The planned search on {args.dataset}, each lever off in turn, {args.budget} each"
            + (f" (smoke run on {args.subset:.0%} of the training data)" if args.subset < 1 else ""),
            "",
            f"{info['cpus']} CPUs ({info['cpu_model']}), GPUs: {info['gpus']}; one plan (in the JSON), rows one "
            "after another on the same split, one run each: a change under the run-to-run spread of "
            "`all` is not an effect.",
            "",
            *table({name: results[name] for name in ROWS if name in results}),
        ],
        out=args.out,
    )


if __name__ == "__main__":
    main()
