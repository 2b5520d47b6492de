"""Options validated at the edge, with their defaults and ranges taken from the configs.

Every constrained option of every command carries a pydantic type: the field of the
config it sets (``config_option(TrainConfig, "max_epochs", "--epochs")``) or, for an
option without a config, the type declared beside it (``checked(Annotated[int,
Ge(16)], 256, "--window")``). The value is checked against that type while the command
line is parsed, before the command runs, so a bad value writes nothing and prints one
line naming the option, the value and what is accepted (exit status 2, see
``cropmap.cli.main``). The robustness tests read the same types to generate invalid
values for every option of every command.

Defaults of config options are the config's own: the option's value is None unless the
user gives it, and :func:`build_config` passes only what was given. Configs are named by
:class:`ConfigRef` and imported only when a command's ``--help`` is shown or an option
value is checked, so ``cropmap --help`` imports no config (and no torch).
"""

from __future__ import annotations

import importlib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import annotated_types as at
import typer
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from cropmap.errors import OptionError

#: a pydantic config class, for functions that return an instance of the class they are given
M = TypeVar("M", bound=BaseModel)

#: Attribute of an option's callback that holds its pydantic type (read by the tests).
ACCEPTED_ATTR = "cropmap_accepted"


@dataclass(frozen=True)
class Accepts:
    """``Annotated`` metadata: what an option accepts, in words (for a pattern)."""

    text: str


#: ``--devices``: a count, a comma-separated list of ids, -1 or auto.
DEVICES_PATTERN = StringConstraints(pattern=r"^(auto|-1|\d+|\d+(,\d+)+)$")
#: A duration in minutes, > 0.
MINUTES = Annotated[float, at.Gt(0)]
#: Counts.
POSITIVE = Annotated[int, at.Ge(1)]
NON_NEGATIVE = Annotated[int, at.Ge(0)]
#: Parallel jobs of scikit-learn/joblib: >= 1, or -1 for every core.
N_JOBS = Annotated[
    int, Accepts("an integer >= 1, or -1 for every core"), at.Predicate(lambda n: n >= 1 or n == -1)
]
#: A season year (Sentinel-1 flies since 2014).
YEAR = Annotated[int, at.Ge(2014), at.Le(2100)]
#: A probability threshold, strictly between 0 and 1.
PROBABILITY = Annotated[float, at.Gt(0), at.Lt(1)]
#: A label value of a uint8 label raster.
LABEL_VALUE = Annotated[int, at.Ge(0), at.Le(255)]


def _plain(tp: Any) -> tuple[Any, list[Any]]:
    """``(base type without None, metadata)`` of ``Annotated[X | None, *meta]``."""
    meta: list[Any] = []
    while typing.get_origin(tp) is Annotated:
        tp, *extra = typing.get_args(tp)
        meta.extend(extra)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _plain(args[0])[0], meta + _plain(args[0])[1]
        tp = typing.Union[tuple(args)]  # noqa: UP007 - built at runtime
    return tp, meta


def describe(tp: Any) -> str:
    """What a type accepts, in words: ``an integer >= 1``, ``one of: tip, zeros``."""
    base, meta = _plain(tp)
    if typing.get_origin(base) is list:
        return describe(typing.get_args(base)[0])
    texts = [m.text for m in meta if isinstance(m, Accepts)]
    if texts:
        return texts[0]
    if typing.get_origin(base) is Literal:
        return "one of: " + ", ".join(str(v) for v in typing.get_args(base))
    names = {int: "an integer", float: "a number", str: "text", bool: "true or false"}
    if typing.get_origin(base) in (typing.Union, types.UnionType):
        words = " or ".join(names.get(a, getattr(a, "__name__", str(a))) for a in base.__args__)
    else:
        words = names.get(base, getattr(base, "__name__", str(base)))
    bounds: list[str] = []
    for m in meta:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(m, attr, None)
            if isinstance(m, at.BaseMetadata) and value is not None:
                bounds.append(f"{sign} {value}")
        if isinstance(m, at.MultipleOf):
            bounds.append(f"a multiple of {m.multiple_of}")
    return words + (" " + " and ".join(bounds) if bounds else "")


@dataclass(frozen=True)
class ConfigRef:
    """A pydantic config class named by module and class, imported on first use."""

    module: str
    name: str

    def load(self) -> type[BaseModel]:
        """The config class."""
        model: type[BaseModel] = getattr(importlib.import_module(self.module), self.name)
        return model


TRAIN = ConfigRef("cropmap.train.config", "TrainConfig")
SCENE = ConfigRef("cropmap.simulate.scene", "SceneConfig")


class LazyText(str):
    """Help text computed when shown (``[default: ...]``), not when the CLI is imported."""

    def __new__(cls, make: Callable[[], Any]) -> LazyText:
        obj = super().__new__(cls, "")
        obj._make = make  # type: ignore[attr-defined]
        return obj

    def __str__(self) -> str:
        return str(self._make())  # type: ignore[attr-defined]

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def field_type(model: type[BaseModel], field: str) -> Any:
    """The pydantic type of ``model.field`` with its constraints (``Annotated[...]``)."""
    info = model.model_fields[field]
    tp = info.annotation
    return Annotated[tuple([tp, *info.metadata])] if info.metadata else tp


