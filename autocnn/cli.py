"""The ``autocnn`` command: parses options, calls the library, prints, maps errors to exit codes."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from autocnn._console import format_size, space_rows
from autocnn._version import __version__
from autocnn.errors import AutoCNNError, SearchInterrupted

if TYPE_CHECKING:
    from autocnn.study import Study

app = typer.Typer(
    name="autocnn",
    help="Find good convolutional networks for image classification with Keras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
spaces_app = typer.Typer(help="Check and inspect search-space files.", no_args_is_help=True)
app.add_typer(spaces_app, name="spaces")

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


@spaces_app.command("validate")
def spaces_validate(
    files: Annotated[list[Path], typer.Argument(help="Space files (YAML) to check.")],
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
    file: Annotated[Path, typer.Argument(help="Space file (YAML).")],
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
    if space.seeds:
        out.print(
            "seeds: " + ", ".join(seed.name or f"#{index}" for index, seed in enumerate(space.seeds, 1))
        )


@spaces_app.command("schema")
def spaces_schema() -> None:
    """Print the JSON Schema of space files (for editors)."""
    from autocnn.space import space_json_schema

    out.print_json(json.dumps(space_json_schema()))


@app.command("search")
def search_command(
    dataset: Annotated[
        str, typer.Option(help="A registered dataset name (see `autocnn datasets list`) or a path.")
    ] = "digits",
    space: Annotated[
        str | None,
        typer.Option(
            help="Space file or ready-made space name; default: search_spaces/<dataset>.yaml, else quick."
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
        str | None, typer.Option(help="none, median, asha or hyperband (default: the space's).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the sampler, the split and the training (default: the space's)."),
    ] = None,
    no_retrain: Annotated[
        bool, typer.Option("--no-retrain", help="Skip the final retrain of the best configuration.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the final summary.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary and nothing else.")] = False,
) -> None:
    """Search architectures and hyperparameters, retrain the best, print the ranked trials."""
    from autocnn._console import resolve_space_argument
    from autocnn._progress import ConsoleProgress
    from autocnn._quiet import import_tensorflow_quietly
    from autocnn.search import search

    import_tensorflow_quietly()
    signal.signal(signal.SIGTERM, _interrupt)
    callbacks = [] if quiet or as_json else [ConsoleProgress(out)]
    try:
        result = search(
            resolve_space_argument(space, dataset=dataset),
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
            callbacks=callbacks,
            command_line=" ".join(["autocnn", *sys.argv[1:]]),
        )
    except SearchInterrupted as stopped:
        from autocnn.study import Study

        if isinstance(stopped.study, Study) and not as_json:
            _print_summary(stopped.study)
        raise
    if as_json:
        print(json.dumps(result.summary(), default=str))
        return
    _print_summary(result)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_summary(result: Study) -> None:
    from autocnn._console import leaderboard_rows

    frame = result.leaderboard()
    table = Table(title=f"top trials of study {result.name!r}", title_justify="left")
    for column in ("rank", "trial", "state", "val_acc", "params", "epochs", "time", "architecture"):
        table.add_column(column, overflow="fold")
    for row in leaderboard_rows(frame, top=5):
        table.add_row(*row)
    out.print(table)
    summary = result.summary()
    counts = ", ".join(f"{count} {status}" for status, count in sorted(summary["trials"].items()))
    out.print(f"trials: {counts}")
    final = result.final
    if final is not None:
        out.print(f"best model (trial #{final.trial_number}): test accuracy {final.test_accuracy:.4f}")
        out.print(f"  model   {final.model_path}")
        out.print(f"  config  {final.config_path}")
    out.print(f"  study   {result.name} in {summary['storage']}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input, 130 for Ctrl-C)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
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
        err.print(f"error: {error}")
        return error.exit_code
    return 0


def main_exit() -> None:
    """Console-script entry point: run the CLI and exit with its code."""
    sys.exit(main())
