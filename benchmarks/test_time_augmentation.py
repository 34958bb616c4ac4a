"""Test-time augmentation, paired: one trained network scored with and without averaged augmented views.

A lever of the 95% issue that must earn its place before the final model carries it. Each seed
trains one network (the Fashion-MNIST hour's planned-space winner by default: three blocks of
24/48/96 filters) on the training split with the augmentation given, then scores the *same*
network on the validation and test splits four ways: plain, averaged with its horizontal flip,
averaged with four shifts of a few pixels (up, down, left, right), and all six views. The gains
are paired (same weights, same images), so they are far less noisy than two trainings compared.
The views are averaged by ``autocnn.model.with_views``, as a search's final model averages them.
A flip view only makes sense for a network trained with flips: the search decides whether flips
keep the label, and a final model tries only the views of the augmentation it trained with.

    python benchmarks/test_time_augmentation.py                          # Fashion-MNIST, 12 epochs, 1 seed
    python benchmarks/test_time_augmentation.py --seeds 2 --train-augmentation flips-and-shifts
    python benchmarks/test_time_augmentation.py --dataset digits --epochs 4   # smoke size

Writes reports/benchmarks/test_time_augmentation.json and .md (or --out DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autocnn.config import PredictionViews, TrialConfig  # noqa: E402
from autocnn.core.final_model import image_accuracy  # noqa: E402
from autocnn.data import Dataset, load_dataset  # noqa: E402
from autocnn.model import with_views  # noqa: E402
from autocnn.training import fit_config  # noqa: E402
from benchmarks._common import add_dataset_argument, machine_facts  # noqa: E402

TRAIN_AUGMENTATIONS: dict[str, dict[str, Any]] = {
    "shifts": {"translation": 0.06},
    "flips-and-shifts": {"translation": 0.06, "flip": "horizontal"},
    "none": {},
}
VIEWS = ("plain", "flip", "shifts", "flip and shifts")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_argument(parser)
    parser.add_argument("--epochs", type=int, default=12, help="training epochs per seed (default 12)")
    parser.add_argument("--seeds", type=int, default=1, help="networks trained, one per seed (default 1)")
    parser.add_argument(
        "--train-augmentation",
        choices=sorted(TRAIN_AUGMENTATIONS),
        default="shifts",
        help="augmentation the networks train with (default shifts: what the hour's search chose)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmarks")
    return parser.parse_args()


def network(*, epochs: int, augmentation: dict[str, Any]) -> TrialConfig:
    """Return the hour's planned-space winner: 2x24 relu, 48 swish, 2x96 swish, a flatten head, AdamW, cosine."""

    def block(filters: int, convs: int, activation: str, dropout: float) -> dict[str, Any]:
        return {
            "filters": filters,
            "convs": convs,
            "activation": activation,
            "dropout": dropout,
            "batch_norm": True,
            "pooling": "max",
        }

    return TrialConfig.from_dict(
        {
            "model": {
                "blocks": [block(24, 2, "relu", 0.1), block(48, 1, "swish", 0.0), block(96, 2, "swish", 0.2)],
                "head": {"pooling": "flatten", "dense_units": []},
            },
            "training": {
                "batch_size": 128,
                "epochs": epochs,
                "optimizer": "adamw",
                "learning_rate": 0.0028,
                "lr_schedule": "cosine",
                "augmentation": augmentation,
            },
        }
    )


def view_accuracies(model: Any, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Return the accuracy of each set of views, averaged by the model autocnn's final model uses."""
    shift = max(1, round(images.shape[1] / 28))  # one pixel at Fashion-MNIST's size
    view_sets = {
        "plain": PredictionViews(),
        "flip": PredictionViews(flip="horizontal"),
        "shifts": PredictionViews(shift=shift),
        "flip and shifts": PredictionViews(shift=shift, flip="horizontal"),
    }
    return {
        name: image_accuracy(with_views(model, views), images, labels) for name, views in view_sets.items()
    }


def measure_seed(data: Dataset, config: TrialConfig, *, seed: int) -> dict[str, Any]:
    """Train one network and score it with each set of views on validation and test."""
    started = time.monotonic()
    result = fit_config(config, data, seed=seed)
    train_seconds = time.monotonic() - started
    started = time.monotonic()
    scores = {
        "validation": view_accuracies(result.model, data.x_val, data.y_val),
        "test": view_accuracies(result.model, data.x_test, data.y_test),
    }
    return {
        "seed": seed,
        "train_seconds": round(train_seconds, 1),
        "score_seconds": round(time.monotonic() - started, 1),
        "scores": scores,
    }


def gains(runs: list[dict[str, Any]], *, split: str) -> dict[str, float]:
    """Return each view's mean accuracy gain over plain, in points, across the seeds."""
    return {
        view: round(
            100 * statistics.mean(run["scores"][split][view] - run["scores"][split]["plain"] for run in runs),
            2,
        )
        for view in VIEWS
    }


def write_markdown(results: dict[str, Any], path: Path) -> None:
    """Write the per-seed scores and the mean paired gains as a Markdown table."""
    lines = [
        "# Test-time augmentation, paired",
        "",
        f"{results['dataset']}: {results['epochs']} epochs per network, trained with "
        f"{results['train_augmentation']}, {len(results['runs'])} seed(s); {results['machine']['cpus']} CPUs "
        f"({results['machine']['processor'] or results['machine']['platform']}). Each network is scored "
        "with each set of views (class probabilities averaged); gains are paired, in points.",
        "",
        "| seed | split | " + " | ".join(VIEWS) + " |",
        "|---|---|" + "---:|" * len(VIEWS),
    ]
    for run in results["runs"]:
        for split, scores in run["scores"].items():
            cells = " | ".join(f"{100 * scores[view]:.2f}%" for view in VIEWS)
            lines.append(f"| {run['seed']} | {split} | {cells} |")
    for split in ("validation", "test"):
        cells = " | ".join(f"{gain:+.2f}" for gain in results["mean_gain_points"][split].values())
        lines.append(f"| mean gain | {split} | {cells} |")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    """Train the networks, score their views, write the JSON and the table."""
    args = parse_args()
    load_before = os.getloadavg()[0]
    data = load_dataset(args.dataset)
    config = network(epochs=args.epochs, augmentation=TRAIN_AUGMENTATIONS[args.train_augmentation])
    runs = []
    for seed in range(args.seeds):
        run = measure_seed(data, config, seed=seed)
        print(json.dumps(run), flush=True)
        runs.append(run)
    results = {
        "dataset": args.dataset,
        "epochs": args.epochs,
        "train_augmentation": args.train_augmentation,
        "images": {"train": len(data.y_train), "validation": len(data.y_val), "test": len(data.y_test)},
        "runs": runs,
        "mean_gain_points": {split: gains(runs, split=split) for split in ("validation", "test")},
        "machine": machine_facts(load_before),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "test_time_augmentation.json").write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, args.out / "test_time_augmentation.md")
    print((args.out / "test_time_augmentation.md").read_text())


if __name__ == "__main__":
    main()
