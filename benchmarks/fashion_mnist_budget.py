"""autocnn vs the peers a user would otherwise pick, on Fashion-MNIST, with the same time budget.

Contenders, one after another in this process, all on the same data split (autocnn's stratified,
seeded validation split; the test split only for the final numbers):

- autocnn: `autocnn search --dataset fashion_mnist --timeout BUDGET` (search + final retrain);
- Keras Tuner Hyperband with a search space written the way its documentation shows;
- Optuna used directly with a plain objective function (a small CNN, pruning on epochs);
- AutoKeras' ImageClassifier (its default search), with the one-line patch it needs beside Keras 3.15;
- the two hand-made networks of the ready-made space seed_cnns, trained alone (no search).

Writes reports/benchmarks/fashion_mnist_<budget>.{json,md,png}: best test accuracy, the time
to reach 90% validation accuracy and the best-so-far curves. Timings vary on shared machines:
compare the contenders of one run.

    python benchmarks/fashion_mnist_budget.py --budget 60m              # the headline
    python benchmarks/fashion_mnist_budget.py --budget 1m --subset 0.05  # a smoke run
    python benchmarks/fashion_mnist_budget.py --budget 60m --only optuna  # one contender, merged in
    python benchmarks/fashion_mnist_budget.py --budget 60m --render       # table and plot again
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, best_so_far, plot_curves, run_contender, study_curve, write_results

if TYPE_CHECKING:
    from autocnn.space import SearchSpace

CONTENDERS = ("autocnn_planned", "autocnn", "keras_tuner", "optuna", "autokeras", "hand_made")
SPACE = "fashion_mnist"


class _Deadline:
    """A Keras callback factory that stops a peer's search at the budget."""

    def __init__(self, deadline: float, on_late: Callable[[], Exception]) -> None:
        import keras

        outer = self

        class Stop(keras.callbacks.Callback):  # type: ignore[misc]
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                if time.monotonic() > outer.deadline:
                    self.model.stop_training = True
                    raise on_late()

        self.deadline = deadline
        self.callback = Stop()


def run_autocnn_planned(data: Any, budget_s: float, workdir: str) -> dict[str, Any]:
    """autocnn on the space its planner makes for the data, the budget and this machine (no hand tuning)."""
    return run_autocnn(data, budget_s, workdir, space="auto")


def run_autocnn(
    data: Any, budget_s: float, workdir: str, *, space: str | SearchSpace = SPACE
) -> dict[str, Any]:
    """autocnn on ``space`` (a ready-made name, ``auto`` or a space) with the budget, search and retrain."""
    from autocnn.core.session import search

    study = search(
        space,
        dataset=data,
        workdir=workdir,
        max_trials=None if space == "auto" else 100_000,  # the planner plans for the budget alone
        timeout=budget_s,
        study="benchmark",
    )
    final = study.final
    outcome: dict[str, Any] = {
        "curve": study_curve(study),
        "trials": len(study.trials()),
        "test_accuracy": None if final is None else final.test_accuracy,
        "trial_train_fraction": study.info.trial_train_fraction,
    }
    if final is not None:
        from autocnn.model import describe_config

        outcome["winner"] = {
            "trial": final.trial_number,
            "architecture": describe_config(final.config),
            "retrain_epochs": final.epochs,
            "retrain_s": round(final.train_seconds, 1),
            "augmentation": final.config.training.augmentation.model_dump(),
            "class_weight": final.config.training.class_weight,
            "kept": final.kept.value,
            "kept_reason": final.kept_reason,
            "guard_accuracy": final.guard_accuracy,
        }
    from autocnn.core.augmentation_check import read_check

    check = read_check(study.optuna_study)
    if check is not None:
        outcome["augmentation_check"] = check.to_dict()
    return outcome


