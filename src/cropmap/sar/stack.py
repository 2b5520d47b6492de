"""Sentinel-1 time series as users have them: a folder of per-date GeoTIFFs or one stack.

:func:`open_stack` discovers the acquisitions (date, and which file/band holds each
polarisation), checks that all share one grid (or plans a reprojection onto a reference
grid), and settles the units. :class:`StackReader` then reads any window of any
acquisition as dB float32 with NaN nodata, so compositing never loads a whole scene.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from cropmap.errors import DateParseError, GridMismatchError, RasterReadError
from cropmap.io.raster import open_raster, read_checked
from cropmap.sar.dates import acquisition_date, date_from_name, find_sidecar, read_dates_sidecar
from cropmap.sar.db import mask_nodata, normalize_units, resolve_units, to_db, to_linear
from cropmap.sar.grid import Grid

log = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class BandSource:
    """Where one polarisation of one acquisition lives (1-based band index)."""

    path: Path
    index: int
    nodata: float | None


@dataclass(frozen=True)
class Acquisition:
    """One date: one :class:`BandSource` per requested band, in the requested order."""

    date: dt.date
    sources: tuple[BandSource, ...]

    @property
    def label(self) -> str:
        """Short description for messages: date and file names."""
        files = sorted({s.path.name for s in self.sources})
        return f"{self.date.isoformat()} ({', '.join(files)})"


@dataclass
class S1Stack:
    """A discovered time series: acquisitions sorted by date, on one reference grid."""

    acquisitions: list[Acquisition]
    bands: tuple[str, ...]
    grid: Grid
    units: Literal["linear", "db"]
    reference: Path
    to_align: frozenset[Path] = field(default_factory=frozenset)
    resampling: str = "nearest"

    @property
    def dates(self) -> list[dt.date]:
        """Acquisition dates, sorted (a date may repeat for several orbits)."""
        return [a.date for a in self.acquisitions]


def _token_match(desc: str, band: str) -> bool:
    pattern = rf"(?<![A-Za-z]){re.escape(band)}(?![A-Za-z])"
    return re.search(pattern, desc, re.IGNORECASE) is not None


def _find_band(descs: Sequence[str], band: str) -> int | None:
    """1-based index of the band named ``band``: exact description first, then a token."""
    for i, d in enumerate(descs, start=1):
        if d.strip().upper() == band.upper():
            return i
    hits = [i for i, d in enumerate(descs, start=1) if _token_match(d, band)]
    return hits[0] if len(hits) == 1 else None


def _list_rasters(folder: Path) -> list[Path]:
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in RASTER_SUFFIXES
        and not p.name.startswith(".")
        and not p.name.endswith(".count.tif")
    )
    if not files:
        raise RasterReadError(f"no GeoTIFF (*.tif) found in {folder}")
    return files


def _describe_bands(ds: Any) -> str:
    return ", ".join(d or f"<band {i} undescribed>" for i, d in enumerate(ds.descriptions, 1))


def _folder_acquisitions(
    folder: Path, bands: tuple[str, ...], file_bands: tuple[str, ...] | None
) -> tuple[list[Acquisition], list[tuple[Path, Grid]]]:
    full: list[Acquisition] = []
    partial: dict[dt.date, dict[str, BandSource]] = {}
    grids: list[tuple[Path, Grid]] = []
    for path in _list_rasters(folder):
        with open_raster(path) as ds:
            tags = ds.tags()
            if "PERIODS" in tags and "CALENDAR" in tags:
                log.info("skipping %s: a cropmap composite, not an acquisition", path)
                continue
            day = acquisition_date(path, tags)
            grids.append((path, Grid.of(ds)))
            descs = [d or "" for d in ds.descriptions]
            if file_bands is not None:
                if len(file_bands) != ds.count:
                    raise RasterReadError(
                        f"{path} has {ds.count} bands but {len(file_bands)} file band names "
                        f"were given ({', '.join(file_bands)})"
                    )
                descs = list(file_bands)
            found: dict[str, BandSource] = {}
            for b in bands:
                idx = _find_band(descs, b)
                if idx is None and ds.count == 1 and not descs[0] and _token_match(path.stem, b):
                    idx = 1  # single-polarisation file named like 2021-06-03_VH.tif
                if idx is not None:
                    found[b] = BandSource(path, idx, ds.nodata)
        if len(found) == len(bands):
            full.append(Acquisition(day, tuple(found[b] for b in bands)))
        elif found and ds.count == 1:
            slot = partial.setdefault(day, {})
            for b, src in found.items():
                if b in slot:
                    raise DateParseError(
                        f"two files hold {b} for {day}: {slot[b].path.name} and {path.name}"
                    )
                slot[b] = src
        else:
            missing = [b for b in bands if b not in found]
            raise RasterReadError(
                f"band {missing[0]!r} not found in {path} (bands: {_describe_bands(ds)}); "
                "name the file's bands in order with file_bands= (--file-bands VV,VH) "
                "or choose the bands to use with bands= (--bands VH)"
            )
    for day, slot in partial.items():
        missing = [b for b in bands if b not in slot]
        if missing:
            files = ", ".join(s.path.name for s in slot.values())
            raise RasterReadError(
                f"band {missing[0]!r} missing for {day} (files: {files}); "
                f"add the file or use only bands {', '.join(slot)} (--bands)"
            )
        full.append(Acquisition(day, tuple(slot[b] for b in bands)))
    if not full:
        raise RasterReadError(f"no Sentinel-1 acquisition found in {folder}")
    return full, grids


def _stack_acquisitions(
    path: Path,
    bands: tuple[str, ...],
    file_bands: tuple[str, ...] | None,
    dates: Sequence[dt.date] | str | os.PathLike | None,
) -> tuple[list[Acquisition], list[tuple[Path, Grid]]]:
    with open_raster(path) as ds:
        descs = [d or "" for d in ds.descriptions]
        count, nodata, grid = ds.count, ds.nodata, Grid.of(ds)
    if dates is None:
        sidecar = find_sidecar(path)
        if sidecar is not None:
            dates = read_dates_sidecar(sidecar)
    elif isinstance(dates, str | os.PathLike):
        dates = read_dates_sidecar(dates)
    if dates is None:  # dates in the band descriptions, e.g. "2021-06-03_VV"
        per_band = [date_from_name(d) for d in descs]
        if any(d is None for d in per_band):
            raise DateParseError(
                f"no dates for stack {path}: write one ISO date per line in "
                f"{path.with_name(path.stem + '.dates.txt')} or pass dates="
            )
        dates = list(dict.fromkeys(per_band))  # type: ignore[arg-type]
    dates = list(dates)
    if count % len(dates):
        raise DateParseError(
            f"stack {path} has {count} bands, not a multiple of its {len(dates)} dates"
        )
    k = count // len(dates)
    acqs = []
    for t, day in enumerate(dates):
        group = list(file_bands) if file_bands is not None else descs[t * k : (t + 1) * k]
        if file_bands is not None and len(file_bands) != k:
            raise RasterReadError(
                f"stack {path} has {k} bands per date but {len(file_bands)} file band names"
            )
        srcs = []
        for b in bands:
            idx = _find_band(group, b)
            if idx is None and k == 1 and len(bands) == 1 and not group[0]:
                idx = 1
            if idx is None:
                raise RasterReadError(
                    f"band {b!r} not found among the bands of date {day} in stack {path} "
                    f"(bands {t * k + 1}..{t * k + k}: {', '.join(group) or 'undescribed'}); "
                    "name them with file_bands= (--file-bands VV,VH)"
                )
            srcs.append(BandSource(path, t * k + idx, nodata))
        acqs.append(Acquisition(day, tuple(srcs)))
    return acqs, [(path, grid)]


def _sample(stack_acqs: list[Acquisition], n_files: int = 3, px: int = 64) -> np.ndarray:
    """Valid values of five small windows of a few acquisitions (for unit detection).

    Reads a few ``px`` x ``px`` windows (centre and quadrant centres), never a whole file.
    """
    values = []
    step = max(1, len(stack_acqs) // n_files)
    for acq in stack_acqs[::step][:n_files]:
        for src in acq.sources:
            with open_raster(src.path) as ds:
                h, w = min(px, ds.height), min(px, ds.width)
                for fr, fc in ((0.5, 0.5), (0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)):
                    r = min(max(0, int(ds.height * fr) - h // 2), ds.height - h)
                    c = min(max(0, int(ds.width * fc) - w // 2), ds.width - w)
                    arr = read_checked(ds, src.index, window=Window(c, r, w, h))
                    v = mask_nodata(arr, src.nodata)
                    values.append(v[np.isfinite(v)])
                if not any(v.size for v in values):  # windows all nodata: decimated read
                    arr = read_checked(
                        ds, src.index, out_shape=(min(256, ds.height), min(256, ds.width))
                    )
                    v = mask_nodata(arr, src.nodata)
                    values.append(v[np.isfinite(v)])
    return np.concatenate(values) if values else np.empty(0, np.float32)


def open_stack(
    source: str | os.PathLike,
    *,
    bands: Sequence[str] = ("VV", "VH"),
    file_bands: Sequence[str] | None = None,
    units: str = "auto",
    dates: Sequence[dt.date] | str | os.PathLike | None = None,
    reference: str | os.PathLike | None = None,
    align: bool = False,
    resampling: str = "nearest",
    allow_duplicate_dates: bool = False,
) -> S1Stack:
    """Discover a Sentinel-1 time series.

    Args:
        source: a folder of per-date GeoTIFFs (date from an ISO date in the file name or
            the ``ACQUISITION_DATE`` / ``TIFFTAG_DATETIME`` tag; bands found by their
            description), or one multi-band stack (bands date-major, dates from
            ``dates``, a ``<stem>.dates.txt`` sidecar, or dates in band descriptions).
        bands: polarisations to use, in output order.
        file_bands: names of each file's bands in order, overriding descriptions.
        units: ``"linear"``, ``"db"`` or ``"auto"`` (guessed from the values, with a
            :class:`~cropmap.errors.UnitsGuessWarning`).
        dates: dates of a stack's band groups (list or sidecar path).
        reference: raster whose grid is the target (default: the earliest file).
        align: reproject files on another grid onto the reference (else raise).
        resampling: rasterio resampling name used when aligning.
        allow_duplicate_dates: accept several acquisitions on one date (e.g. two relative
            orbits over the same area on the same day); by default a repeated date is an
            error, since it usually means a file was copied or downloaded twice.

    Raises:
        RasterReadError, DateParseError, GridMismatchError, UnitsError.
    """
    src = Path(source)
    bands = tuple(b.strip().upper() for b in bands)
    fb = tuple(b.strip().upper() for b in file_bands) if file_bands else None
    normalize_units(units)
    if src.is_dir():
        acqs, grids = _folder_acquisitions(src, bands, fb)
    elif src.is_file():
        acqs, grids = _stack_acquisitions(src, bands, fb, dates)
    else:
        raise RasterReadError(f"Sentinel-1 input not found: {src}")
    if resampling not in Resampling.__members__:
        raise GridMismatchError(
            f"unknown resampling {resampling!r}; use one of: {', '.join(Resampling.__members__)}"
        )
    acqs.sort(key=lambda a: (a.date, a.sources[0].path.name))
    if not allow_duplicate_dates:
        _check_unique_dates(acqs)
    if reference is not None:
        ref_path = Path(reference)
        with open_raster(ref_path) as ds:
            ref_grid = Grid.of(ds)
    else:
        first = acqs[0].sources[0].path
        ref_path, ref_grid = first, dict(grids)[first]
    odd = []
    for path, grid in grids:
        diff = ref_grid.difference(grid)
        if diff is None:
            continue
        if not align:
            raise GridMismatchError(
                f"{path} is not on the grid of {ref_path}: {diff}; all dates must share one "
                "grid; pass align=True (--align) to reproject onto the reference grid"
            )
        odd.append(path)
    if normalize_units(units) == "auto":
        units = _tagged_units(acqs) or units
    resolved = resolve_units(_sample(acqs), units, str(src))
    return S1Stack(acqs, bands, ref_grid, resolved, ref_path, frozenset(odd), resampling)


def _tagged_units(acqs: Sequence[Acquisition]) -> str | None:
    """Units every input file declares in its ``UNITS`` tag (``linear`` or ``db``), if any.

    Tagged units are still checked against the values (see :func:`resolve_units`).
    """
    found: set[str] = set()
    for path in {s.path for a in acqs for s in a.sources}:
        with open_raster(path) as ds:
            tag = ds.tags().get("UNITS", "").strip().lower()
        if tag not in ("linear", "db"):
            return None
        found.add(tag)
    return found.pop() if len(found) == 1 else None


def _check_unique_dates(acqs: Sequence[Acquisition]) -> None:
    """Raise :class:`DateParseError` naming the files of the first repeated date."""
    for a, b in zip(acqs, acqs[1:], strict=False):
        if a.date == b.date:
            files = sorted({s.path.name for s in (*a.sources, *b.sources)})
            raise DateParseError(
                f"duplicate acquisition date {a.date.isoformat()}: {', '.join(files)}; "
                "remove the copy, or pass allow_duplicate_dates=True "
                "(--allow-duplicate-dates) if they are distinct acquisitions"
            )


class StackReader:
    """Reads windows of a :class:`S1Stack` as dB; keeps each file open once.

    Use as a context manager; files on another grid are read through a WarpedVRT onto
    the stack's reference grid.
    """

    def __init__(self, stack: S1Stack) -> None:
        self.stack = stack
        self._open: dict[Path, Any] = {}

    def __enter__(self) -> StackReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every open file."""
        for ds in self._open.values():
            ds.close()
            if hasattr(ds, "src_dataset"):
                ds.src_dataset.close()
        self._open.clear()

    def _dataset(self, path: Path) -> Any:
        ds = self._open.get(path)
        if ds is None:
            ds = open_raster(path)
            if path in self.stack.to_align:
                g = self.stack.grid
                src_nodata = ds.nodata
                if src_nodata is None:
                    src_nodata = (
                        -32768
                        if ds.dtypes[0] == "int16"
                        else (0 if ds.dtypes[0].startswith("uint") else np.nan)
                    )
                ds = WarpedVRT(
                    ds,
                    crs=g.rio_crs,
                    transform=g.affine,
                    width=g.width,
                    height=g.height,
                    resampling=Resampling[self.stack.resampling],
                    src_nodata=src_nodata,
                    nodata=np.nan,
                    dtype="float32",
                )
            self._open[path] = ds
        return ds

    def read(self, acq: Acquisition, window: Window, domain: str = "db") -> np.ndarray:
        """Read ``window`` of one acquisition: float32 ``(C, h, w)``, NaN nodata.

        Values are dB, or linear power when ``domain="linear"``.
        """
        h, w = int(window.height), int(window.width)
        out = np.empty((len(acq.sources), h, w), dtype=np.float32)
        for c, src in enumerate(acq.sources):
            ds = self._dataset(src.path)
            raw = read_checked(ds, src.index, window=window)
            nodata = ds.nodata if src.path in self.stack.to_align else src.nodata
            if domain == "linear":
                out[c] = to_linear(raw, self.stack.units, nodata)
            else:
                out[c] = to_db(raw, self.stack.units, nodata)
        return out
