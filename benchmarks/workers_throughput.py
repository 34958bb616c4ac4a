"""Trials per hour with 1, 2 and 4 worker processes on this machine, and any 'database is locked'.

Each run searches the same space for the same budget on the default SQLite storage. On a 2-core
CPU more workers mostly share the same two cores: the result says honestly what they gain.

    python benchmarks/workers_throughput.py --budget 3m --workers 1 2 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="3m")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--space", default="quick")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    from autocnn._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from autocnn._system import hardware
    from autocnn.core.plan import parse_timeout
    from autocnn.core.session import search

    budget_s = parse_timeout(args.budget)
    rows = []
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as workdir:
            started = time.monotonic()
            study = search(
                args.space,
                dataset=args.dataset,
                workdir=workdir,
                max_trials=100_000,
                timeout=budget_s,
                retrain=False,
                workers=workers,
            )
            wall = time.monotonic() - started
            records = study.trials()
        finished = [r for r in records if r.status in ("complete", "pruned")]
        locked = [r for r in records if "locked" in r.reason.lower()]
        rows.append(
            {
                "workers": workers,
                "trials_finished": len(finished),
                "wall_s": round(wall, 1),
                "trials_per_hour": round(len(finished) / wall * 3600),
                "database_locked_errors": len(locked),
                "failed": sum(r.status == "failed" for r in records),
            }
        )
    base = rows[0]["trials_per_hour"] or 1
    table = [
        "| workers | trials finished | wall (s) | trials / hour | vs 1 worker | 'database is locked' | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    table += [
        f"| {r['workers']} | {r['trials_finished']} | {r['wall_s']} | {r['trials_per_hour']} | "
        f"{r['trials_per_hour'] / base:.2f}x | {r['database_locked_errors']} | {r['failed']} |"
        for r in rows
    ]
    info = hardware()
    write_results(
        "workers_throughput",
        {
            "budget": args.budget,
            "dataset": args.dataset,
            "space": args.space,
            "hardware": info,
            "results": rows,
        },
        [
            f"# Worker processes on one machine: {args.space} space on {args.dataset}, {args.budget} each",
            "",
            f"{info['cpus']} CPUs ({info['cpu_model']}), GPUs: {info['gpus']}. Default SQLite storage (WAL).",
            "Each worker process imports TensorFlow (~4 s, ~850 MB) and trains on the same cores: on a 2-core",
            "machine more than 2 workers cannot add compute; they help on machines with more cores or GPUs.",
            "",
            *table,
        ],
        out=args.out,
    )


if __name__ == "__main__":
    main()
