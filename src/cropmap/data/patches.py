"""Building patch stores: composite + labels tiled into patches, split, and written.

The store format and reading live in :mod:`cropmap.data.store` (re-exported here).
A store is built in a hidden folder beside its target and moved in place only when
complete, so a failed or refused build never replaces an earlier store. Patches are
written by :func:`cropmap.data.patch_writer.write_chunk`, in this process or in a pool of
worker processes; the store is the same either way.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.data.patch_writer import IGNORE, ChunkJob, run_chunks
from cropmap.data.splits import (
    SPLITS,
    check_fractions,
    drop_overlaps,
    spatial_block,
    split_patches,
)
from cropmap.data.store import FORMAT, PatchInfo, PatchManifest, PatchStore, staged_store
from cropmap.errors import (
    ConfigError,
    EmptyInputError,
    GridMismatchError,
    PatchStoreError,
    SplitAdaptedWarning,
)
from cropmap.io.atomic import atomic_write_text
from cropmap.io.raster import open_raster, read_checked

__all__ = ["FORMAT", "PatchInfo", "PatchManifest", "PatchStore", "build_patches"]

log = logging.getLogger(__name__)


#: Patches per task of the worker pool (small: results come back in order).
CHUNK_PATCHES = 8


def _positions(length: int, size: int, stride: int) -> list[int]:
    """Patch origins along one axis; the last patch is shifted back to end at the edge."""
    if length <= size:
        return [0]
    pos = list(range(0, length - size + 1, stride))
    if pos[-1] + size < length:
        pos.append(length - size)
    return pos


def _candidates(
    ys: Any, rows: list[int], cols: list[int], size: int, min_valid_fraction: float
) -> tuple[list[tuple[int, int]], int, int]:
    """Patch origins with enough labelled pixels, the number skipped, and target pixels.

    Reads the label raster one strip of ``size`` rows at a time.
    """
    from rasterio.windows import Window

    cand: list[tuple[int, int]] = []
    skipped = n_target = 0
    for r in rows:
        h = min(size, ys.height - r)
        strip = read_checked(ys, 1, window=Window(0, r, ys.width, h))
        for c in cols:
            sub = strip[:, c : c + size]
            if np.count_nonzero(sub != IGNORE) / float(size * size) > min_valid_fraction:
                cand.append((r, c))
                n_target += int(np.count_nonzero(sub == 1))
            else:
                skipped += 1
    return cand, skipped, n_target


def _check_splits(
    counts: dict[str, int],
    fractions: Sequence[float],
    *,
    size: int,
    method: str,
    n_blocks: int | None,
    why: str,
) -> None:
    """Refuse a store where a split with a non-zero share would hold no patch."""
    empty = [s for s, f in zip(SPLITS, fractions, strict=True) if f > 0 and not counts[s]]
    if not empty:
        return
    shares = ",".join(f"{f:g}" for f in fractions)
    have = ", ".join(f"{s} {counts[s]}" for s in SPLITS)
    blocks = f" in {n_blocks} spatial block(s)" if n_blocks is not None else ""
    zero = ",".join("1" if s == "train" else "0" for s in SPLITS)
    raise PatchStoreError(
        f"split {' and '.join(repr(s) for s in empty)} would be empty ({have}; "
        f"{sum(counts.values())} patches of {size} px{blocks}{why}) for fractions {shares} "
        f"(--split {method}); use smaller patches (--size {max(1, size // 2)}), a larger "
        f"scene, --split random, or a zero share for it (--fractions {zero})"
    )


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
    workers: int = 1,
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
        block: block side in patch sizes for the spatial split; it is halved (with a
            :class:`~cropmap.errors.SplitAdaptedWarning`) while the scene has fewer
            blocks than splits; the manifest records the effective ``block``.
        seed: seed of the split.
        region, target, classes: recorded in the manifest.
        min_valid_fraction: patches with this share of labelled pixels or less are skipped
            (default 0: skip only patches without any valid label).
        overwrite: replace an existing store in ``out_dir``.
        progress: called as ``progress(done, total)`` while writing patches.
        workers: processes writing patches (0: one per CPU); the store is the same for
            any number.

    Returns:
        The written :class:`PatchManifest`.

    Raises:
        GridMismatchError: labels not on the composite grid.
        EmptyInputError: no patch holds a target pixel (label 1).
        PatchStoreError: a store already exists (without ``overwrite``), no patch kept,
            or a split with a non-zero share would be empty. Nothing is written then.
        ConfigError: bad ``workers``, split method or fractions.
    """
    from cropmap.sar.layout import composite_layout

    stride = int(stride or size)
    if size < 1 or stride < 1:
        raise PatchStoreError(f"patch size and stride must be >= 1 (got {size}, {stride})")
    if workers < 0:
        raise ConfigError(f"workers (--workers) must be >= 0 (0: one per CPU), got {workers}")
    fr = check_fractions(fractions)
    out = Path(out_dir)
    if (out / "manifest.json").exists() and not overwrite:
        raise PatchStoreError(f"a patch store exists in {out}; pass overwrite=True (--force)")
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
        cand, skipped_empty, n_target = _candidates(
            ys,
            _positions(xs.height, size, stride),
            _positions(xs.width, size, stride),
            size,
            min_valid_fraction,
        )
        tags = xs.tags()
        crs = xs.crs.to_wkt() if xs.crs else ""
    if not cand:
        raise PatchStoreError(
            f"no patch of {composite} has valid labels in {labels} "
            f"({skipped_empty} candidate patches, all unlabelled)"
        )
    if n_target == 0:
        raise EmptyInputError(
            f"no pixel of {labels} is labelled 1 (target {target!r}) in any patch: a model "
            f"could learn nothing of {target!r}; nothing written; rasterize the parcels with "
            f"the target class (cropmap rasterize PARCELS {composite} {labels} --target NAME)"
        )
    T, C = len(periods), len(bands)
    rows = [r for r, _ in cand]
    cols = [c for _, c in cand]
    splits = split_patches(split, rows, cols, size, fr, seed, block)
    eff = spatial_block(rows, cols, size, fr, block) if split == "blocks" else None
    n_blocks = None
    if eff is not None:
        n_blocks = len({(r // (eff * size), c // (eff * size)) for r, c in cand})
        if eff != max(1, int(block)):
            warnings.warn(
                f"spatial block shrunk from {block} to {eff} patch sizes: the scene has "
                f"{len(cand)} patches of {size} px, too few blocks of {block} for every split",
                SplitAdaptedWarning,
                stacklevel=2,
            )
    resolved = drop_overlaps(rows, cols, size, splits) if stride < size else splits
    dropped_overlap = sum(s is None for s in resolved)
    counts = {s: sum(x == s for x in resolved) for s in SPLITS}
    overlap_note = f", {dropped_overlap} dropped for sharing pixels across splits"
    _check_splits(
        counts,
        fr,
        size=size,
        method=split,
        n_blocks=n_blocks,
        why=overlap_note if dropped_overlap else "",
    )
    kept = [(rc, s) for rc, s in zip(cand, resolved, strict=True) if s is not None]
    with staged_store(out, overwrite) as tmp:
        jobs = [
            ChunkJob(
                composite=str(composite),
                labels=str(labels),
                out_dir=str(tmp),
                size=size,
                n_periods=T,
                n_bands=C,
                min_valid_fraction=min_valid_fraction,
                origins=tuple(rc for rc, _ in kept[i : i + CHUNK_PATCHES]),
            )
            for i in range(0, len(kept), CHUNK_PATCHES)
        ]
        stats = {k: np.zeros((C, 3)) for k in ("train", "all")}
        infos: list[PatchInfo] = []
        done = skipped_nodata = 0
        for results in run_chunks(jobs, workers or os.cpu_count() or 1):
            for res in results:
                s = kept[done][1]
                done += 1
                if res is None:
                    skipped_nodata += 1
                    continue
                for key in ("all", s) if s == "train" else ("all",):
                    stats[key] += res.stats
                infos.append(
                    PatchInfo(
                        id=res.id,
                        file=f"patches/{res.id}.npz",
                        split=s,
                        row=res.row,
                        col=res.col,
                        transform=list(res.transform),
                        valid_fraction=res.valid_fraction,
                        target_fraction=res.target_fraction,
                    )
                )
            if progress is not None:
                progress(done, len(kept))
        if not infos:
            raise PatchStoreError(
                f"no patch of {composite} has valid labels in {labels} "
                f"({skipped_empty + skipped_nodata} candidate patches, all unlabelled or nodata)"
            )
        counts = dict.fromkeys(SPLITS, 0)
        for p in infos:
            counts[p.split] += 1
        _check_splits(
            counts,
            fr,
            size=size,
            method=split,
            n_blocks=n_blocks,
            why=f", {skipped_nodata} without data",
        )
        manifest = _manifest(
            infos,
            stats,
            bands,
            region=region,
            calendar=json.loads(tags["CALENDAR"]) if "CALENDAR" in tags else {},
            periods=list(periods),
            crs=crs,
            patch_size=size,
            stride=stride,
            classes=list(classes) if classes else ["other", target],
            target=target,
            split_method=split,
            block=eff,
            block_requested=int(block) if split == "blocks" else None,
            split_fractions=list(fr),
            seed=seed,
            source={"composite": str(composite), "labels": str(labels)},
            dropped={
                "no_valid_label": skipped_empty,
                "nodata": skipped_nodata,
                "overlap_across_splits": dropped_overlap,
            },
        )
        atomic_write_text(tmp / "manifest.json", manifest.model_dump_json(indent=1))
    log.info("patch store %s: %s", out, manifest.counts())
    return manifest


def _manifest(
    infos: list[PatchInfo],
    stats: dict[str, np.ndarray],
    bands: Sequence[str],
    **fields: Any,
) -> PatchManifest:
    """The manifest, with normalization statistics from train (or all patches)."""
    norm_split = "train" if stats["train"][:, 0].sum() > 0 else "all"
    if norm_split == "all":
        log.warning("no training patches: normalization statistics computed on all patches")
    acc = stats[norm_split]
    mean = {b: float(acc[i, 1] / max(acc[i, 0], 1)) for i, b in enumerate(bands)}
    std = {
        b: float(np.sqrt(max(acc[i, 2] / max(acc[i, 0], 1) - mean[b] ** 2, 1e-12)))
        for i, b in enumerate(bands)
    }
    return PatchManifest(
        bands=list(bands),
        norm={"mean": mean, "std": std},
        norm_split=norm_split,
        patches=infos,
        **fields,
    )