def field_of(config: ConfigRef, field: str) -> Callable[[], Any]:
    """A thunk giving the pydantic type of ``config.field`` (for :func:`checked`)."""
    return lambda: field_type(config.load(), field)


def field_default(model: type[BaseModel], field: str) -> Any:
    """The default value of ``model.field``."""
    return model.model_fields[field].get_default(call_default_factory=True)


def _validator(accepted: Callable[[], Any]) -> Callable[..., Any]:
    """A typer callback that checks the parsed value against the type ``accepted()``."""
    adapter: list[TypeAdapter[Any]] = []

    def check(ctx: typer.Context, value: Any) -> Any:
        if value is None or ctx.resilient_parsing:
            return value
        if not adapter:
            adapter.append(TypeAdapter(accepted()))
        try:
            return adapter[0].validate_python(value)
        except ValidationError as exc:
            if isinstance(value, (list, tuple)):  # name the bad item of a repeated option
                value = value[int(exc.errors()[0]["loc"][0])]
            raise typer.BadParameter(
                f"{value!r} is invalid; accepted: {describe(accepted())}"
            ) from None

    setattr(check, ACCEPTED_ATTR, accepted)
    return check


def checked(accepted: Any, default: Any, *decls: str, help: str, **kw: Any) -> Any:  # noqa: A002
    """A ``typer.Option`` whose value must fit the pydantic type ``accepted``.

    ``accepted`` is a type, or a zero-argument callable returning one (resolved lazily).
    """
    resolve = accepted if _is_thunk(accepted) else (lambda: accepted)
    return typer.Option(default, *decls, help=help, callback=_validator(resolve), **kw)


def _is_thunk(obj: Any) -> bool:
    return isinstance(obj, types.FunctionType) and obj.__code__.co_argcount == 0


def config_option(
    config: ConfigRef,
    field: str,
    *decls: str,
    help: str,  # noqa: A002 - typer's name
    default: Callable[[], Any] | None = None,
    **kw: Any,
) -> Any:
    """A ``typer.Option`` for ``config.field``: value None (the config's default).

    Args:
        config: the config holding the field (its type and constraints check the value).
        field: the field's name.
        decls: the option's names (``--epochs``).
        help: the help text; ``[default: ...]`` is added from the config when shown.
        default: where the shown default comes from, if not the field (e.g. an API's
            own defaults for this field).
    """

    def shown() -> str:
        value = default() if default is not None else field_default(config.load(), field)
        return _show(value)

    kw.setdefault("show_default", LazyText(shown))
    return checked(field_of(config, field), None, *decls, help=help, **kw)


def api_default(func: str, param: str) -> Callable[[], Any]:
    """A thunk giving the default of ``param`` of ``func`` (``"module:function"``)."""

    def get() -> Any:
        import inspect

        module, name = func.split(":")
        fn = getattr(importlib.import_module(module), name)
        return inspect.signature(fn).parameters[param].default

    return get


def api_option(
    func: str,
    param: str,
    accepted: Any,
    *decls: str,
    help: str,  # noqa: A002 - typer's name
    **kw: Any,
) -> Any:
    """An option whose default is the Python API's own (value None: not given).

    Args:
        func: ``"module:function"`` of the public function the command calls.
        param: its parameter set by this option; its default is shown in ``--help``.
        accepted: the pydantic type the value must fit (or a thunk giving it).
        decls, help: as for ``typer.Option``.
    """
    shown = api_default(func, param)
    kw.setdefault("show_default", LazyText(lambda: _show(shown())))
    return checked(accepted, None, *decls, help=help, **kw)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments the user gave (None: leave the API's default)."""
    return {k: v for k, v in values.items() if v is not None}


def attr(ref: str) -> Callable[[], Any]:
    """A thunk importing ``"module:name"`` when called (a type defined by the library)."""

    def get() -> Any:
        module, name = ref.split(":")
        return getattr(importlib.import_module(module), name)

    return get


def resamplings() -> Any:
    """rasterio's resampling names, as a choice."""
    from rasterio.enums import Resampling

    return choice(*Resampling.__members__)


def choice(*values: str) -> Any:
    """The pydantic type of an option that takes one of ``values``."""
    return Literal[values]


def build_config(model: type[M], options: Mapping[str, str], **values: Any) -> M:
    """``model(**values)`` without the None values, with errors named by their option.

    Args:
        model: the config class.
        options: field name -> CLI option, for messages.
        values: field values; None means "the config's default".

    Raises:
        OptionError: one line naming the option, the value and what is accepted.
    """
    given = {k: v for k, v in values.items() if v is not None}
    try:
        return model(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        option = options.get(field, field)
        value = given.get(field, err.get("input"))
        reason = str(err.get("msg", "")).removeprefix("Value error, ")
        raise OptionError(f"{option}: {value!r} is invalid; {reason}") from None
