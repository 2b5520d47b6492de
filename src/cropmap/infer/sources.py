"""Inputs of tiled inference: a composite GeoTIFF, or a Sentinel-1 folder plus a calendar.

A source is described by a small picklable :class:`SourceSpec` (so Dask workers can open
it themselves) and opened into an object with the grid (``height``, ``width``, ``crs``,
``transform``), the layout (``periods``, ``bands``) and ``read(window, bands)`` returning
``(T, C, h, w)`` float32 dB with NaN nodata, the composite contract of ``cropmap.sar``.
The folder source composites on the fly, window by window, through ``cropmap.sar``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from rasterio.windows import Window

from cropmap.errors import ConfigError
from cropmap.io.raster import open_raster


class Source(Protocol):
    """An opened inference input: grid, layout and windowed reads in dB."""

    height: int
    width: int
    crs: Any
    transform: Any
    periods: list[str]
    bands: list[str]
    empty_periods: list[str]  # periods without any acquisition (all nodata)

    def read(self, window: Window, bands: Sequence[str]) -> np.ndarray:
        """Return ``(T, C, h, w)`` float32 dB, NaN where there is no data."""
        ...


@dataclass(frozen=True)
class SourceSpec:
    """Picklable description of an input: a composite file, or an S1 folder + calendar.

    ``bands`` (the model's) and ``units`` only matter for a folder, whose files are read
    band by band and converted to dB by ``cropmap.sar``.
    """

    path: str
    calendar: str | None = None
    year: int | None = None
    bands: tuple[str, ...] = ("VV", "VH")
    units: str = "auto"

    def open(self) -> Source:
        """Open the input (cheap: only the grid and layout are read)."""
        p = Path(self.path)
        if p.is_dir():
            if self.calendar is None:
                raise ConfigError(
                    f"{p} is a folder of Sentinel-1 dates: pass a calendar to composite it on "
                    "the fly (e.g. --calendar korea-rice), or give a composite GeoTIFF"
                )
            return FolderSource(p, self.calendar, self.year, self.bands, self.units)
        if self.calendar is not None:
            raise ConfigError(f"a calendar only applies to a folder of dates; {p} is a file")
        return CompositeSource(p)


@lru_cache(maxsize=4)
def _open_cached(spec: SourceSpec, stamp: int) -> Source:
    return spec.open()


def open_cached(spec: SourceSpec) -> Source:
    """Open ``spec`` once per process (reopened when the path's mtime changes)."""
    p = Path(spec.path)
    return _open_cached(spec, p.stat().st_mtime_ns if p.exists() else 0)


class CompositeSource:
    """A period-major composite GeoTIFF (``P1_VV, P1_VH, P2_VV, ...``) in dB."""

    def __init__(self, path: str | os.PathLike) -> None:
        from cropmap.sar import composite_layout

        self.path = Path(path)
        with open_raster(self.path) as ds:
            self.height, self.width = ds.height, ds.width
            self.crs, self.transform = ds.crs, ds.transform
            periods, bands = composite_layout(ds)
            empty = ds.tags().get("EMPTY_PERIOD_NAMES", "")
        self.periods, self.bands = list(periods), [b.upper() for b in bands]
        self.empty_periods = [p for p in empty.split(",") if p]

    def read(self, window: Window, bands: Sequence[str]) -> np.ndarray:
        """Read ``(T, C, h, w)`` float32 dB for the named bands (in that order)."""
        from cropmap.sar import read_composite

        return read_composite(self.path, window=window, bands=list(bands))


class FolderSource:
    """A folder of Sentinel-1 dates composited with a calendar, window by window.

    Raises:
        EmptyInputError: no acquisition falls in any period (e.g. a wrong ``year``), so
            the map would be all nodata; raised on opening, before any output is written.
    """

    def __init__(
        self,
        folder: Path,
        calendar: str,
        year: int | None,
        bands: Sequence[str] = ("VV", "VH"),
        units: str = "auto",
    ) -> None:
        from cropmap.sar import StackReader, load_calendar, open_stack, plan_composite

        self.folder = folder
        stack = open_stack(folder, bands=tuple(bands), units=units)
        self._plan = plan_composite(stack, load_calendar(calendar), year)
        self._reader = StackReader(stack)
        g = stack.grid
        self.height, self.width = g.height, g.width
        self.crs, self.transform = g.rio_crs, g.affine
        self.periods = list(self._plan.calendar.period_names)
        self.empty_periods = self._plan.empty_periods
        self.bands = [b.upper() for b in stack.bands]

    def read(self, window: Window, bands: Sequence[str]) -> np.ndarray:
        """Composite the window: ``(T, C, h, w)`` float32 dB, NaN nodata."""
        from cropmap.sar.block import composite_block

        values, _ = composite_block(self._plan, window, self._reader)
        arr = values.reshape(len(self.periods), len(self.bands), *values.shape[-2:])
        idx = [self.bands.index(b.upper()) for b in bands]
        return arr[:, idx]
