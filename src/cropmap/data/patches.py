"""Patch stores: composite + labels tiled into patches, split, and written lazily readable.

Layout (docs/architecture.md): ``manifest.json`` (:class:`PatchManifest`) and
``patches/<id>.npz`` with ``x`` float32 ``(T, C, H, W)`` dB (NaN nodata) and ``y`` uint8
``(H, W)`` (0 other, 1 target, 255 ignore). Reading keeps only the manifest in memory;
each patch is read from its own file on demand.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from cropmap.data.splits import SPLITS, check_fractions, drop_overlaps, split_patches
from cropmap.errors import GridMismatchError, PatchStoreError
from cropmap.io.atomic import atomic_path, atomic_write_text
from cropmap.io.raster import open_raster, read_checked

log = logging.getLogger(__name__)

FORMAT = "cropmap-patches/1"
IGNORE = 255


class PatchInfo(BaseModel):
    """One patch: where it lies in the source grid and what it holds."""

    id: str
    file: str
    split: str
    row: int
    col: int
    transform: list[float]
    valid_fraction: float  # share of pixels with a label other than ignore
    target_fraction: float  # share of valid pixels labelled target (1)


class PatchManifest(BaseModel):
    """The manifest of a patch store (``manifest.json``)."""

    format: str = FORMAT
    region: str = ""
    calendar: dict[str, Any] = Field(default_factory=dict)
    periods: list[str]
    bands: list[str]
    crs: str
    patch_size: int
    stride: int
    classes: list[str] = Field(default_factory=lambda: ["other", "rice"])
    target: str = "rice"
    ignore_index: int = IGNORE
    norm: dict[str, dict[str, float]] = Field(default_factory=dict)
    norm_split: str = "train"
    split_method: str = "blocks"
    split_fractions: list[float] = Field(default_factory=lambda: [0.7, 0.15, 0.15])
    seed: int = 0
    source: dict[str, str] = Field(default_factory=dict)
    dropped: dict[str, int] = Field(default_factory=dict)
    patches: list[PatchInfo]

    def counts(self) -> dict[str, int]:
        """Number of patches per split."""
        out = dict.fromkeys(SPLITS, 0)
        for p in self.patches:
            out[p.split] = out.get(p.split, 0) + 1
        return out


def _positions(length: int, size: int, stride: int) -> list[int]:
    """Patch origins along one axis; the last patch is shifted back to end at the edge."""
    if length <= size:
        return [0]
    pos = list(range(0, length - size + 1, stride))
    if pos[-1] + size < length:
        pos.append(length - size)
    return pos


def _read_padded(ds: Any, indexes: Any, row: int, col: int, size: int, fill: float) -> np.ndarray:
    from rasterio.windows import Window

    h, w = min(size, ds.height - row), min(size, ds.width - col)
    arr = read_checked(ds, indexes, window=Window(col, row, w, h))
    if (h, w) == (size, size):
        return arr
    out = np.full(arr.shape[:-2] + (size, size), fill, dtype=arr.dtype)
    out[..., :h, :w] = arr
    return out


def _write_npz(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x, y=y)
    with atomic_path(path, suffix=".npz") as tmp:
        tmp.write_bytes(buf.getvalue())


def build_patches(
    composite: str | os.PathLike,
    labels: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    size: int = 256,
    stride: int | None = None,
    split: str = "blocks",
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    block: int = 4,
    seed: int = 0,
    region: str = "",
    target: str = "rice",
    classes: Sequence[str] | None = None,
    min_valid_fraction: float = 0.0,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PatchManifest:
    """Tile a composite and its label raster into a patch store.

    Args:
        composite: composite GeoTIFF (see :func:`cropmap.sar.composite_folder`).
        labels: uint8 label raster on the same grid (see :func:`rasterize_parcels`).
        out_dir: store folder (``manifest.json`` + ``patches/``).
        size: patch size in pixels (256 = 2560 m at 10 m).
        stride: step between patches (default ``size``: no overlap).
        split: ``blocks`` (spatial, disjoint blocks) or ``random``.
        fractions: train, val, test shares.
        block: block side in patch sizes for the spatial split.
        seed: seed of the split.
        region, target, classes: recorded in the manifest.
        min_valid_fraction: patches with this share of labelled pixels or less are skipped
            (default 0: skip only patches without any valid label).
        overwrite: replace an existing store in ``out_dir``.
        progress: called as ``progress(done, total)`` while writing patches.

    Returns:
        The written :class:`PatchManifest`.

    Raises:
        GridMismatchError: labels not on the composite grid.
        PatchStoreError: a store already exists (without ``overwrite``), or no patch kept.
    """
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    from cropmap.sar.composite import composite_layout

    stride = int(stride or size)
    if size < 1 or stride < 1:
        raise PatchStoreError(f"patch size and stride must be >= 1 (got {size}, {stride})")
    fr = check_fractions(fractions)
    out = Path(out_dir)
    if (out / "manifest.json").exists():
        if not overwrite:
            raise PatchStoreError(f"a patch store exists in {out}; pass overwrite=True (--force)")
        shutil.rmtree(out / "patches", ignore_errors=True)
        (out / "manifest.json").unlink()
    (out / "patches").mkdir(parents=True, exist_ok=True)

    with open_raster(composite) as xs, open_raster(labels) as ys:
        periods, bands = composite_layout(xs)
        if (xs.width, xs.height, xs.crs, xs.transform) != (
            ys.width,
            ys.height,
            ys.crs,
            ys.transform,
        ):
            raise GridMismatchError(
                f"labels {labels} are not on the grid of {composite}; rasterize them onto it "
                "(cropmap rasterize PARCELS COMPOSITE OUT)"
            )
        T, C = len(periods), len(bands)
        rows_all = _positions(xs.height, size, stride)
        cols_all = _positions(xs.width, size, stride)
        # pass 1: labels only, one strip of rows at a time
        cand: list[tuple[int, int]] = []
        skipped_empty = 0
        for r in rows_all:
            h = min(size, ys.height - r)
            strip = read_checked(ys, 1, window=Window(0, r, ys.width, h))
            for c in cols_all:
                valid = np.count_nonzero(strip[:, c : c + size] != IGNORE) / float(size * size)
                if valid > min_valid_fraction:
                    cand.append((r, c))
                else:
                    skipped_empty += 1
        rows = [r for r, _ in cand]
        cols = [c for _, c in cand]
        splits = split_patches(split, rows, cols, size, fr, seed, block)
        resolved = drop_overlaps(rows, cols, size, splits) if stride < size else splits
        dropped_overlap = sum(s is None for s in resolved)
        # pass 2: write patches, accumulate normalization stats on train
        total = sum(s is not None for s in resolved)
        stats = {k: np.zeros((C, 3)) for k in ("train", "all")}
        infos: list[PatchInfo] = []
        skipped_nodata = done = 0
        for (r, c), s in zip(cand, resolved, strict=True):
            if s is None:
                continue
            x = _read_padded(xs, None, r, c, size, np.nan).astype(np.float32)
            nd = xs.nodata
            if nd is not None and np.isfinite(nd):
                x[x == nd] = np.nan
            x = x.reshape(T, C, size, size)
            y = _read_padded(ys, 1, r, c, size, IGNORE).astype(np.uint8)
            y[~np.isfinite(x).any(axis=(0, 1))] = IGNORE
            n_valid = int(np.count_nonzero(y != IGNORE))
            done += 1
            if n_valid / float(size * size) <= min_valid_fraction:
                skipped_nodata += 1
                continue
            pid = f"r{r:06d}_c{c:06d}"
            _write_npz(out / "patches" / f"{pid}.npz", x, y)
            for key in ("all", s) if s == "train" else ("all",):
                acc = stats[key]
                for ci in range(C):
                    v = x[:, ci][np.isfinite(x[:, ci])].astype(np.float64)
                    acc[ci] += (v.size, v.sum(), np.square(v).sum())
            t = window_transform(Window(c, r, size, size), xs.transform)
            infos.append(
                PatchInfo(
                    id=pid,
                    file=f"patches/{pid}.npz",
                    split=s,
                    row=r,
                    col=c,
                    transform=[t.a, t.b, t.c, t.d, t.e, t.f],
                    valid_fraction=round(n_valid / float(size * size), 6),
                    target_fraction=round(int(np.count_nonzero(y == 1)) / max(n_valid, 1), 6),
                )
            )
            if progress is not None:
                progress(done, total)
        tags = xs.tags()
        crs = xs.crs.to_wkt() if xs.crs else ""
    if not infos:
        raise PatchStoreError(
            f"no patch of {composite} has valid labels in {labels} "
            f"({skipped_empty + skipped_nodata} candidate patches, all unlabelled or nodata)"
        )
    norm_split = "train" if stats["train"][:, 0].sum() > 0 else "all"
    if norm_split == "all":
        log.warning("no training patches: normalization statistics computed on all patches")
    acc = stats[norm_split]
    mean = {b: float(acc[i, 1] / max(acc[i, 0], 1)) for i, b in enumerate(bands)}
    std = {
        b: float(np.sqrt(max(acc[i, 2] / max(acc[i, 0], 1) - mean[b] ** 2, 1e-12)))
        for i, b in enumerate(bands)
    }
    calendar = json.loads(tags["CALENDAR"]) if "CALENDAR" in tags else {}
    manifest = PatchManifest(
        region=region,
        calendar=calendar,
        periods=list(periods),
        bands=list(bands),
        crs=crs,
        patch_size=size,
        stride=stride,
        classes=list(classes) if classes else ["other", target],
        target=target,
        norm={"mean": mean, "std": std},
        norm_split=norm_split,
        split_method=split,
        split_fractions=list(fr),
        seed=seed,
        source={"composite": str(composite), "labels": str(labels)},
        dropped={
            "no_valid_label": skipped_empty,
            "nodata": skipped_nodata,
            "overlap_across_splits": dropped_overlap,
        },
        patches=infos,
    )
    atomic_write_text(out / "manifest.json", manifest.model_dump_json(indent=1))
    log.info("patch store %s: %s", out, manifest.counts())
    return manifest


class PatchStore:
    """A patch store on disk; the manifest is in memory, patches are read on demand."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        mpath = self.path / "manifest.json"
        if not mpath.is_file():
            raise PatchStoreError(f"no patch store at {self.path} (missing manifest.json)")
        try:
            self.manifest = PatchManifest.model_validate_json(mpath.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise PatchStoreError(f"{mpath} is not a valid patch manifest: {exc}") from exc
        if self.manifest.format != FORMAT:
            raise PatchStoreError(
                f"{mpath}: unsupported format {self.manifest.format!r} (expected {FORMAT!r})"
            )
        self._by_id = {p.id: p for p in self.manifest.patches}

    def __len__(self) -> int:
        return len(self.manifest.patches)

    def ids(self, split: str | None = None) -> list[str]:
        """Patch ids of one split (all when None), in manifest order.

        Raises:
            PatchStoreError: unknown split name.
        """
        if split is None:
            return [p.id for p in self.manifest.patches]
        if split not in SPLITS:
            raise PatchStoreError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
        return [p.id for p in self.manifest.patches if p.split == split]

    def info(self, pid: str) -> PatchInfo:
        """Manifest entry of one patch."""
        try:
            return self._by_id[pid]
        except KeyError:
            raise PatchStoreError(f"no patch {pid!r} in {self.path}") from None

    def read(self, pid: str) -> tuple[np.ndarray, np.ndarray]:
        """Read one patch: ``x`` float32 ``(T, C, H, W)`` dB (NaN nodata), ``y`` uint8 ``(H, W)``.

        Raises:
            PatchStoreError: unknown id, or a missing or corrupt patch file.
        """
        path = self.path / self.info(pid).file
        try:
            with np.load(path, allow_pickle=False) as z:
                return z["x"], z["y"]
        except (OSError, KeyError, ValueError) as exc:
            raise PatchStoreError(f"cannot read patch {pid} from {path}: {exc}") from exc
