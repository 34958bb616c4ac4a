"""Training throughput here: achieved GFLOP/s against a large matmul, by channel count; the probe's error.

Four questions, measured in one process so that the ratios share the machine's state:

1. **Peak:** a float32 matmul of two 2048x2048 matrices in TensorFlow on the same cores, the
   practical peak the training step is compared with.
2. **Channel counts:** the same three-block network (2 convs per block, batch norm, max pooling,
   filters c, 2c, 4c) for several base counts c, trained with ``train_on_batch`` in alternating
   order over rounds; achieved GFLOP/s counts a training step as 3x the forward FLOPs (forward,
   plus backward through activations and weights) and is given as a share of the peak.
3. **Options:** the planner's narrow width-24 network with swish, dropout or a flatten head, each
   against relu without dropout (the probe times the costliest).
4. **The planner's probe:** ``probe_step_cost`` on the planner's four probed networks for the
   input shape, then the seconds per image of a real ``fit`` (the tf.data pipeline, flips and
   shifts, the fused batch norm) for networks between them, against the probe's estimate and
   against a straight line through only the narrowest and the widest (the probe before).

    python benchmarks/throughput.py                 # 28x28x1, batch 128, 3 rounds
    python benchmarks/throughput.py --rounds 1      # smoke size

Writes reports/benchmarks/throughput.json and .md (or --out DIR).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autocnn.config import TrialConfig  # noqa: E402
from autocnn.model import analyze_architecture, build_model  # noqa: E402
from autocnn.training import compile_for_training  # noqa: E402
from benchmarks._common import OUT, machine_facts, write_results  # noqa: E402
from benchmarks._timers import EpochTimer  # noqa: E402

BASE_CHANNELS = (16, 18, 24, 30, 32, 36, 40, 48)
STEPS = 8
MATMUL_SIDE = 2048
TRAINING_FLOPS_PER_FORWARD = 3
FIT_IMAGES = 6000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds; channel counts alternate order each round"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--size", type=int, default=28, help="image height and width (one channel)")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


def matmul_gflops() -> float:
    """Return the best GFLOP/s of a few float32 matmuls of two MATMUL_SIDE-square matrices."""
    import tensorflow as tf

    left = tf.random.uniform((MATMUL_SIDE, MATMUL_SIDE))
    right = tf.random.uniform((MATMUL_SIDE, MATMUL_SIDE))
    _ = (left @ right).numpy()
    best = float("inf")
    for _ in range(10):
        started = time.perf_counter()
        _ = (left @ right).numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * MATMUL_SIDE**3 / best / 1e9


def network(base: int, batch_size: int) -> TrialConfig:
    """Return the three-block network with ``base``, 2x and 4x filters."""
    blocks = [{"filters": base * 2**index, "batch_norm": True, "convs": 2} for index in range(3)]
    return TrialConfig.from_dict(
        {
            "model": {"blocks": blocks, "head": {"pooling": "global_avg", "dense_units": [128]}},
            "training": {"batch_size": batch_size},
        }
    )


def step_ms_medians(
    configs: dict[str, TrialConfig], *, shape: tuple[int, int, int], batch_size: int, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Return each network's median training step (ms) over alternating rounds, and its forward FLOPs."""
    rng = np.random.default_rng(0)
    images = rng.random((batch_size, *shape), dtype=np.float32)
    labels = rng.integers(0, 10, batch_size)
    models = {}
    flops = {}
    for name, config in configs.items():
        model = build_model(config, input_shape=shape, num_classes=10, fused_batch_norm=True)
        compile_for_training(model, config.training, num_classes=10, steps_per_epoch=10, epochs=1)
        model.train_on_batch(images, labels)
        models[name] = model
        flops[name] = float(analyze_architecture(config, input_shape=shape, num_classes=10).flops)
    step_ms: dict[str, list[float]] = {name: [] for name in configs}
    names = list(configs)
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            times = []
            for _ in range(STEPS):
                started = time.perf_counter()
                models[name].train_on_batch(images, labels)
                times.append(time.perf_counter() - started)
            step_ms[name].append(statistics.median(times) * 1000)
        print(f"round {round_index + 1} done", flush=True)
    keras.backend.clear_session()
    return {name: statistics.median(times) for name, times in step_ms.items()}, flops


