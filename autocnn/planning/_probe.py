"""A short measurement of this machine: how long a training step takes for networks of a few sizes."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from autocnn.config import TrialConfig

PROBE_STEPS = 6


@dataclass(frozen=True)
class StepCost:
    """Seconds one trained image costs on this machine: ``fixed_s`` plus ``per_flop_s`` per forward FLOP."""

    fixed_s: float
    per_flop_s: float
    device: str = "cpu"

    def seconds_per_image(self, flops: float) -> float:
        """Return the training seconds of one image through a network of ``flops`` forward FLOPs."""
        return self.fixed_s + self.per_flop_s * flops

    def flops_within(self, seconds_per_image: float) -> float:
        """Return the forward FLOPs a network may have for one image to train in ``seconds_per_image``."""
        return max(0.0, (seconds_per_image - self.fixed_s) / self.per_flop_s)


def probe_step_cost(
    configs: tuple[TrialConfig, TrialConfig], *, input_shape: tuple[int, int, int], num_classes: int
) -> StepCost:
    """Time a few training steps of a small and a large network here (seconds), and fit a line through them."""
    import keras

    from autocnn.model import analyze_architecture, build_model
    from autocnn.training import compile_for_training

    points: list[tuple[float, float]] = []
    rng = np.random.default_rng(0)
    for config in configs:
        batch = config.training.batch_size
        images = rng.random((batch, *input_shape), dtype=np.float32)
        labels = rng.integers(0, num_classes, size=batch)
        model = build_model(config, input_shape=input_shape, num_classes=num_classes, fused_batch_norm=True)
        compile_for_training(model, config.training, num_classes=num_classes, steps_per_epoch=10, epochs=1)
        model.train_on_batch(images, labels)  # traces the step
        times = []
        for _ in range(PROBE_STEPS):
            started = time.perf_counter()
            model.train_on_batch(images, labels)
            times.append(time.perf_counter() - started)
        flops = analyze_architecture(config, input_shape=input_shape, num_classes=num_classes).flops
        points.append((float(flops), statistics.median(times) / batch))
        del model
        keras.backend.clear_session(free_memory=False)
    (small_flops, small_s), (large_flops, large_s) = sorted(points)
    per_flop = max((large_s - small_s) / max(large_flops - small_flops, 1.0), 1e-15)
    fixed = max(small_s - per_flop * small_flops, 0.0)
    return StepCost(fixed_s=fixed, per_flop_s=per_flop, device=_device())


def _device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else "cpu"
