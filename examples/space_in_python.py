"""Define a search space in Python instead of YAML, run it, and look at the trials.

The same dict you would write in YAML goes to ``space_from_dict``; the result is the same
validated, frozen SearchSpace (bad values raise ConfigError naming the entry).

    python examples/space_in_python.py [--trials 3] [--workdir autocnn_runs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import autocnn
from autocnn.space import space_from_dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("autocnn_runs"))
    args = parser.parse_args()

    space = space_from_dict(
        {
            "name": "python_space",
            "model": {
                "blocks": {
                    "count": {"low": 1, "high": 2},
                    "filters": [8, 16, 32],
                    "kernel_size": [3, 5],
                    "activation": ["relu", "swish"],
                    "per_block": {2: {"filters": [32, 64]}},
                },
                "head": {"pooling": "global_avg", "dense_layers": {"low": 0, "high": 1}, "units": [32, 64]},
            },
            "training": {
                "optimizer": ["adam", "adamw"],
                "learning_rate": {"low": 1e-3, "high": 1e-2, "log": True},
                "epochs": 3,
            },
            "search": {"algorithm": "random", "pruner": "none", "seed": 7},
        }
    )
    for name, dimension in space.searched().items():
        print(f"{name:24} {dimension.describe()}")
    study = autocnn.search(
        space, dataset="digits", workdir=args.workdir, max_trials=args.trials, retrain=False
    )
    for record in study.trials():
        print(record.number, record.status, record.val_accuracy, record.config.model.blocks[0].filters)


if __name__ == "__main__":
    main()
