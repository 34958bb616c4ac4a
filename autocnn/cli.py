"""The ``autocnn`` command: parses options, calls the library, prints, maps errors to exit codes."""

from __future__ import annotations

import json
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from autocnn._console import Column, fitting_table, format_size, space_rows
from autocnn._files import write_text_atomically
from autocnn._quiet import quiet_library_logs
from autocnn._stop import clear_stop, request_stop
from autocnn._version import __version__
from autocnn.core.write_failures import write_failure
from autocnn.errors import AutoCNNError, SearchError, SearchInterrupted

if TYPE_CHECKING:
    from autocnn.core.callbacks import SearchCallback
    from autocnn.core.study import Study

app = typer.Typer(
    name="autocnn",
    help="Find good convolutional networks for image classification with Keras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
spaces_app = typer.Typer(
    help="List the ready-made search spaces; check and inspect space files.", no_args_is_help=True
)
app.add_typer(spaces_app, name="spaces")
datasets_app = typer.Typer(help="See which datasets autocnn can load.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def _version(value: bool) -> None:
    if value:
        out.print(f"autocnn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """Find good convolutional networks for image classification with Keras."""


@spaces_app.command("list")
def spaces_list() -> None:
    """List the ready-made spaces (use a name with --space, spaces show, or autocnn.load_space)."""
    from autocnn.space import load_space, ready_made_spaces

    table = Table(title="ready-made search spaces", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    for name in ready_made_spaces():
        description = " ".join((load_space(name).description or "").split())
        table.add_row(name, description.split(". ")[0].rstrip(".") + ".")
    out.print(table)
    out.print("A file path given to --space always wins over a name; autocnn spaces show NAME shows one.")


@spaces_app.command("validate")
def spaces_validate(
    files: Annotated[list[str], typer.Argument(help="Space files (YAML) or ready-made names to check.")],
) -> None:
    """Check space files; print one line per file, exit 2 if any is invalid."""
    from autocnn.space import load_space

    failed = 0
    for file in files:
        try:
            space = load_space(file)
        except AutoCNNError as error:
            failed += 1
            err.print(f"error: {error}")
            continue
        out.print(
            f"ok    {file}  ({len(space.searched())} searched entries, "
            f"{format_size(space.size())}, {len(space.seeds)} seeds)"
        )
    if failed:
        raise typer.Exit(2)


@spaces_app.command("show")
def spaces_show(
    file: Annotated[str, typer.Argument(help="Space file (YAML) or ready-made space name.")],
    searched_only: Annotated[
        bool, typer.Option("--searched", help="Only entries that take more than one value.")
    ] = False,
) -> None:
    """Show every entry of a space, its kind and values, and the size of the space."""
    from autocnn.space import load_space

    space = load_space(file)
    table = Table(title=f"search space {space.name!r}", title_justify="left")
    table.add_column("entry")
    table.add_column("kind")
    table.add_column("values")
    for name, kind, values in space_rows(space, searched_only=searched_only):
        table.add_row(name, kind, values)
    out.print(table)
    settings = space.search
    objectives = ", ".join(f"{o.direction} {o.metric}" for o in settings.objective)
    out.print(f"size: {format_size(space.size())}")
    out.print(
        f"search: backend {settings.backend}, algorithm {settings.algorithm}, pruner {settings.pruner}, "
        f"max trials {settings.max_trials}, objective {objectives}"
    )
    if settings.trial_train_fraction < 1 or settings.retrain_epochs is not None:
        retrain = (
            f"{settings.retrain_epochs} epochs" if settings.retrain_epochs else "the best trial's epochs"
        )
        out.print(
            f"fidelity: trials train on {settings.trial_train_fraction:.0%} of the training split; "
            f"the final retrain runs {retrain} on train + validation, in at most "
            f"{settings.retrain_share:.0%} of a time budget"
        )
    if space.seeds:
        out.print(
            "seeds: " + ", ".join(seed.name or f"#{index}" for index, seed in enumerate(space.seeds, 1))
        )


@spaces_app.command("plan")
def spaces_plan(
    dataset: Annotated[
        str, typer.Option(help="A registered dataset name (see `autocnn datasets list`) or a path.")
    ] = "digits",
    timeout: Annotated[
        str | None, typer.Option(help="The budget to plan for: 90s, 30m, 2h (default: chosen from the data).")
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write the space file here instead of printing it.")
    ] = None,
) -> None:
    """Plan a search space for the data and budget on this machine; print it as a space file."""
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.core.plan import parse_timeout
    from autocnn.data import load_dataset
    from autocnn.planning import plan_space

    import_tensorflow_quietly()
    plan = plan_space(load_dataset(dataset), timeout=None if timeout is None else parse_timeout(timeout))
    if out_path is None:
        print(plan.yaml, end="")
        return
    write_text_atomically(out_path, plan.yaml)
    out.print(
        f"{plan.summary}\nwrote {out_path}; run it with: autocnn search --dataset {dataset} --space {out_path}"
    )


@spaces_app.command("schema")
def spaces_schema() -> None:
    """Print the JSON Schema of space files (for editors)."""
    from autocnn.space import space_json_schema

    out.print_json(json.dumps(space_json_schema()))


@datasets_app.command("list")
def datasets_list() -> None:
    """List the registered datasets, their sizes and whether they load offline right now."""
    from autocnn.data import list_datasets

    columns = [
        Column("name"),
        Column("images"),
        Column("train", justify="right", optional=True),
        Column("test", justify="right", optional=True),
        Column("classes", justify="right"),
        Column("offline now"),
        Column("where", stretch=True, optional=True),
    ]
    rows = [
        (
            info.name,
            "x".join(str(size) for size in info.image_shape),
            f"{info.train_size:,}",
            f"{info.test_size:,}",
            str(info.num_classes),
            "yes" if info.available_offline else "no",
            info.where,
        )
        for info in list_datasets()
    ]
    out.print("datasets: --dataset NAME, or a path (.npz, IDX folder, folder of class folders)")
    table = fitting_table(columns, rows, width=out.width)
    out.print(table)


@datasets_app.command("info")
def datasets_info(
    name_or_path: Annotated[str, typer.Argument(help="A registered dataset name or a path.")],
    validation_fraction: Annotated[
        float, typer.Option(help="Share of training data held out for validation.")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the validation split.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a dataset's shapes, classes and class balance per split."""
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.data import dataset_summary, load_dataset

    import_tensorflow_quietly()
    summary = dataset_summary(load_dataset(name_or_path, validation_fraction=validation_fraction, seed=seed))
    if as_json:
        print(json.dumps(summary, default=str))
        return
    out.print(f"dataset {summary['name']} from {summary['source']}")
    out.print(
        f"images {'x'.join(str(size) for size in summary['input_shape'])}, {summary['num_classes']} classes, "
        f"fingerprint {str(summary['fingerprint'])[:12]}"
    )
    table = Table()
    table.add_column("class")
    for split, size in summary["sizes"].items():
        table.add_column(f"{split} ({size:,})", justify="right")
    for index, name in enumerate(summary["class_names"]):
        table.add_row(
            f"{index} {name}", *(str(summary["class_counts"][split][index]) for split in summary["sizes"])
        )
    out.print(table)


@app.command("search")
def search_command(
    dataset: Annotated[
        str, typer.Option(help="A registered dataset name (see `autocnn datasets list`) or a path.")
    ] = "digits",
    space: Annotated[
        str | None,
        typer.Option(
            help="Space file, ready-made name (autocnn spaces list) or auto; default: auto, a space planned "
            "for the data and the budget on this machine (autocnn spaces plan shows it)."
        ),
    ] = None,
    study: Annotated[
        str | None,
        typer.Option(help="Study name; the same name continues the study. Default: <space>_<dataset>."),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Study storage: an SQLAlchemy URL or a .db/.journal file. Default: WORKDIR/studies.db."
        ),
    ] = None,
    workdir: Annotated[Path, typer.Option(help="Where studies, models and the MLflow store live.")] = Path(
        "autocnn_runs"
    ),
    max_trials: Annotated[
        int | None, typer.Option(min=1, help="Trained trials in the whole study (default: the space's).")
    ] = None,
    timeout: Annotated[
        str | None, typer.Option(help="Time budget of this run, final retrain included: 90s, 30m, 2h.")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="optuna or keras-tuner (default: the space's).")] = None,
    algorithm: Annotated[
        str | None,
        typer.Option(
            help="optuna: random, grid, tpe, gp, cmaes, nsga2; keras-tuner: random, bayesian, hyperband."
        ),
    ] = None,
    pruner: Annotated[
        str | None, typer.Option(help="none, median, quartile, asha or hyperband (default: the space's).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the sampler, the split and the training (default: the space's)."),
    ] = None,
    no_retrain: Annotated[
        bool, typer.Option("--no-retrain", help="Skip the final retrain of the best configuration.")
    ] = False,
    no_report: Annotated[
        bool,
        typer.Option("--no-report", help="Do not write the report (WORKDIR/reports/<study>/) at the end."),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes sharing the study on this machine (default 1, or GPUs x --trials-per-gpu). "
            "On a 2-core CPU, 1 is usually fastest.",
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            help="GPUs to use, e.g. 0,1 (default: all visible). Workers are pinned with CUDA_VISIBLE_DEVICES "
            "and memory growth; without GPUs the option is accepted and the workers run on the CPU."
        ),
    ] = None,
    trials_per_gpu: Annotated[
        int, typer.Option(min=1, help="Workers (trials at a time) per GPU, so small CNNs share a big GPU.")
    ] = 1,
    recycle_after: Annotated[
        int | None,
        typer.Option(min=1, help="Restart a worker process after this many trials (bounds memory)."),
    ] = None,
    max_rss_mb: Annotated[
        float | None,
        typer.Option(min=1, help="Restart a worker process when its memory (RSS) passes this many MB."),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="MLflow store: a URI (http://host:5000, sqlite:///f.db) or a .db file. "
            "Default: $MLFLOW_TRACKING_URI, else WORKDIR/mlflow.db.",
        ),
    ] = None,
    no_tracking: Annotated[bool, typer.Option("--no-tracking", help="Record nothing in MLflow.")] = False,
    register: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="Register the retrained best model in the MLflow Model Registry as NAME."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the final summary.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary and nothing else.")] = False,
) -> None:
    """Search architectures and hyperparameters, retrain the best, print the ranked trials."""
    from autocnn._console import resolve_space_argument
    from autocnn._progress import ConsoleProgress
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.core.session import search

    import_tensorflow_quietly()
    _stop_on_signals()
    from autocnn.errors import ConfigError
    from autocnn.tracking import make_tracker

    if register is not None and (no_tracking or no_retrain):
        raise ConfigError(
            "--register needs tracking and the final retrain; drop --no-tracking / --no-retrain"
        )
    tracker = make_tracker(
        workdir=workdir, tracking_uri=tracking_uri, enabled=not no_tracking, register_name=register
    )
    progress: list[SearchCallback] = [] if quiet or as_json else [ConsoleProgress(out)]
    callbacks = [*progress, tracker]
    try:
        result = search(
            resolve_space_argument(space),
            dataset=dataset,
            study=study,
            storage=storage,
            workdir=workdir,
            max_trials=max_trials,
            timeout=timeout,
            backend=backend,
            algorithm=algorithm,
            pruner=pruner,
            seed=seed,
            retrain=not no_retrain,
            workers=workers,
            gpus=None if gpus is None else [gpu.strip() for gpu in gpus.split(",") if gpu.strip()],
            trials_per_gpu=trials_per_gpu,
            recycle_after=recycle_after,
            max_rss_mb=max_rss_mb,
            callbacks=callbacks,
            command_line=" ".join(["autocnn", *sys.argv[1:]]),
        )
    except SearchInterrupted as stopped:
        from autocnn.core.study import Study

        if isinstance(stopped.study, Study) and not as_json:
            _print_summary(stopped.study)
        raise
    report: Path | None = None
    report_failure: SearchError | None = None
    if not no_report:
        try:
            report = _write_search_report(result, storage=storage, analyze_winner=not no_retrain)
        except SearchError as failure:
            report_failure = failure  # the summary still comes first: the search itself is done
    if as_json:
        print(
            json.dumps({**result.summary(), "report": None if report is None else str(report)}, default=str)
        )
    else:
        _print_summary(result)
        if report is not None:
            out.print(f"  report  {report}")
        if tracker.location:
            out.print(f"  MLflow  {tracker.location}  (browse: autocnn ui --workdir {workdir})")
    if report_failure is not None:
        raise report_failure


