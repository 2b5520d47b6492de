"""What every CLI command shares: the output convention, band lists, deprecations, errors.

Conventions (docs/data.md, ``cropmap --help``):

- every command writes where ``--out/-o`` says; the positional OUT of ``composite``,
  ``rasterize`` and ``patches`` still works for one release and prints a deprecation line;
- band lists are ``--bands VV,VH`` everywhere (``|`` also separates; case does not
  matter); ``--features`` is a hidden, deprecated alias;
- an invalid option value raises :class:`cropmap.errors.OptionError`, printed by
  ``cropmap.cli.main`` as one line naming the option, the value and what is accepted,
  with exit status 2.

Nothing heavy is imported here: ``cropmap --help`` must stay fast.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import typer

from cropmap.errors import OptionError

#: Polarisation names a band list may hold (Sentinel-1 dual-pol VV+VH or HH+HV).
POLARISATIONS = ("VV", "VH", "HH", "HV")

OUT_HELP = "Output path (every command writes where --out says)."


def warn(message: str) -> None:
    """Print one ``warning:`` line on stderr (yellow on a terminal)."""
    typer.secho(f"warning: {message}", err=True, fg="yellow")


def deprecated(old: str, new: str) -> None:
    """Say once, on one line, that ``old`` still works but ``new`` replaces it."""
    warn(f"{old} is deprecated and will be removed in the next release; use {new}")


def out_option(help: str = OUT_HELP) -> Path | None:  # noqa: A002 - typer's name
    """The ``--out/-o`` option of a command whose OUT was once positional (default None)."""
    return typer.Option(None, "--out", "-o", help=help, show_default=False)


def legacy_out_argument() -> Path | None:
    """The deprecated positional OUT, hidden from ``--help`` (default None)."""
    return typer.Argument(None, hidden=True, metavar="[OUT]", show_default=False)


def resolve_out(out: Path | None, legacy: Path | None, command: str) -> Path:
    """The output path from ``--out`` or, with a deprecation line, the positional OUT.

    Raises:
        OptionError: neither or two different paths were given.
    """
    if legacy is not None:
        if out is not None and Path(out) != Path(legacy):
            raise OptionError(
                f"--out: {out} and positional OUT {legacy} disagree; give the output once, "
                "as --out PATH"
            )
        deprecated(f"the positional OUT of `cropmap {command}` ({legacy})", f"--out {legacy}")
        return Path(legacy)
    if out is None:
        raise OptionError(f"--out: missing; `cropmap {command}` needs --out PATH (or -o PATH)")
    return Path(out)


def parse_list(text: str | None, option: str, *, unique: bool = True) -> list[str] | None:
    """Split ``"a, b,c"`` (or ``a|b|c``) into ``["a", "b", "c"]``; None or blank gives None.

    Raises:
        OptionError: an item repeats (with ``unique``).
    """
    if text is None or not text.strip():
        return None
    items = [t.strip() for t in text.replace("|", ",").split(",") if t.strip()]
    dup = sorted({t for t in items if items.count(t) > 1}) if unique else []
    if dup:
        raise OptionError(f"{option}: {text!r} names {', '.join(dup)} twice; give each once")
    return items


def parse_bands(
    text: str | None, option: str = "--bands", *, allowed: tuple[str, ...] = POLARISATIONS
) -> list[str] | None:
    """The one band-list parser: ``"vv|VH"`` -> ``["VV", "VH"]``; None or blank -> None.

    Args:
        text: comma- (or ``|``-) separated band names, any case.
        option: the option's name, for the error message.
        allowed: the accepted names (empty: any name).

    Raises:
        OptionError: an unknown or repeated band.
    """
    items = parse_list(None if text is None else text.upper(), option)
    if items is None:
        return None
    bad = [b for b in items if allowed and b not in allowed]
    if bad:
        raise OptionError(
            f"{option}: {text!r} has unknown band {bad[0]}; accepted: {', '.join(allowed)} "
            "(comma-separated, e.g. VV,VH)"
        )
    return items


def pick_bands(bands: str | None, features: str | None) -> str | None:
    """``--bands``, or the deprecated ``--features`` (with a deprecation line)."""
    if features is not None:
        if bands is not None and bands != features:
            raise OptionError(
                f"--features: {features!r} and --bands {bands!r} disagree; give --bands only"
            )
        deprecated("--features", "--bands")
        return features
    return bands


def bands_option(help: str) -> str | None:  # noqa: A002 - typer's name
    """The ``--bands/-b`` option (default None: the command's own default)."""
    return typer.Option(None, "--bands", "-b", help=help, show_default=False)


def features_alias() -> str | None:
    """The hidden, deprecated ``--features/-f`` alias of ``--bands``."""
    return typer.Option(None, "--features", "-f", hidden=True)


@contextlib.contextmanager
def removed_on_failure(out: Path, *, keep: bool = False) -> Iterator[None]:
    """Remove ``out`` if the block fails on bad input and ``out`` did not exist before.

    A command that fails on its inputs leaves no output behind; an output that existed
    before (an earlier result, a run being resumed) is never touched. ``keep`` disables
    the clean-up (e.g. ``train --resume``: its checkpoints are the point).
    """
    from cropmap.errors import CropmapError

    existed = out.exists()
    try:
        yield
    except (CropmapError, ValueError):
        if not existed and not keep and out.exists():
            if out.is_dir():
                shutil.rmtree(out, ignore_errors=True)
            else:
                out.unlink(missing_ok=True)
        raise
