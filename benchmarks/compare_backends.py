"""Optuna vs Keras Tuner behind autocnn: same space, same data, same time budget.

Runs one search per backend/algorithm with the budget and reports the best validation accuracy
over time (a plot and a table in reports/benchmarks/compare_backends.*). Timings vary on shared
machines; the runs are sequential in one process, so compare them within one run.

    python benchmarks/compare_backends.py --budget 5m --dataset digits --space quick
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, best_so_far, plot_curves, study_curve, write_results

CONTENDERS = [
    ("optuna", "tpe"),
    ("optuna", "random"),
    ("keras-tuner", "bayesian"),
    ("keras-tuner", "hyperband"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="5m")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--space", default="quick")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    from autocnn._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from autocnn.core.session import search

    space = args.space
    rows, curves = [], {}
    for backend, algorithm in CONTENDERS:
        label = f"{backend} {algorithm}"
        with tempfile.TemporaryDirectory() as workdir:
            started = time.monotonic()
            study = search(
                space,
                dataset=args.dataset,
                workdir=workdir,
                backend=backend,
                algorithm=algorithm,
                max_trials=10_000,
                timeout=args.budget,
                retrain=False,
            )
            wall = time.monotonic() - started
            curve = study_curve(study)
            records = study.trials()
        curves[label] = curve
        best = best_so_far(curve)
        rows.append(
            {
                "backend": label,
                "trials": len(records),
                "best_val_accuracy": round(best[-1][1], 4) if best else None,
                "time_to_best_s": round(min(s for s, v in best if v == best[-1][1]), 1) if best else None,
                "wall_s": round(wall, 1),
            }
        )
    plot_curves(
        curves,
        path=args.out / "compare_backends.png",
        title=f"best validation accuracy, {args.dataset}",
        ylabel="best validation accuracy so far",
    )
    table = [
        "| backend | trials | best val accuracy | reached after (s) | wall (s) |",
        "|---|---|---|---|---|",
    ]
    table += [
        f"| {r['backend']} | {r['trials']} | {r['best_val_accuracy']} | {r['time_to_best_s']} | {r['wall_s']} |"
        for r in rows
    ]
    write_results(
        "compare_backends",
        {"budget": args.budget, "dataset": args.dataset, "space": args.space, "results": rows},
        [
            f"# Backends compared: {args.space} space on {args.dataset}, {args.budget} each",
            "",
            "Same space, data and budget; runs one after another on this machine (noisy: compare within a run).",
            "",
            *table,
            "",
            "![best so far](compare_backends.png)",
        ],
        out=args.out,
    )


if __name__ == "__main__":
    main()