def run_keras_tuner(data: Any, budget_s: float, workdir: str) -> dict[str, Any]:
    import keras
    import keras_tuner

    def build_model(hp: Any) -> keras.Model:  # the style of Keras Tuner's getting-started guide
        model = keras.Sequential([keras.Input(data.input_shape)])
        for index in range(hp.Int("conv_layers", 1, 3)):
            model.add(
                keras.layers.Conv2D(
                    hp.Int(f"filters_{index}", 32, 128, step=32), 3, padding="same", activation="relu"
                )
            )
            model.add(keras.layers.MaxPooling2D(2))
        model.add(keras.layers.Flatten())
        model.add(keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"))
        if hp.Boolean("dropout"):
            model.add(keras.layers.Dropout(0.25))
        model.add(keras.layers.Dense(data.num_classes, activation="softmax"))
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    started = time.monotonic()
    stop = _Deadline(started + budget_s, lambda: keras_tuner.errors.FatalError("time budget reached"))
    curve: list[tuple[float, float]] = []

    class Record(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            curve.append((time.monotonic() - started, float((logs or {}).get("val_accuracy", 0.0))))

    tuner = keras_tuner.Hyperband(
        build_model,
        objective="val_accuracy",
        max_epochs=10,
        factor=3,
        seed=0,
        directory=workdir,
        project_name="kt",
        overwrite=True,
    )
    try:
        tuner.search(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            callbacks=[stop.callback, Record()],
            verbose=0,
        )
    except keras_tuner.errors.FatalError:
        pass
    except RuntimeError as error:  # Keras Tuner wraps a fatal error after failed trials
        if "budget" not in str(error) and "consecutive" not in str(error):
            raise
    best = tuner.get_best_models(1)
    test = best[0].evaluate(data.x_test, data.y_test, verbose=0)[1] if best else None
    return {"curve": curve, "trials": len(tuner.oracle.trials), "test_accuracy": test}


def run_optuna(data: Any, budget_s: float, workdir: str) -> dict[str, Any]:
    import keras
    import optuna

    started = time.monotonic()
    curve: list[tuple[float, float]] = []
    best: dict[str, Any] = {"value": -1.0, "model": None}

    def objective(trial: optuna.Trial) -> float:
        keras.backend.clear_session()
        model = keras.Sequential([keras.Input(data.input_shape)])
        for index in range(trial.suggest_int("conv_layers", 1, 3)):
            model.add(
                keras.layers.Conv2D(
                    trial.suggest_categorical(f"filters_{index}", [32, 64, 128]),
                    3,
                    padding="same",
                    activation="relu",
                )
            )
            model.add(keras.layers.MaxPooling2D(2))
        model.add(keras.layers.Flatten())
        model.add(keras.layers.Dense(trial.suggest_categorical("units", [64, 128, 256]), activation="relu"))
        model.add(keras.layers.Dropout(trial.suggest_float("dropout", 0.0, 0.5)))
        model.add(keras.layers.Dense(data.num_classes, activation="softmax"))
        model.compile(
            optimizer=keras.optimizers.Adam(trial.suggest_float("lr", 1e-4, 1e-2, log=True)),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        value = 0.0
        for epoch in range(8):
            if time.monotonic() - started > budget_s:
                raise optuna.TrialPruned()
            history = model.fit(
                data.x_train,
                data.y_train,
                batch_size=128,
                epochs=1,
                verbose=0,
                validation_data=(data.x_val, data.y_val),
            )
            value = float(history.history["val_accuracy"][-1])
            curve.append((time.monotonic() - started, value))
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        if value > best["value"]:
            best.update(value=value, model=model)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=0), pruner=optuna.pruners.MedianPruner()
    )
    study.optimize(objective, timeout=budget_s)
    model = best["model"]
    test = model.evaluate(data.x_test, data.y_test, verbose=0)[1] if model is not None else None
    return {"curve": curve, "trials": len(study.trials), "test_accuracy": test}


def run_autokeras(data: Any, budget_s: float, workdir: str) -> dict[str, Any]:
    """AutoKeras' ImageClassifier (its default greedy search), stopped at the budget like Keras Tuner."""
    try:
        import autokeras
    except Exception as error:  # not installed, or fails to import beside this Keras
        return {"skipped": f"AutoKeras does not import here ({type(error).__name__}: {error})"}
    import keras
    import keras_tuner
    import numpy as np

    _patch_autokeras_dense_units()
    started = time.monotonic()
    stop = _Deadline(started + budget_s, lambda: keras_tuner.errors.FatalError("time budget reached"))
    classifier = autokeras.ImageClassifier(
        max_trials=1000, directory=workdir, project_name="autokeras", overwrite=True, seed=0
    )
    try:
        classifier.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            epochs=AUTOKERAS_EPOCHS,
            callbacks=[stop.callback],
            verbose=0,
        )
    except keras_tuner.errors.FatalError:
        pass
    except RuntimeError as error:  # Keras Tuner wraps a fatal error after failed trials
        if "budget" not in str(error) and "consecutive" not in str(error):
            raise
    completed = [t for t in classifier.tuner.oracle.trials.values() if t.status == "COMPLETED"]
    if not completed:  # its first trial ran past the budget
        return {
            "curve": [],
            "trials": len(classifier.tuner.oracle.trials),
            "test_accuracy": None,
            "note": AUTOKERAS_PATCH + " No trial finished within the budget.",
        }
    model = classifier.tuner.get_best_models(1)[0]
    predicted = np.argmax(model.predict(data.x_test, verbose=0), axis=-1)
    keras.backend.clear_session()
    return {
        "curve": [],
        "trials": len(classifier.tuner.oracle.trials),
        "test_accuracy": float(np.mean(predicted == data.y_test)),
        "note": AUTOKERAS_PATCH,
    }