def channel_rows(args: argparse.Namespace, peak: float) -> list[dict[str, Any]]:
    """Time each base channel count's training step over the rounds; return a row per count."""
    configs = {str(base): network(base, args.batch_size) for base in BASE_CHANNELS}
    medians, flops = step_ms_medians(
        configs, shape=(args.size, args.size, 1), batch_size=args.batch_size, rounds=args.rounds
    )
    rows = []
    for base in BASE_CHANNELS:
        median_ms = medians[str(base)]
        gflops = TRAINING_FLOPS_PER_FORWARD * flops[str(base)] * args.batch_size / (median_ms / 1000) / 1e9
        rows.append(
            {
                "filters": [base, 2 * base, 4 * base],
                "forward_mflops": round(flops[str(base)] / 1e6, 1),
                "step_ms_median": round(median_ms, 2),
                "ms_per_image": round(median_ms / args.batch_size, 4),
                "training_gflops": round(gflops, 1),
                "share_of_peak": round(gflops / peak, 3),
            }
        )
    return rows


def option_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Time the planner's narrow width-24 network with each costly option alone and together."""

    def variant(*, activation: str = "relu", dropout: float = 0.0, head: str = "global_avg") -> TrialConfig:
        blocks = [
            {"filters": 24 * 2**index, "batch_norm": True, "activation": activation, "dropout": dropout}
            for index in range(3)
        ]
        return TrialConfig.from_dict(
            {
                "model": {"blocks": blocks, "head": {"pooling": head, "dense_units": [64]}},
                "training": {"batch_size": args.batch_size},
            }
        )

    configs = {
        "relu, no dropout, global average (the probe before)": variant(),
        "swish": variant(activation="swish"),
        "dropout 0.2": variant(dropout=0.2),
        "flatten head": variant(head="flatten"),
        "swish and dropout 0.2 (the probe now)": variant(activation="swish", dropout=0.2),
    }
    medians, flops = step_ms_medians(
        configs, shape=(args.size, args.size, 1), batch_size=args.batch_size, rounds=args.rounds
    )
    base = medians[next(iter(configs))]
    return [
        {
            "options": name,
            "forward_mflops": round(flops[name] / 1e6, 1),
            "step_ms_median": round(medians[name], 2),
            "vs_relu": round(medians[name] / base, 2),
        }
        for name in configs
    ]


