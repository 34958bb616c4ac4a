"""Training step time: autocnn's fused batch normalisation versus Keras' own layer, and no BN at all.

The same network (by default the Fashion-MNIST headline winner's shape: three conv blocks of 32,
64 and 128 filters, BN, relu/swish, max pooling, dropout, flatten, a dense head) is built three
ways by ``autocnn.model.build_model``: with ``FusedBatchNormalization`` (what autocnn trains
with), with ``keras.layers.BatchNormalization``, and without batch normalisation (the floor).
Each round trains every variant for one epoch of ``--steps`` batches, in alternating order, so
that slow phases of a shared machine hit all of them alike; a variant's step time is the median
step of the round, its first steps (tracing, warm-up) not counted. Ratios compare variants of
the same round only.

    python benchmarks/batch_norm_speed.py                      # 28x28x1, batch 128, 6 rounds
    python benchmarks/batch_norm_speed.py --rounds 2 --steps 8 # smoke size

Writes reports/benchmarks/batch_norm_speed.json and .md (or --out DIR).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autocnn.config import TrialConfig  # noqa: E402
from autocnn.model import build_model  # noqa: E402
from autocnn.training import compile_for_training  # noqa: E402
from benchmarks._common import OUT, machine_facts, write_results  # noqa: E402
from benchmarks._timers import StepTimer  # noqa: E402

WARMUP_STEPS = 3
VARIANTS = ("fused BN (autocnn)", "Keras BN", "no BN")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds; variants alternate order each round")
    parser.add_argument("--steps", type=int, default=40, help="training steps per variant and round")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--size", type=int, default=28, help="image height and width (one channel)")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


def network(variant: str) -> TrialConfig:
    """Return the benchmarked network's configuration, with or without batch normalisation."""
    batch_norm = variant != "no BN"
    blocks = [
        {"filters": 32, "activation": "relu", "pooling": "max", "dropout": 0.2},
        {"filters": 64, "activation": "swish", "pooling": "max", "dropout": 0.2},
        {"filters": 128, "activation": "swish", "pooling": "none", "dropout": 0.1},
    ]
    return TrialConfig.from_dict(
        {
            "model": {
                "blocks": [{**block, "batch_norm": batch_norm, "kernel_size": 3} for block in blocks],
                "head": {"pooling": "flatten", "dense_units": [128], "dropout": 0.3},
            },
            "training": {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 128},
        }
    )


def main() -> None:
    args = parse_args()
    if args.steps <= WARMUP_STEPS:
        raise SystemExit(f"--steps must be more than the {WARMUP_STEPS} warm-up steps; got {args.steps}")
    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    images = rng.random((args.batch_size * args.steps, args.size, args.size, 1), dtype=np.float32)
    labels = rng.integers(0, 10, len(images))
    models = {}
    for variant in VARIANTS:
        config = network(variant)
        model = build_model(
            config,
            input_shape=(args.size, args.size, 1),
            num_classes=10,
            fused_batch_norm=variant == VARIANTS[0],
        )
        compile_for_training(model, config.training, num_classes=10, steps_per_epoch=args.steps, epochs=1)
        models[variant] = model
    steps: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for round_index in range(args.rounds):
        order = VARIANTS if round_index % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            timer = StepTimer(warmup_steps=WARMUP_STEPS)
            models[variant].fit(
                images, labels, batch_size=args.batch_size, epochs=1, callbacks=[timer], verbose=0
            )
            steps[variant].append(statistics.median(timer.seconds) * 1000)
        print(
            f"round {round_index + 1}: " + ", ".join(f"{v} {steps[v][-1]:.1f} ms" for v in VARIANTS),
            flush=True,
        )
    reference = VARIANTS[1]
    rows = []
    for variant in VARIANTS:
        ratios = [mine / theirs for mine, theirs in zip(steps[variant], steps[reference], strict=True)]
        rows.append(
            {
                "variant": variant,
                "step_ms_median": round(statistics.median(steps[variant]), 2),
                "step_ms_per_round": [round(value, 2) for value in steps[variant]],
                "ratio_vs_keras_bn": round(statistics.median(ratios), 3),
            }
        )
    results = {
        "benchmark": "batch_norm_speed",
        "question": "training step time with autocnn's fused batch normalisation vs Keras' own layer",
        "input_shape": [args.size, args.size, 1],
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "warmup_steps": WARMUP_STEPS,
        "network": "C32k3·relu·max2·do0.2 | C64k3·swish·max2·do0.2 | C128k3·swish·do0.1 | flat | D128·do0.3, adam",
        "machine": machine_facts(load_before),
        "note": "Step times move between runs on a shared machine; compare the ratios, measured round by "
        "round in the same process.",
        "results": rows,
    }
    markdown = [
        "# Batch normalisation: step time",
        "",
        f"{args.size}x{args.size}x1 images, batch {args.batch_size}, {args.rounds} rounds of {args.steps} "
        f"steps per variant (first {WARMUP_STEPS} of each not timed), alternating order; "
        f"{os.cpu_count()} CPUs (1-min load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after), Keras {keras.__version__}. Network: {results['network']}.",
        "",
        "| variant | median step (ms) | vs Keras BN (median of per-round ratios) |",
        "|---|---:|---:|",
        *(
            f"| {row['variant']} | {row['step_ms_median']:.1f} | {row['ratio_vs_keras_bn']:.2f} |"
            for row in rows
        ),
        "",
        results["note"],
    ]
    write_results("batch_norm_speed", results, markdown, args.out)


if __name__ == "__main__":
    main()
