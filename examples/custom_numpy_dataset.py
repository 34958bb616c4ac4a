"""Plug your own images (numpy arrays) into autocnn.

Any (N, H, W) or (N, H, W, C) array of uint8 0..255 or floats 0..1 with integer labels works.
Here: 2,000 synthetic 12x12 images of three shapes (bar, cross, ring), made with numpy.

    python examples/custom_numpy_dataset.py [--trials 3] [--workdir autocnn_runs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autocnn

SPACE = """
name: shapes
model:
  blocks: {count: {low: 1, high: 2}, filters: [8, 16], kernel_size: 3, batch_norm: [true, false]}
  head: {pooling: [flatten, global_avg], dense_layers: 0}
training: {learning_rate: {low: 1e-3, high: 1e-2, log: true}, batch_size: 64, epochs: 3}
search: {algorithm: tpe, pruner: median}
"""


def make_shapes(count: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return noisy 12x12 images of bars (0), crosses (1) and rings (2)."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 0.3, size=(count, 12, 12)).astype("float32")
    labels = rng.integers(0, 3, size=count)
    grid_y, grid_x = np.mgrid[0:12, 0:12]
    for image, label in zip(images, labels, strict=True):
        cy, cx = rng.integers(4, 8, size=2)
        if label == 0:
            image[cy - 1 : cy + 1, 1:11] = 1.0
        elif label == 1:
            image[cy, 2:10] = 1.0
            image[2:10, cx] = 1.0
        else:
            ring = np.abs(np.hypot(grid_y - cy, grid_x - cx) - 3.0) < 0.8
            image[ring] = 1.0
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("autocnn_runs"))
    args = parser.parse_args()

    x, y = make_shapes(2000, seed=0)
    data = autocnn.dataset_from_arrays(x, y, name="shapes", class_names=["bar", "cross", "ring"])
    print(f"{data.name}: train {len(data.x_train)}, validation {len(data.x_val)}, test {len(data.x_test)}")

    from autocnn.space import parse_space

    study = autocnn.search(parse_space(SPACE), dataset=data, workdir=args.workdir, max_trials=args.trials)
    assert study.final is not None
    print(f"best trial #{study.best_trial.number}: test accuracy {study.final.test_accuracy:.4f}")


if __name__ == "__main__":
    main()
