"""The unit of work of patch building: read, check and write a chunk of patches.

:func:`write_chunk` opens the composite and the label raster itself, so it runs the same
in the building process or in a worker process (:func:`cropmap.data.build_patches` with
``workers > 1``). It returns, per patch, what the manifest and the normalization need;
the caller adds the statistics up in patch order, so the store does not depend on the
number of workers.
"""

from __future__ import annotations

import io
import multiprocessing
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from cropmap.io.atomic import atomic_path
from cropmap.io.gdal import gdal_env
from cropmap.io.raster import open_raster, read_checked

#: Label value of pixels without a label (ignored in training).
IGNORE = 255

#: GDAL block cache of a patch-writing process, in MB (a few strips of input tiles).
PATCH_CACHE_MB = 128


@dataclass(frozen=True)
class ChunkJob:
    """Patches to write: origins (pixels), the store folder and the tiling facts."""

    composite: str
    labels: str
    out_dir: str  # the store folder being built (``patches/`` inside it)
    size: int
    n_periods: int
    n_bands: int
    min_valid_fraction: float
    origins: tuple[tuple[int, int], ...]  # (row, col) of each patch


@dataclass(frozen=True)
class PatchResult:
    """One written patch: id, grid place, label shares and its band statistics."""

    id: str
    row: int
    col: int
    transform: tuple[float, float, float, float, float, float]
    valid_fraction: float
    target_fraction: float
    stats: np.ndarray  # (C, 3) float64: count, sum, sum of squares of finite dB values


def patch_id(row: int, col: int) -> str:
    """The id (and file stem) of the patch at pixel ``(row, col)``."""
    return f"r{row:06d}_c{col:06d}"


def read_padded(ds: Any, indexes: Any, row: int, col: int, size: int, fill: float) -> np.ndarray:
    """Read a ``size`` x ``size`` window at ``(row, col)``, padded with ``fill`` at the edges."""
    h, w = min(size, ds.height - row), min(size, ds.width - col)
    arr = read_checked(ds, indexes, window=Window(col, row, w, h))
    if (h, w) == (size, size):
        return arr
    out = np.full(arr.shape[:-2] + (size, size), fill, dtype=arr.dtype)
    out[..., :h, :w] = arr
    return out


#: DEFLATE level of patch files: 1 costs about two thirds of the CPU time of
#: ``np.savez_compressed``'s default for files about 2 % larger (speckled backscatter
#: barely compresses); any ``np.load`` reads them.
NPZ_LEVEL = 1


def write_npz(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write one patch file (an ``.npz`` of ``x`` and ``y``, DEFLATE level
    :data:`NPZ_LEVEL`) atomically."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=NPZ_LEVEL) as zf:
        for name, arr in (("x", x), ("y", y)):
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    with atomic_path(path, suffix=".npz") as tmp:
        tmp.write_bytes(buf.getvalue())


def write_chunk(job: ChunkJob) -> list[PatchResult | None]:
    """Write the job's patches; ``None`` for a patch skipped as nodata (not written).

    Each patch holds ``x`` float32 ``(T, C, size, size)`` dB (NaN nodata) and ``y`` uint8
    ``(size, size)`` (pixels without data in every period and band are set to ignore).
    """
    size, T, C = job.size, job.n_periods, job.n_bands
    area = float(size * size)
    out: list[PatchResult | None] = []
    with (
        gdal_env(PATCH_CACHE_MB),
        open_raster(job.composite) as xs,
        open_raster(job.labels) as ys,
    ):
        nd = xs.nodata
        for r, c in job.origins:
            x = read_padded(xs, None, r, c, size, np.nan).astype(np.float32, copy=False)
            if nd is not None and np.isfinite(nd):
                x[x == nd] = np.nan
            x = x.reshape(T, C, size, size)
            y = read_padded(ys, 1, r, c, size, IGNORE).astype(np.uint8, copy=False)
            finite = np.isfinite(x)
            y[~finite.any(axis=(0, 1))] = IGNORE
            n_valid = int(np.count_nonzero(y != IGNORE))
            if n_valid / area <= job.min_valid_fraction:
                out.append(None)
                continue
            pid = patch_id(r, c)
            write_npz(Path(job.out_dir) / "patches" / f"{pid}.npz", x, y)
            stats = np.zeros((C, 3))
            for ci in range(C):
                v = x[:, ci][finite[:, ci]].astype(np.float64)
                stats[ci] = (v.size, v.sum(), np.square(v).sum())
            t = window_transform(Window(c, r, size, size), xs.transform)
            out.append(
                PatchResult(
                    id=pid,
                    row=r,
                    col=c,
                    transform=(t.a, t.b, t.c, t.d, t.e, t.f),
                    valid_fraction=round(n_valid / area, 6),
                    target_fraction=round(int(np.count_nonzero(y == 1)) / max(n_valid, 1), 6),
                    stats=stats,
                )
            )
    return out


def run_chunks(jobs: list[ChunkJob], workers: int) -> Iterator[list[PatchResult | None]]:
    """Yield :func:`write_chunk` of every job, in job order, on ``workers`` processes."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield write_chunk(job)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding GDAL state
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: list[Future[list[PatchResult | None]]] = []
        todo = iter(jobs)
        for job in todo:  # at most 2 x workers chunks in flight: memory stays bounded
            pending.append(pool.submit(write_chunk, job))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.pop(0).result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(write_chunk, nxt))
            yield result
