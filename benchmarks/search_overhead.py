"""Per-trial overhead of the search loop: search wall time / time spent in model.fit.

Runs N trials of a space on a dataset (default: 20 trials of the quick space on digits) with
tracking off and on, and writes reports/benchmarks/search_overhead.{json,md}. Timings vary on
shared machines: compare the ratios of one run, not absolute seconds across runs.

    python benchmarks/search_overhead.py --trials 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autocnn._quiet import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from autocnn._system import hardware, rss_mb  # noqa: E402
from autocnn.core.callbacks import SearchCallback  # noqa: E402
from autocnn.core.session import search  # noqa: E402


class _Probe(SearchCallback):
    def __init__(self) -> None:
        self.rss: list[float] = []

    def on_trial_end(self, record: Any, *, model: Any = None) -> None:
        self.rss.append(rss_mb())


def run(space: str, dataset: str, trials: int, *, tracking: bool) -> dict[str, Any]:
    callbacks: list[SearchCallback] = []
    probe = _Probe()
    callbacks.append(probe)
    with tempfile.TemporaryDirectory() as workdir:
        if tracking:
            try:
                from autocnn.tracking import make_tracker
            except ImportError:
                return {"skipped": "autocnn.tracking is not available"}
            callbacks.append(
                make_tracker(workdir=Path(workdir), tracking_uri=None, enabled=True, register_name=None)
            )
        started = time.monotonic()
        study = search(
            space, dataset=dataset, workdir=workdir, max_trials=trials, retrain=False, callbacks=callbacks
        )
        wall = time.monotonic() - started
        records = study.trials()
    train = sum(record.metrics.get("train_time", 0.0) for record in records)
    trained = [record for record in records if record.metrics.get("train_time")]
    return {
        "trials": len(records),
        "wall_s": round(wall, 2),
        "train_s": round(train, 2),
        "ratio": round(wall / train, 3) if train else None,
        "overhead_per_trial_s": round((wall - train) / max(len(trained), 1), 3),
        "rss_mb_first": round(probe.rss[0], 1) if probe.rss else None,
        "rss_mb_last": round(probe.rss[-1], 1) if probe.rss else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="quick")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--out", default=str(REPO / "reports" / "benchmarks"))
    args = parser.parse_args()
    results: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "hardware": hardware(),
        "note": "timings vary on shared machines; compare ratios within one run",
        "no_tracking": run(args.space, args.dataset, args.trials, tracking=False),
        "mlflow_tracking": run(args.space, args.dataset, args.trials, tracking=True),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "search_overhead.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        "| run | trials | wall s | fit s | wall / fit | overhead per trial s | RSS first → last MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("no_tracking", "mlflow_tracking"):
        result = results[name]
        if "skipped" in result:
            rows.append(f"| {name} | skipped: {result['skipped']} | | | | | |")
            continue
        rows.append(
            f"| {name} | {result['trials']} | {result['wall_s']} | {result['train_s']} | {result['ratio']} | "
            f"{result['overhead_per_trial_s']} | {result['rss_mb_first']} → {result['rss_mb_last']} |"
        )
    text = "\n".join(
        [
            f"# Search overhead ({args.trials} trials, {Path(args.space).stem} space, {args.dataset})",
            "",
            f"`{results['command']}` on {results['hardware']['cpus']} CPUs "
            f"({results['hardware']['cpu_model']}), {results['date']}.",
            "Timings vary on shared machines: compare the ratios of one run.",
            "",
            *rows,
            "",
        ]
    )
    (out / "search_overhead.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
