"""Storage and sampler time per trial as a study grows to N trials (fake training, no model.fit).

Runs autocnn's real trial loop (ask, propose, shape check, record, tell, stale-trial check,
trial counting, and the estimate of the final retrain it keeps time for under a time budget)
with model.fit replaced by a function that returns at once, and reports the loop's own time per
trial in buckets of trials. The final retrain itself is skipped. That time is what a real study spends outside
training per trial; the script also says what fraction of a study it would be for a given
training time per trial.

    python benchmarks/storage_scaling.py --trials 1000 --train-seconds 30
"""

from __future__ import annotations

import argparse
import itertools
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

import autocnn.core.session  # noqa: E402
import autocnn.training  # noqa: E402
from autocnn._system import hardware  # noqa: E402
from autocnn.core.callbacks import SearchCallback  # noqa: E402
from autocnn.core.records import EpochRecord  # noqa: E402
from autocnn.core.session import search  # noqa: E402
from autocnn.tracking._payload import epoch_metrics  # noqa: E402
from autocnn.training import FitResult, FitStop  # noqa: E402


def fake_fit(
    config: Any, dataset: Any, *, epochs: int | None = None, on_epoch: Any = None, **_: object
) -> FitResult:
    """Return a plausible result at once; the score depends on the config so the sampler has a signal."""
    score = (
        0.5 + 0.01 * config.model.blocks[0].filters ** 0.5 - abs(config.training.learning_rate - 3e-3) * 10
    )
    curve = []
    for epoch in range(1, (epochs or config.training.epochs) + 1):
        record = EpochRecord(
            epoch=epoch,
            loss=1 - score,
            accuracy=score,
            val_loss=1 - score,
            val_accuracy=min(max(score * epoch / 3, 0.0), 1.0),
        )
        curve.append(record)
        if on_epoch is not None and on_epoch(record):
            return FitResult(
                model=None,
                curve=curve,
                stop_reason=FitStop.PRUNED,
                message="pruned",
                train_seconds=0.0,
                metrics=epoch_metrics(record),
            )
    last = curve[-1]
    return FitResult(
        model=None,
        curve=curve,
        stop_reason=FitStop.COMPLETED,
        message="",
        train_seconds=0.0,
        metrics=epoch_metrics(last),
    )


class Clock(SearchCallback):
    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_trial_end(self, record: Any, *, model: Any = None) -> None:
        self.ends.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--bucket", type=int, default=100)
    parser.add_argument("--algorithm", default="tpe")
    parser.add_argument(
        "--train-seconds", type=float, default=30.0, help="training time per trial to relate the overhead to"
    )
    parser.add_argument("--out", default=str(REPO / "reports" / "benchmarks"))
    args = parser.parse_args()
    autocnn.training.fit_config = fake_fit  # the loop looks it up at call time
    autocnn.core.session.retrain_best = lambda *_, **__: None  # type: ignore[attr-defined]  # time kept only
    clock = Clock()
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        search(
            "mnist",
            dataset="digits",
            workdir=workdir,
            max_trials=args.trials,
            algorithm=args.algorithm,
            timeout="30d",
            retrain=True,
            callbacks=[clock],
        )
        total = time.perf_counter() - started
    marks = [started, *clock.ends]
    per_trial = [b - a for a, b in itertools.pairwise(marks)]
    buckets: list[dict[str, Any]] = []
    for start in range(0, len(per_trial), args.bucket):
        chunk = per_trial[start : start + args.bucket]
        buckets.append(
            {
                "trials": f"{start + 1}-{start + len(chunk)}",
                "mean_ms": round(1000 * sum(chunk) / len(chunk), 1),
            }
        )
    last_ms = buckets[-1]["mean_ms"]
    share = last_ms / 1000 / (last_ms / 1000 + args.train_seconds)
    results = {
        "command": " ".join(["python", *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "hardware": hardware(),
        "algorithm": args.algorithm,
        "storage": "SQLite (default)",
        "trials": len(per_trial),
        "total_s": round(total, 1),
        "buckets": buckets,
        "train_seconds_assumed": args.train_seconds,
        "share_outside_training_at_end": round(share, 4),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "storage_scaling.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# Loop time per trial as a study grows ({args.algorithm}, SQLite, fake training)",
        "",
        f"`{results['command']}` on {results['hardware']['cpus']} CPUs, {results['date']}. "
        "Timings vary on shared machines.",
        "",
        "| trials | loop time per trial (ms) |",
        "|---|---|",
        *(f"| {bucket['trials']} | {bucket['mean_ms']} |" for bucket in buckets),
        "",
        f"At the end of the study the loop spends {last_ms:.0f} ms per trial outside training: "
        f"{100 * share:.2f}% of a study whose trials train {args.train_seconds:g} s each.",
        "",
    ]
    (out / "storage_scaling.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
