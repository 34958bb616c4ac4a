"""The ``autocnn`` command: parses options, calls the library, prints, maps errors to exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from autocnn._console import format_size, space_rows
from autocnn._version import __version__
from autocnn.errors import AutoCNNError

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
    except AutoCNNError as error:
        if debug:
            raise
        err.print(f"error: {error}")
        return error.exit_code
    return 0


def main_exit() -> None:
    """Console-script entry point: run the CLI and exit with its code."""
    sys.exit(main())
