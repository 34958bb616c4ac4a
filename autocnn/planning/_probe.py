"""A short measurement of this machine: how long a training step takes for networks of a few sizes."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autocnn.config import TrialConfig
from autocnn.errors import ConfigError

PROBE_STEPS = 6
PROBE_SECONDS = 3.0  # per network: fewer timed steps where one step is slow, never fewer than two
_FLOPS_RANGE = (1.0, 1e16)


@dataclass(frozen=True)
class StepCost:
    """Seconds one trained image costs on this machine, measured at a few network sizes.

    ``points`` holds (forward FLOPs, seconds per trained image) pairs. Between them the cost is
    interpolated on log scales, since small networks use the cores less well than large ones and
    a straight line through the smallest and the largest underestimates those in between. Below
    the smallest the first segment's trend goes on; above the largest each FLOP costs what it
    cost there.
    """

    points: tuple[tuple[float, float], ...]
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not self.points or any(flops <= 0 or seconds <= 0 for flops, seconds in self.points):
            raise ConfigError(
                "The 'points' parameter must hold (FLOPs, seconds per image) pairs, all positive; "
                f"got {self.points!r} instead."
            )
        ordered = sorted(self.points)
        # a larger network never trains faster: measurement noise must not make the curve fall
        rising = [ordered[0]]
        for flops, seconds in ordered[1:]:
            rising.append((flops, max(seconds, rising[-1][1])))
        object.__setattr__(self, "points", tuple(rising))

    def seconds_per_image(self, flops: float) -> float:
        """Return the training seconds of one image through a network of ``flops`` forward FLOPs."""
        flops = max(flops, _FLOPS_RANGE[0])
        first, last = self.points[0], self.points[-1]
        if flops <= first[0] and len(self.points) > 1:
            return first[1] * math.pow(flops / first[0], min(1.0, _log_slope(first, self.points[1])))
        for low, high in zip(self.points, self.points[1:], strict=False):
            if flops <= high[0]:
                return low[1] * math.pow(flops / low[0], _log_slope(low, high))
        return last[1] * max(1.0, flops / last[0])

    def flops_within(self, seconds_per_image: float) -> float:
        """Return the forward FLOPs a network may have for one image to train in ``seconds_per_image``."""
        low, high = (math.log(bound) for bound in _FLOPS_RANGE)
        if self.seconds_per_image(math.exp(low)) > seconds_per_image:
            return 0.0
        for _ in range(80):
            middle = (low + high) / 2
            if self.seconds_per_image(math.exp(middle)) <= seconds_per_image:
                low = middle
            else:
                high = middle
        return math.exp(low)


def _log_slope(low: tuple[float, float], high: tuple[float, float]) -> float:
    if high[0] <= low[0]:
        return 0.0
    return math.log(high[1] / low[1]) / math.log(high[0] / low[0])


def probe_step_cost(
    configs: Sequence[TrialConfig], *, input_shape: tuple[int, int, int], num_classes: int
) -> StepCost:
    """Time a few training steps of each network in ``configs`` here, smallest to largest (seconds)."""
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
        times: list[float] = []
        while len(times) < PROBE_STEPS and (len(times) < 2 or sum(times) < PROBE_SECONDS):
            started = time.perf_counter()
            model.train_on_batch(images, labels)
            times.append(time.perf_counter() - started)
        flops = analyze_architecture(config, input_shape=input_shape, num_classes=num_classes).flops
        points.append((float(flops), statistics.median(times) / batch))
        del model
        keras.backend.clear_session(free_memory=False)
    return StepCost(points=tuple(points), device=_device())


def _device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else "cpu"