def _write_search_report(result: Study, *, storage: str | None, analyze_winner: bool) -> Path:
    """Write a finished search's report; a failure says the study is kept and how to write the report again."""
    from autocnn.core.storage import mask_secrets
    from autocnn.reporting import write_report

    try:
        return write_report(result, out=result.report_directory, analyze_winner=analyze_winner)
    except Exception as error:
        again = ["autocnn", "report", "--study", result.name, "--workdir", str(result.workdir)]
        if storage is not None:
            again += ["--storage", mask_secrets(storage)]
        raise SearchError(
            f"the search finished and study {result.name!r} keeps its trials and final model, but its "
            f"report could not be written ({type(error).__name__}: {error}); write it again with: "
            f"{shlex.join(again)}"
        ) from error


@app.command("worker")
def worker_command(
    study: Annotated[str, typer.Option(help="Name of an existing study (made by autocnn search).")],
    storage: Annotated[
        str | None,
        typer.Option(
            help="The study's storage, e.g. postgresql://user@host/db (default: WORKDIR/studies.db)."
        ),
    ] = None,
    workdir: Annotated[
        Path, typer.Option(help="Where this worker keeps models and its MLflow store.")
    ] = Path("autocnn_runs"),
    max_trials: Annotated[int | None, typer.Option(min=1, help="Trained trials in the whole study.")] = None,
    timeout: Annotated[str | None, typer.Option(help="Time budget of this worker: 90s, 30m, 2h.")] = None,
    reserve_retrain: Annotated[
        bool, typer.Option("--reserve-retrain", help="Leave time in the budget for a final retrain.")
    ] = False,
    recycle_after: Annotated[
        int | None, typer.Option(min=1, help="Exit with code 75 after this many trials.")
    ] = None,
    max_rss_mb: Annotated[
        float | None, typer.Option(min=1, help="Exit with code 75 past this memory (MB).")
    ] = None,
    device: Annotated[str, typer.Option(help="Label recorded with each trial, e.g. 'gpu 1'.")] = "",
    run: Annotated[
        str | None,
        typer.Option(
            help="Follow this run of the study (its limits, deadline and tracking), as the workers "
            "`autocnn search --workers` starts do."
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI, else WORKDIR/mlflow.db)."
        ),
    ] = None,
    no_tracking: Annotated[bool, typer.Option("--no-tracking", help="Record nothing in MLflow.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Join an existing study from any machine and run its trials (exit 75: restart me)."""
    from autocnn._progress import ConsoleProgress
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.core.records import LoopEnd
    from autocnn.core.session import run_worker
    from autocnn.core.workers import RECYCLE_EXIT_CODE
    from autocnn.tracking import make_tracker

    import_tensorflow_quietly()
    _stop_on_signals()
    outcome = run_worker(
        study,
        storage=storage,
        workdir=workdir,
        run=run,
        max_trials=max_trials,
        timeout=timeout,
        reserve_retrain=reserve_retrain,
        recycle_after=recycle_after,
        max_rss_mb=max_rss_mb,
        device=device,
        callbacks=[
            *([] if quiet else [ConsoleProgress(out)]),
            make_tracker(
                workdir=workdir, tracking_uri=tracking_uri, enabled=not no_tracking, register_name=None
            ),
        ],
        command_line=" ".join(["autocnn", *sys.argv[1:]]),
    )
    if outcome is LoopEnd.RECYCLE:
        raise typer.Exit(RECYCLE_EXIT_CODE)


@app.command("report")
def report_command(
    study: Annotated[str | None, typer.Option(help="The study to report on.")] = None,
    compare: Annotated[
        list[str] | None, typer.Option(help="Put studies side by side: --compare A --compare B (or A,B).")
    ] = None,
    storage: Annotated[
        str | None, typer.Option(help="The studies' storage (default: WORKDIR/studies.db).")
    ] = None,
    workdir: Annotated[Path, typer.Option(help="The work directory of the studies.")] = Path("autocnn_runs"),
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder to write (default: WORKDIR/reports/<study>, or WORKDIR/reports/A_vs_B)."
        ),
    ] = None,
) -> None:
    """Write the report of a study (index.html, report.md, leaderboard.csv, plots) or compare studies."""
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.core.study import load_study
    from autocnn.reporting import compare_studies, write_report

    names = [name for item in compare or [] for name in item.split(",") if name]
    if (study is None) == (not names):
        raise typer.BadParameter("give --study NAME, or --compare A B", param_hint="--study/--compare")
    import_tensorflow_quietly()
    if names:
        studies = [load_study(name, storage=storage, workdir=workdir) for name in names]
        index = compare_studies(studies, out=out_dir or workdir / "reports" / "_vs_".join(names))
    else:
        assert study is not None
        index = write_report(
            load_study(study, storage=storage, workdir=workdir), out=out_dir or workdir / "reports" / study
        )
    out.print(f"report: {index}")
    out.print(f"        {index.with_name('report.md')}")