def probe_rows(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[list[float]]]:
    """Return real fit seconds per image against the probe's and the two-point line's estimates."""
    from autocnn.data import build_augmentation, dataset_from_arrays, make_pipeline
    from autocnn.planning import _plan
    from autocnn.planning._probe import probe_step_cost

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(FIT_IMAGES, args.size, args.size, 1), dtype=np.uint8)
    y = np.arange(FIT_IMAGES) % 10
    facts = _plan.DataFacts.of(dataset_from_arrays(x, y, name="probe"))
    skeleton = _plan._skeleton(facts, {})
    shape = skeleton.input_shape
    cost = probe_step_cost(skeleton.probe_networks(), input_shape=shape, num_classes=10)
    (small_flops, small_s), (large_flops, large_s) = cost.points[0], cost.points[-1]

    def line(flops: float) -> float:
        return small_s + (large_s - small_s) * (flops - small_flops) / (large_flops - small_flops)

    images = x.astype("float32") / 255
    rows = []
    for width, large in ((16, True), (24, True), (32, False), (48, False), (32, True)):
        config = skeleton.config(width, large=large, costliest=True)
        flops = analyze_architecture(config, input_shape=shape, num_classes=10).flops
        model = build_model(config, input_shape=shape, num_classes=10, fused_batch_norm=True)
        steps = FIT_IMAGES // skeleton.batch
        compile_for_training(model, config.training, num_classes=10, steps_per_epoch=steps, epochs=3)
        augmentation = build_augmentation(flip="horizontal", translation=0.06, seed=0)
        data = make_pipeline(images, y, batch_size=skeleton.batch, training=True, augmentation=augmentation)
        timer = EpochTimer()
        model.fit(data, epochs=3, verbose=0, callbacks=[timer])
        real = min(timer.seconds[1:]) / FIT_IMAGES
        rows.append(
            {
                "network": f"width {width}, {'widest' if large else 'narrowest'} options",
                "forward_mflops": round(flops / 1e6, 1),
                "real_ms_per_image": round(real * 1e3, 3),
                "probe_ms_per_image": round(cost.seconds_per_image(flops) * 1e3, 3),
                "line_ms_per_image": round(line(flops) * 1e3, 3),
                "real_vs_probe": round(real / cost.seconds_per_image(flops), 2),
                "real_vs_line": round(real / line(flops), 2),
            }
        )
        keras.backend.clear_session()
        print(f"fit {rows[-1]['network']} done", flush=True)
    return rows, [[flops, seconds] for flops, seconds in cost.points]


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    peak = matmul_gflops()
    channels = channel_rows(args, peak)
    options = option_rows(args)
    fits, probed = probe_rows(args)
    results = {
        "benchmark": "throughput",
        "input_shape": [args.size, args.size, 1],
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "matmul_gflops": round(peak, 1),
        "machine": machine_facts(load_before),
        "channels": channels,
        "options": options,
        "probe_points": probed,
        "probe_vs_fit": fits,
    }
    markdown = [
        "# Training throughput",
        "",
        f"{args.size}x{args.size}x1 images, batch {args.batch_size}, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}; 1-min load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after), Keras {keras.__version__}. Practical peak: a float32 "
        f"{MATMUL_SIDE}x{MATMUL_SIDE} matmul in TensorFlow, **{peak:.0f} GFLOP/s**.",
        "",
        "## Channel counts",
        "",
        f"Three blocks of two 3x3 convs with batch norm and max pooling, filters c, 2c, 4c; median of "
        f"{args.rounds} rounds of {STEPS} steps, alternating order. A training step counts as "
        f"{TRAINING_FLOPS_PER_FORWARD}x the forward FLOPs.",
        "",
        "| filters | forward MFLOPs | ms per image | training GFLOP/s | share of peak |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {'/'.join(map(str, row['filters']))} | {row['forward_mflops']} | {row['ms_per_image']:.3f} "
            f"| {row['training_gflops']:.1f} | {row['share_of_peak']:.0%} |"
            for row in channels
        ),
        "",
        "## Options' cost",
        "",
        f"Three blocks of one 3x3 conv (24/48/96 filters) with batch norm, a 64-unit head; median step "
        f"of {args.rounds} rounds of {STEPS} steps, alternating order, against relu without dropout.",
        "",
        "| options | forward MFLOPs | step ms | vs relu |",
        "|---|---:|---:|---:|",
        *(
            f"| {row['options']} | {row['forward_mflops']} | {row['step_ms_median']:.2f} | {row['vs_relu']:.2f} |"
            for row in options
        ),
        "",
        "## The planner's probe against a real fit",
        "",
        "Seconds per image of the faster of the last two of three epochs of `fit` (tf.data pipeline, "
        "flips and 6% shifts) on 6,000 images of networks with swish and dropout 0.2, against the "
        "probe's estimate (four networks, "
        "log-scale interpolation) and a straight line through the narrowest and widest probed networks only.",
        "",
        "| network | forward MFLOPs | real ms/image | probe | line | real / probe | real / line |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {row['network']} | {row['forward_mflops']} | {row['real_ms_per_image']:.3f} "
            f"| {row['probe_ms_per_image']:.3f} | {row['line_ms_per_image']:.3f} "
            f"| {row['real_vs_probe']:.2f} | {row['real_vs_line']:.2f} |"
            for row in fits
        ),
    ]
    write_results("throughput", results, markdown, args.out)


if __name__ == "__main__":
    main()
