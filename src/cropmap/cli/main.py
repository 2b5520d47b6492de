"""The ``cropmap`` command: one entry point, one module per command group.

Each ``cropmap.cli.<group>`` module exposes ``register(app)``, which adds its
commands. Heavy imports (torch, rasterio) happen inside the commands so that
``cropmap --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from cropmap import __version__

#: Command-group modules, in the order their commands appear in ``--help``.
COMMAND_GROUPS = ("simulate", "data", "model", "infer", "results", "experiment")

app = typer.Typer(
    name="cropmap",
    help=(
        "Crop maps from Sentinel-1 SAR time series with a Recurrent U-Net, "
        "and transfer learning from label-rich to label-poor regions.\n\n"
        "Typical run: cropmap simulate -> composite -> rasterize -> patches -> train -> "
        "predict. `cropmap demo` runs the whole transfer study on built-in synthetic data.\n\n"
        "Conventions: every command writes where --out/-o says (the positional OUT of "
        "composite, rasterize and patches is deprecated); band lists are --bands VV,VH; "
        "a bad option value prints one line and exits with status 2."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cropmap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    _state["debug"] = debug


for _name in COMMAND_GROUPS:
    importlib.import_module(f"cropmap.cli.{_name}").register(app)


def main() -> None:
    """Run the CLI; user errors print one line and exit with status 2.

    Usage errors (unknown option, missing argument) are reported by typer itself, also
    with status 2. ``--debug`` shows the full traceback of a cropmap error.
    """
    from cropmap.errors import CropmapError

    try:
        app()
    except CropmapError as exc:
        if _state["debug"]:
            raise
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)


if __name__ == "__main__":
    main()