@app.command("ui")
def ui_command(
    workdir: Annotated[Path, typer.Option(help="Work directory whose MLflow runs to show.")] = Path(
        "autocnn_runs"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the UI.")] = 5000,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on (0.0.0.0 exposes it to the network, without a password)."),
    ] = "127.0.0.1",
    tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help="Another MLflow store.")] = None,
) -> None:
    """Serve the MLflow UI on the work directory's runs until Ctrl-C."""
    from autocnn.tracking import ui_command as serve

    raise typer.Exit(serve(workdir=workdir, port=port, host=host, tracking_uri=tracking_uri))


@app.command("dashboard")
def dashboard_command(
    study: Annotated[str | None, typer.Option(help="Link to this study only (default: every study).")] = None,
    storage: Annotated[
        str | None, typer.Option(help="The studies' storage (default: WORKDIR/studies.db).")
    ] = None,
    workdir: Annotated[Path, typer.Option(help="Work directory whose studies to show.")] = Path(
        "autocnn_runs"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the dashboard.")] = 8080,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on (0.0.0.0 exposes it to the network, without a password)."),
    ] = "127.0.0.1",
) -> None:
    """Serve optuna-dashboard on the work directory's studies until Ctrl-C."""
    from autocnn.dashboard import dashboard_command as serve

    raise typer.Exit(serve(study=study, storage=storage, workdir=workdir, port=port, host=host))