# as Keras Tuner's max_epochs here; with AutoKeras' default of 1000 (early stopping) no trial ends in time
AUTOKERAS_EPOCHS = 10
AUTOKERAS_PATCH = (
    "AutoKeras 3.0.0 passes a numpy integer as Dense's units, which Keras 3.15 refuses "
    "('invalid value for units'); the harness casts it to int, as a user would have to."
)


def _patch_autokeras_dense_units() -> None:
    """Make AutoKeras' classification head pass a Python int to Dense (see AUTOKERAS_PATCH)."""
    import types

    import keras
    from autokeras.blocks import heads

    class IntUnitsDense(keras.layers.Dense):  # type: ignore[misc]
        def __init__(self, units: Any, *args: Any, **kwargs: Any) -> None:
            super().__init__(int(units), *args, **kwargs)

    heads.layers = types.SimpleNamespace(**{**vars(keras.layers), "Dense": IntUnitsDense})


def run_hand_made(data: Any, budget_s: float, workdir: str) -> dict[str, Any]:
    from autocnn.space import load_space
    from autocnn.training import evaluate_model, fit_config

    started = time.monotonic()
    results = {}
    for seed in load_space("seed_cnns").seeds:
        fitted = fit_config(seed, data, final=True, deadline=started + budget_s)
        results[seed.name] = evaluate_model(fitted.model, data.x_test, data.y_test)["accuracy"]
    best = max(results.values())
    return {"curve": [], "trials": len(results), "test_accuracy": best, "networks": results}


def _fidelity_note(autocnn: dict[str, Any]) -> str:
    """Explain why autocnn's validation column reads lower than its test accuracy."""
    from autocnn.space import load_space

    fraction = autocnn.get("trial_train_fraction")
    if fraction is None:  # recorded before entries carried it
        fraction = load_space(SPACE).search.trial_train_fraction
    winner = autocnn.get("winner", {})
    retrain = f" for {winner['retrain_epochs']} epochs" if "retrain_epochs" in winner else ""
    return (
        f"autocnn's trials train on {fraction:.0%} of the training split (its cheap "
        "fidelity), so its validation accuracies and time to 90% are not comparable with the peers' "
        "full-data trials; its test accuracy is that of the winner retrained on train + validation"
        f"{retrain}, within the same budget."
    )


def _earlier_run(path: Path, *, subset: float) -> dict[str, Any]:
    """Return an earlier run's JSON with the same budget and data (empty if none), so runs can be split up."""
    import json

    if not path.exists():
        return {}
    earlier: dict[str, Any] = json.loads(path.read_text())
    return earlier if earlier.get("subset") == subset else {}


