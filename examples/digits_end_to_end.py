"""autocnn as a library, end to end on the bundled digits dataset.

Search a small space, read the leaderboard, load the best model, write the report and export a
TFLite file. Runs offline in about a minute on 2 CPU cores:

    python examples/digits_end_to_end.py [--trials 4] [--workdir autocnn_runs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import autocnn

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("autocnn_runs"))
    args = parser.parse_args()

    space = autocnn.load_space("quick")
    study = autocnn.search(
        space, dataset="digits", study="example_digits", workdir=args.workdir, max_trials=args.trials
    )

    board = study.leaderboard()
    print(board[["rank", "trial", "state", "val_accuracy", "params", "architecture"]].to_string(index=False))
    print("best configuration:", study.best_config.to_json())
    assert study.final is not None
    print(f"test accuracy of the retrained best model: {study.final.test_accuracy:.4f}")

    model = study.best_model()
    data = autocnn.load_dataset("digits")
    probabilities = model.predict(data.x_test[:5], verbose=0)
    print("predicted:", probabilities.argmax(axis=1).tolist(), "true:", data.y_test[:5].tolist())

    report = study.report(out=args.workdir / "example_report")
    print("report:", report)
    exported = study.export(format="tflite", out=args.workdir / "example_export" / "model.tflite")
    print(exported.summary())


if __name__ == "__main__":
    main()