@app.command("export")
def export_command(
    study: Annotated[str, typer.Option(help="The study whose model to export.")],
    format: Annotated[str, typer.Option("--format", help="keras, savedmodel, tflite or onnx.")],
    out_path: Annotated[Path, typer.Option("--out", help="File (or folder for savedmodel) to write.")],
    trial: Annotated[
        int | None,
        typer.Option(help="Export this trial instead of the retrained best (retrained on train+val)."),
    ] = None,
    quantize: Annotated[
        str, typer.Option(help="none, or int8 (TFLite, calibrated on training images).")
    ] = "none",
    storage: Annotated[
        str | None, typer.Option(help="The study's storage (default: WORKDIR/studies.db).")
    ] = None,
    workdir: Annotated[Path, typer.Option(help="The work directory of the study.")] = Path("autocnn_runs"),
    dataset: Annotated[
        str | None,
        typer.Option(
            help="The study's data, if it moved since the search (default: where the study recorded it)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Export a study's model, verify it with its own runtime, and write a model card beside it."""
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.core.study import load_study
    from autocnn.export import EXPORT_FORMATS, QUANTIZE_MODES, export_study

    if format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    if quantize not in QUANTIZE_MODES:
        raise typer.BadParameter(f"use one of {', '.join(QUANTIZE_MODES)}", param_hint="--quantize")
    import_tensorflow_quietly()
    result = export_study(
        load_study(study, storage=storage, workdir=workdir),
        format=format,  # type: ignore[arg-type]
        out=out_path,
        trial=trial,
        quantize=quantize,  # type: ignore[arg-type]
        dataset=dataset,
        log=None if as_json else out.print,
    )
    if as_json:
        print(json.dumps(result.to_dict(), default=str))
    else:
        out.print(result.summary())


@app.command("predict")
def predict_command(
    model: Annotated[Path, typer.Option(help="A .keras model (e.g. WORKDIR/STUDY/best_model.keras).")],
    images: Annotated[list[Path], typer.Argument(help="PNG or JPEG files.")],
    top: Annotated[int, typer.Option(min=1, help="How many classes to show per image.")] = 3,
    resize: Annotated[
        bool, typer.Option("--resize", help="Resize images to the model's input size.")
    ] = False,
    unsafe: Annotated[
        bool,
        typer.Option(
            "--unsafe", help="Allow models with arbitrary code (Lambda layers). Only for trusted files."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the top classes for image files, with the preprocessing used in training."""
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.export import class_names_for, load_model_safely, predict_images

    import_tensorflow_quietly()
    loaded = load_model_safely(model, unsafe=unsafe)
    names = class_names_for(model, model=loaded)
    if names is None and not as_json:
        err.print(f"note: no model card next to {model} describes this model; classes are shown as indices")
    predictions = predict_images(loaded, images, class_names=names, top=top, resize=resize)
    if as_json:
        print(json.dumps([prediction.to_dict() for prediction in predictions], default=str))
        return
    for prediction in predictions:
        out.print(prediction.summary())


def _interrupt(signum: int, frame: object) -> None:
    # remembered too: raised inside a finalizer (garbage collection), the exception would be lost
    request_stop()
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Make Ctrl-C and SIGTERM stop a search cleanly, even if the parent process ignored SIGINT."""
    clear_stop()
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def _print_summary(result: Study) -> None:
    from autocnn._console import BALANCED_NOTE, leaderboard_rows, score_label

    frame = result.leaderboard()
    balanced = result.balanced_validation
    columns = [
        Column("rank"),
        Column("trial", justify="right"),
        Column("state"),
        Column(score_label(balanced=balanced)),
        Column("params", justify="right", optional=True),
        Column("epochs", justify="right", optional=True),
        Column("time", justify="right", optional=True),
        Column("architecture", stretch=True),
    ]
    table = fitting_table(
        columns, leaderboard_rows(frame, top=5), width=out.width, title=f"top trials of study {result.name!r}"
    )
    out.print(table)
    if balanced:
        out.print(BALANCED_NOTE)
    summary = result.summary()
    counts = ", ".join(f"{count} {status}" for status, count in sorted(summary["trials"].items()))
    out.print(f"trials: {counts}")
    final = result.final
    if final is not None:
        out.print(f"best model (trial #{final.trial_number}): test accuracy {final.test_accuracy:.4f}")
        held_back = (
            ""
            if final.guard_accuracy is None
            else f" (held-back {'balanced ' if balanced else ''}accuracy {final.guard_accuracy:.4f})"
        )
        out.print(f"  kept    {final.kept.description}{held_back}")
        if final.kept_reason:
            out.print(f"  why     {final.kept_reason}")
        if final.test_time_views is not None and final.test_time_views.kept:
            views = final.test_time_views.views
            out.print(f"  views   averages {views.count} views of each image ({views.description})")
        out.print(f"  model   {final.model_path}")
        out.print(f"  config  {final.config_path}")
    out.print(f"  study   {result.name} in {summary['storage']}")


#: The flag that sets each Python parameter a library error may name in backticks.
PARAMETER_FLAGS = {
    "backend": "--backend",
    "dataset": "--dataset",
    "gpus": "--gpus",
    "max_consecutive_failures": "search.max_consecutive_failures (in the space file)",
    "max_rss_mb": "--max-rss-mb",
    "max_trials": "--max-trials",
    "port": "--port",
    "quantize": "--quantize",
    "recycle_after": "--recycle-after",
    "register_name": "--register",
    "resize": "--resize",
    "run": "--run",
    "storage": "--storage",
    "study": "--study",
    "timeout": "--timeout",
    "tracking_uri": "--tracking-uri",
    "trial": "--trial",
    "trials_per_gpu": "--trials-per-gpu",
    "unsafe": "--unsafe",
    "workdir": "--workdir",
    "workers": "--workers",
}


def as_flags(message: str) -> str:
    """Return a library error message with the Python parameters it names shown as the CLI's flags."""
    return re.sub(r"`(\w+)`", lambda match: PARAMETER_FLAGS.get(match[1], match[1]), message)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input, 130 for Ctrl-C)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if not debug:
        quiet_library_logs()
    try:
        app(args=args, prog_name="autocnn")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except SearchInterrupted as stopped:
        err.print(str(stopped))
        return stopped.exit_code
    except AutoCNNError as error:
        if debug:
            raise
        err.print(f"error: {as_flags(str(error))}")
        return error.exit_code
    except OSError as error:
        failure = write_failure(error)
        if failure is None or debug:
            raise
        err.print(f"error: {as_flags(str(failure))}")
        return failure.exit_code
    finally:
        clear_stop()  # a stop asked of this command must not stop what the calling program runs next
    return 0


def main_exit() -> None:
    """Console-script entry point: run the CLI and exit with its code."""
    sys.exit(main())
