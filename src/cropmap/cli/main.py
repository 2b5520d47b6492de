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


def _raw_value(opts: list[str], args: list[str]) -> str:
    """The text given for an option (``--size abc`` or ``--size=abc``), or ``?``."""
    for i, arg in enumerate(args):
        for opt in opts:
            if arg == opt and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(opt + "="):
                return arg[len(opt) + 1 :]
    return "?"


def usage_error_line(exc: Exception) -> str:
    """One line for a typer/click usage error: the option, the value, what is accepted."""
    from typer._click.exceptions import BadParameter, NoSuchOption

    ctx = getattr(exc, "ctx", None)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    if isinstance(exc, BadParameter) and getattr(exc, "param", None) is not None:
        param = exc.param
        opts = getattr(param, "opts", None) or [getattr(param, "name", "?")]
        name = max(opts, key=len) if opts[0].startswith("-") else str(opts[0]).upper()
        if type(exc).__name__ == "MissingParameter":
            return f"{name}: missing{where}"
        message = exc.message
        if "is invalid; accepted" not in message:  # a type error: name the value too
            raw = _raw_value(opts, sys.argv[1:])
            message = f"{raw!r} is invalid; {message[:1].lower()}{message[1:]}".rstrip(".")
        return f"{name}: {message}{where}"
    if isinstance(exc, NoSuchOption):
        return f"{exc.format_message()}{where}"
    fmt = getattr(exc, "format_message", None)
    return f"{fmt() if fmt else exc}{where}"


def main() -> None:
    """Run the CLI; bad input prints one ``error:`` line and exits with status 2.

    Bad input is a cropmap error raised by a command, or a usage error found while the
    command line is parsed (unknown option, missing argument, an option value outside
    what its config accepts). ``--debug`` shows the full traceback of a cropmap error.
    """
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    from cropmap.errors import CropmapError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        typer.secho(f"error: {usage_error_line(exc)}", err=True, fg="red")
        sys.exit(2)
    except CropmapError as exc:
        if _state["debug"]:
            raise
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)
    except typer.Abort:
        typer.secho("aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)  # like typer's own standalone mode


if __name__ == "__main__":
    main()