def run_contenders(
    names: list[str], *, dataset: str, subset: float, budget: str
) -> dict[str, dict[str, Any]]:
    """Run each named contender on the same split with ``budget``; return their outcomes by name."""
    from autocnn.core.plan import parse_timeout
    from autocnn.data import load_dataset

    budget_s = parse_timeout(budget)
    data = load_dataset(dataset, validation_fraction=0.1, seed=0)
    if subset < 1:
        data = data.subset(subset, seed=0)
    runners = {
        "autocnn_planned": run_autocnn_planned,
        "autocnn": run_autocnn,
        "keras_tuner": run_keras_tuner,
        "optuna": run_optuna,
        "autokeras": run_autokeras,
        "hand_made": run_hand_made,
    }
    outcomes = {}
    for name in names:
        outcome = run_contender(runners[name], data, budget_s)
        curve = outcome.pop("curve", [])
        reach = [seconds for seconds, value in best_so_far(curve) if value >= 0.90]
        outcome["time_to_90_s"] = round(reach[0], 1) if reach else None
        outcome["best_val_accuracy"] = (
            round(max((v for _, v in curve), default=float("nan")), 4) if curve else None
        )
        outcome["curve"] = [(round(s, 1), round(v, 4)) for s, v in best_so_far(curve)]
        outcome["command"] = " ".join(["python", *sys.argv])
        outcomes[name] = outcome
    return outcomes


def write_outcomes(
    results: dict[str, dict[str, Any]],
    *,
    dataset: str,
    subset: float,
    budget: str,
    out: Path,
    info: dict[str, str],
    json_too: bool,
) -> None:
    """Write the Markdown table and the plot of the contenders' outcomes, and the JSON if ``json_too``."""
    tag = budget.replace(" ", "")
    results = {name: results[name] for name in CONTENDERS if name in results}
    plot_curves(
        {name: r["curve"] for name, r in results.items() if r.get("curve")},
        path=out / f"{dataset}_{tag}.png",
        title=f"{dataset}, {budget} per contender",
        ylabel="accuracy (lines: best validation so far)",
        finals={
            name: (r["wall_s"], r["test_accuracy"])
            for name, r in results.items()
            if r.get("test_accuracy") is not None
        },
    )
    table = [
        "| contender | test accuracy | best val accuracy | time to 90% val (s) | trials | wall (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "skipped" in r:
            table.append(f"| {name} | skipped: {r['skipped']} | | | | |")
            continue
        test = "-" if r.get("test_accuracy") is None else f"{r['test_accuracy']:.4f}"
        table.append(
            f"| {name} | {test} | {r['best_val_accuracy'] or '-'} | {r['time_to_90_s'] or '-'} | "
            f"{r['trials']} | {r['wall_s']} |"
        )
    notes = [_fidelity_note(results["autocnn"]), ""] if "autocnn" in results else []
    notes += [f"{r['note']}", ""] if (r := results.get("autokeras", {})).get("note") else []
    write_results(
        f"{dataset}_{tag}",
        {
            "budget": budget,
            "subset": subset,
            "hardware": info,
            "test_accuracy": results.get("autocnn", {}).get("test_accuracy"),
            "results": results,
        },
        [
            f"# {dataset}: autocnn vs peers, {budget} each"
            + (f" (smoke run on {subset:.0%} of the training data)" if subset < 1 else ""),
            "",
            f"{info['cpus']} CPUs ({info['cpu_model']}), GPUs: {info['gpus']}; contenders ran one after another "
            "on the same split (a contender run later with `--only` is merged in; its date and command are "
            "in the JSON). Timings vary on shared machines: compare within one run.",
            "",
            *table,
            "",
            *notes,
            f"![best so far]({dataset}_{tag}.png)",
        ],
        out=out,
        json_too=json_too,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", default="60m", help="per contender: 60m for the headline, 1m for a smoke run"
    )
    parser.add_argument(
        "--subset", type=float, default=1.0, help="fraction of the training data (smoke runs)"
    )
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument(
        "--render", action="store_true", help="run nothing: write the table and plot again from the JSON"
    )
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    path = args.out / f"{args.dataset}_{args.budget.replace(' ', '')}.json"
    earlier = _earlier_run(path, subset=args.subset)
    results: dict[str, dict[str, Any]] = dict(earlier.get("results", {}))
    if args.render and not results:
        sys.exit(f"--render: no results with --subset {args.subset} in {path}; run the contenders first")
    from autocnn._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from autocnn._system import hardware

    if not args.render:
        results.update(
            run_contenders(args.only, dataset=args.dataset, subset=args.subset, budget=args.budget)
        )
    write_outcomes(
        results,
        dataset=args.dataset,
        subset=args.subset,
        budget=args.budget,
        out=args.out,
        info=earlier["hardware"] if args.render and "hardware" in earlier else hardware(),
        json_too=not args.render,
    )


if __name__ == "__main__":
    main()
