"""One row of windows -> blended probability sums: the unit of work of tiled inference.

:func:`predict_row` reads the input block by block (``batch_size`` neighbouring windows
per read), normalizes it with the model's statistics, batches the windows through an
engine and accumulates weighted probabilities. The single-process path and the Dask
workers both call it, and the driver adds rows in the same order, so both give the same
map bit for bit. :class:`RowAccumulator` holds only the rows not yet final (one window
row plus its overlap), never the whole raster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.windows import Window
from scipy.special import expit, softmax

from cropmap.infer.engines import Engine, get_engine
from cropmap.infer.sources import Source, SourceSpec, open_cached
from cropmap.infer.windows import Win, blend_weights, window_rows
from cropmap.io.gdal import PREDICT_CACHE_MB, gdal_env
from cropmap.models.registry import ModelMeta
from cropmap.models.time_padding import pad_time


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to predict one window row (picklable)."""

    model_dir: str
    source: SourceSpec
    meta: ModelMeta | None = None  # model.json as read by the driver (parsed once)
    engine: str = "torch"
    precision: str = "fp32"
    onnx_path: str | None = None
    window: int = 256
    overlap: int = 64
    batch_size: int = 4
    periods: int | None = None  # early season: first k periods
    threads: int | None = None

    def rows(self, height: int, width: int) -> list[list[Win]]:
        """The window grid for a raster of this size."""
        return window_rows(height, width, self.window, self.overlap)

    def load(self) -> Engine:
        """This process's engine for the plan (cached)."""
        return get_engine(
            self.engine,
            self.model_dir,
            meta=self.meta,
            threads=self.threads,
            precision=self.precision,
            onnx_path=self.onnx_path,
        )


@dataclass
class RowResult:
    """Weighted sums of one window row over raster rows ``row0 .. row0 + h``."""

    row0: int
    psum: np.ndarray  # (K, h, W) float32: sum of weight * probability
    wsum: np.ndarray  # (h, W) float32: sum of weights
    valid: np.ndarray  # (h, W) bool: input has data in at least one band


def normalize(x: np.ndarray, meta: ModelMeta) -> tuple[np.ndarray, np.ndarray]:
    """``(T, C, h, w)`` dB -> normalized float32 with NaN set to 0, and the valid mask.

    A pixel is valid when any period or band has data.
    """
    valid = ~np.all(np.isnan(x), axis=(0, 1))
    mean = np.asarray(meta.norm_mean, dtype=np.float32)[None, :, None, None]
    std = np.asarray(meta.norm_std, dtype=np.float32)[None, :, None, None]
    out = (x.astype(np.float32, copy=False) - mean) / std
    np.copyto(out, np.float32(0.0), where=~np.isfinite(out))
    return out, valid


def to_probs(logits: np.ndarray) -> np.ndarray:
    """Logits ``(B, K, H, W)`` -> probabilities: sigmoid for ``K = 1``, else softmax."""
    if logits.shape[1] == 1:
        return expit(logits)
    return softmax(logits, axis=1)


def run_batch(engine: Engine, batch: np.ndarray, meta: ModelMeta) -> np.ndarray:
    """Probabilities ``(B, K, h, w)`` of normalized windows ``(B, k, C, h, w)``.

    Pads time to the model's ``T`` (its own padding mode, for early-season input) and
    height/width to multiples of the model's scale (zeros, the normalized mean).
    """
    b, _, _, h, w = batch.shape
    batch = pad_time(batch, meta.n_periods, meta.time_padding, time_dim=1)
    ph, pw = -h % meta.scale, -w % meta.scale
    if ph or pw:
        batch = np.pad(batch, ((0, 0),) * 3 + ((0, ph), (0, pw)))
    logits = engine(np.ascontiguousarray(batch, dtype=np.float32))
    return to_probs(logits[:, :, :h, :w]).astype(np.float32, copy=False)


