"""Training throughput: autocnn's tf.data pipeline (make_pipeline) versus model.fit on numpy arrays.

The same small CNN, the same data and the same batch size are trained by each method in one
process; the first epoch of every method is a warm-up (graph tracing) and is not counted. Methods
run in alternating order over several rounds so that slow phases of a shared machine hit all of
them alike; throughput is the median over the measured epochs, and ratios compare methods of this
run only. A reference row shows the textbook per-image tf.data pipeline (from_tensor_slices, cache,
shuffle with a 10,000 buffer, batch) that make_pipeline's index-gather design replaces, and one
make_pipeline with tf.data's autotuner switched back on (as it was before 2026-12-07): an epoch's
finished iterator waited for the autotuner thread's sleep, up to an epoch's length of idle cores
at the next epoch's start, so the rows give the mean over all epochs beside the median.

    python benchmarks/input_pipeline.py                       # Fashion-MNIST (system copy), 12,000 images
    python benchmarks/input_pipeline.py --dataset digits      # works everywhere, tiny
    python benchmarks/input_pipeline.py --train-size 54000 --epochs 3 --rounds 2
    python benchmarks/input_pipeline.py --train-size 54000 --filters 40 --batch-size 128 --epochs 3 \
        --rounds 2 --no-reference-row --no-augmentation-row   # epochs of the planned retrain's length

Writes reports/benchmarks/input_pipeline.json and .md (or --out DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autocnn.data import build_augmentation, load_dataset, make_pipeline  # noqa: E402
from benchmarks._common import add_dataset_argument, machine_facts  # noqa: E402
from benchmarks._timers import EpochTimer  # noqa: E402

REFERENCE = "tf.data per image: slices-cache-shuffle-batch"
AUTOTUNED = "make_pipeline, tf.data autotune on (before)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_argument(parser)
    parser.add_argument("--train-size", type=int, default=12000, help="training images used (default 12000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--filters",
        type=int,
        default=16,
        help="the first conv's filters, the second's twice as many (default 16)",
    )
    parser.add_argument("--epochs", type=int, default=2, help="measured epochs per method and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; methods alternate order each round")
    parser.add_argument("--no-augmentation-row", action="store_true", help="skip the pipeline+flip row")
    parser.add_argument(
        "--no-reference-row",
        action="store_true",
        help="skip the textbook per-image tf.data pipeline (from_tensor_slices, cache, shuffle(10k), batch)",
    )
    parser.add_argument(
        "--no-autotune-row", action="store_true", help="skip make_pipeline with tf.data's autotuner on"
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmarks")
    return parser.parse_args()


def small_cnn(input_shape: tuple[int, int, int], num_classes: int, *, filters: int) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(num_classes),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def run_method(
    method: str, x: np.ndarray, y: np.ndarray, *, args: argparse.Namespace, shape: Any, classes: int
) -> list[float]:
    """Train a fresh model for 1 warm-up + ``args.epochs`` epochs; return the measured epoch times."""
    keras.utils.set_random_seed(0)
    model = small_cnn(shape, classes, filters=args.filters)
    timer = EpochTimer()
    epochs = 1 + args.epochs
    if method == "numpy arrays (model.fit(x, y))":
        model.fit(x, y, batch_size=args.batch_size, epochs=epochs, shuffle=True, callbacks=[timer], verbose=0)
    elif method == REFERENCE:
        data = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .cache()
            .shuffle(min(len(x), 10_000), seed=0, reshuffle_each_iteration=True)
            .batch(args.batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        model.fit(data, epochs=epochs, shuffle=False, callbacks=[timer], verbose=0)
    else:
        augmentation = build_augmentation(flip="horizontal", seed=0) if "flip" in method else None
        data = make_pipeline(
            x, y, batch_size=args.batch_size, training=True, augmentation=augmentation, seed=0
        )
        if method == AUTOTUNED:
            autotuned = tf.data.Options()
            autotuned.autotune.enabled = True
            data = data.with_options(autotuned)
        model.fit(data, epochs=epochs, shuffle=False, callbacks=[timer], verbose=0)
    return list(timer.seconds[1:])


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    dataset = load_dataset(args.dataset)
    count = min(args.train_size, len(dataset.y_train))
    x = np.ascontiguousarray(dataset.x_train[:count])
    y = np.ascontiguousarray(dataset.y_train[:count])
    methods = ["numpy arrays (model.fit(x, y))", "make_pipeline"]
    if not args.no_reference_row:
        methods.append(REFERENCE)
    if not args.no_augmentation_row:
        methods.append("make_pipeline + RandomFlip")
    if not args.no_autotune_row:
        methods.append(AUTOTUNED)
    times: dict[str, list[float]] = {method: [] for method in methods}
    for round_index in range(args.rounds):
        order = methods if round_index % 2 == 0 else methods[::-1]
        for method in order:
            seconds = run_method(
                method, x, y, args=args, shape=dataset.input_shape, classes=dataset.num_classes
            )
            times[method].extend(seconds)
            print(
                f"round {round_index + 1}: {method:46s} " + " ".join(f"{s:.2f}s" for s in seconds), flush=True
            )

    baseline = statistics.median(count / s for s in times[methods[0]])
    rows = []
    for method in methods:
        rates = [count / s for s in times[method]]
        median = statistics.median(rates)
        rows.append(
            {
                "method": method,
                "images_per_s_median": round(median, 1),
                "images_per_s_mean": round(len(rates) * count / sum(times[method]), 1),
                "images_per_s_min": round(min(rates), 1),
                "images_per_s_max": round(max(rates), 1),
                "epoch_seconds": [round(s, 3) for s in times[method]],
                "ratio_vs_numpy": round(median / baseline, 3),
            }
        )
    result = {
        "benchmark": "input_pipeline",
        "question": "training throughput of autocnn.data.make_pipeline versus model.fit on numpy arrays",
        "dataset": dataset.name,
        "source": dataset.source,
        "train_images": count,
        "input_shape": list(dataset.input_shape),
        "batch_size": args.batch_size,
        "measured_epochs_per_method": args.epochs * args.rounds,
        "warmup_epochs_per_fit": 1,
        "rounds": args.rounds,
        "model": f"Conv{args.filters}-MaxPool-Conv{2 * args.filters}-GlobalAvgPool-Dense (same seed for every method)",
        "command": "python benchmarks/input_pipeline.py " + " ".join(sys.argv[1:]),
        "machine": {
            **machine_facts(load_before),
            "tensorflow": tf.__version__,
            "gpu": bool(tf.config.list_physical_devices("GPU")),
        },
        "note": "One run on a shared, noisy machine: absolute numbers move between runs; compare the "
        "ratios, which are measured in the same run with alternating order.",
        "results": rows,
    }
    print()
    header = f"{'method':46s} {'images/s (median)':>18s} {'mean':>7s} {'min..max':>14s} {'vs numpy':>9s}"
    print(header)
    print("-" * len(header))
    for row in rows:
        spread = f"{row['images_per_s_min']:.0f}..{row['images_per_s_max']:.0f}"
        print(
            f"{row['method']:46s} {row['images_per_s_median']:18.0f} {row['images_per_s_mean']:7.0f} "
            f"{spread:>14s} {row['ratio_vs_numpy']:9.2f}"
        )

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "input_pipeline.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Input pipeline throughput",
        "",
        f"{dataset.name}, {count} training images {tuple(dataset.input_shape)}, batch {args.batch_size}, "
        f"{args.epochs * args.rounds} measured epochs per method after a warm-up epoch; "
        f"{os.cpu_count()} CPUs (1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after), "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}.",
        "",
        "| method | images/s (median) | images/s (mean of all epochs) | min..max | vs numpy (medians) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['images_per_s_median']:.0f} | {row['images_per_s_mean']:.0f} | "
            f"{row['images_per_s_min']:.0f}..{row['images_per_s_max']:.0f} | {row['ratio_vs_numpy']:.2f} |"
        )
    lines += ["", f"Command: `{result['command'].strip()}`. {result['note']}", ""]
    (args.out / "input_pipeline.md").write_text("\n".join(lines))
    print(f"\nwrote {args.out / 'input_pipeline.json'} and {args.out / 'input_pipeline.md'}")


if __name__ == "__main__":
    main()