def predict_row(
    plan: Plan,
    source: Source,
    row: list[Win],
    engine: Engine | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> RowResult:
    """Predict one row of windows and return its blended sums.

    Args:
        plan: the run's plan (window, overlap, batch size, periods).
        source: the opened input.
        row: windows sharing one row offset, left to right.
        engine: the loaded engine (default: this process's cached one for ``plan``).
        on_batch: called with the number of windows done after each batch.
    """
    engine = engine or plan.load()
    meta = engine.meta
    k = plan.periods or meta.n_periods
    row0, h = row[0].row, row[0].height
    width = source.width
    n_out = meta.n_outputs
    psum = np.zeros((n_out, h, width), dtype=np.float32)
    wsum = np.zeros((h, width), dtype=np.float32)
    valid = np.zeros((h, width), dtype=bool)
    weight = blend_weights(h, row[0].width, plan.overlap)
    for start in range(0, len(row), plan.batch_size):
        group = row[start : start + plan.batch_size]
        c0, c1 = group[0].col, group[-1].col + group[-1].width
        block = source.read(Window(c0, row0, c1 - c0, h), meta.bands)[:k]
        block, ok = normalize(block, meta)
        valid[:, c0:c1] |= ok
        # windows without any data are skipped: all their pixels are nodata anyway
        group = [w for w in group if ok[:, w.col - c0 : w.col - c0 + w.width].any()]
        if group:
            wins = np.stack([block[..., w.col - c0 : w.col - c0 + w.width] for w in group])
            probs = run_batch(engine, wins, meta)
            for w, p in zip(group, probs, strict=True):
                sl = slice(w.col, w.col + w.width)
                psum[:, :, sl] += p * weight
                wsum[:, sl] += weight
        if on_batch is not None:
            on_batch(min(plan.batch_size, len(row) - start))
    return RowResult(row0, psum, wsum, valid)


def predict_row_task(plan: Plan, index: int) -> RowResult:
    """Worker entry point: open the input and predict window row ``index``."""
    with read_env():
        source = open_cached(plan.source)
        row = plan.rows(source.height, source.width)[index]
        return predict_row(plan, source, row)


def read_env() -> rasterio.Env:
    """GDAL settings of prediction (see :data:`cropmap.io.gdal.PREDICT_CACHE_MB`)."""
    return gdal_env(PREDICT_CACHE_MB)


class RowAccumulator:
    """Rolling sums over the raster rows not yet final; pops finished rows in order."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.top = 0  # first raster row held
        self.psum: np.ndarray | None = None
        self.wsum = np.zeros((0, width), dtype=np.float32)
        self.valid = np.zeros((0, width), dtype=bool)

    def add(self, res: RowResult) -> None:
        """Add a row result (rows must arrive in increasing ``row0``)."""
        if self.psum is None:
            self.psum = np.zeros((res.psum.shape[0], 0, self.width), dtype=np.float32)
        end = res.row0 + res.wsum.shape[0]
        grow = end - (self.top + self.wsum.shape[0])
        if grow > 0:
            self.psum = np.concatenate(
                [self.psum, np.zeros((self.psum.shape[0], grow, self.width), np.float32)], 1
            )
            self.wsum = np.concatenate([self.wsum, np.zeros((grow, self.width), np.float32)])
            self.valid = np.concatenate([self.valid, np.zeros((grow, self.width), bool)])
        a, b = res.row0 - self.top, end - self.top
        self.psum[:, a:b] += res.psum
        self.wsum[a:b] += res.wsum
        self.valid[a:b] |= res.valid

    def pop(self, until: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Remove rows before raster row ``until``: ``(row0, probs (K, n, W), valid)``."""
        if self.psum is None:
            raise RuntimeError("RowAccumulator.pop() before any add()")
        n = max(0, min(until - self.top, self.wsum.shape[0]))
        row0 = self.top
        wsum = self.wsum[:n]
        covered = wsum > 0
        probs = self.psum[:, :n] / np.where(covered, wsum, 1.0)
        valid = self.valid[:n] & covered
        self.psum, self.wsum, self.valid = self.psum[:, n:], self.wsum[n:], self.valid[n:]
        self.top += n
        return row0, probs, valid
