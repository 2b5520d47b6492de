"""Write a simulated Sentinel-1 scene: per-date GeoTIFFs, parcels and scene.json.

The per-date rasters are generated in row blocks (memory bounded by one block of
``block_rows`` x width pixels per band plus a few static maps), from per-parcel mean
backscatter tables (:mod:`cropmap.simulate.backscatter`), an incidence-angle term that
varies across the swath, static texture and gamma speckle.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cropmap.errors import ConfigError
from cropmap.io.atomic import atomic_path, atomic_write_text
from cropmap.simulate.backscatter import cell_tables
from cropmap.simulate.parcels import PIXEL_M, declared_classes, polygonize, tessellate
from cropmap.simulate.phenology import CLASSES, DEFAULT_TRAJECTORIES
from cropmap.simulate.regions import get_region
from cropmap.simulate.render import INCIDENCE_GRADIENT_DEG_PER_M, INCIDENCE_REF_DEG, Renderer
from cropmap.simulate.schedule import acquisitions

log = logging.getLogger(__name__)

FORMAT = "cropmap-sim/1"
#: Bump when the rendering code changes what a given spec and seed produce (the region
#: specs and trajectories are hashed as data by :func:`simulator_fingerprint`).
PHYSICS_VERSION = 2
#: Fixed GeoPackage timestamp so that the same call writes byte-identical files.
GPKG_DATE = "2000-01-01T00:00:00.000Z"


class SceneConfig(BaseModel):
    """Every parameter of a simulated scene (written to scene.json).

    Attributes:
        region: korea, spain, france or netherlands.
        size: width and height in pixels (10 m).
        year: the season's year.
        seed: random seed; the same config gives byte-identical files.
        looks: equivalent number of looks of the gamma speckle.
        revisit_days: 6 or 12 days per orbit; None: 6 in 2017-2021 (S1A+S1B), else 12.
        defects: add a missing swath strip (one orbit) and an acquisition gap.
        texture_sigma_px: correlation length of the texture, pixels.
        block_rows: rows generated at once (memory bound; part of the random stream).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    region: str
    size: int = Field(512, ge=16, le=20000)
    year: int = 2022
    seed: int = Field(0, ge=0)
    looks: float = Field(4.4, gt=0)
    revisit_days: int | None = None
    defects: bool = True
    texture_sigma_px: float = Field(1.5, ge=0)
    block_rows: int = Field(256, ge=1)


def simulator_fingerprint(region: str) -> str:
    """SHA-256 of what a region's scenes are made of: its spec, the class trajectories
    and :data:`PHYSICS_VERSION`. Caches and shipped models key on it, so they go stale
    when the simulator's physics change.
    """
    import hashlib

    spec = get_region(region)
    doc = {
        "format": FORMAT,
        "physics_version": PHYSICS_VERSION,
        "region": spec.model_dump(mode="json"),
        "trajectories": {k: v.model_dump(mode="json") for k, v in DEFAULT_TRAJECTORIES.items()},
        "incidence_reference_deg": INCIDENCE_REF_DEG,
        "incidence_gradient_deg_per_m": INCIDENCE_GRADIENT_DEG_PER_M,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _rng(seed: int, region: str, stream: int) -> np.random.Generator:
    """Independent random stream per (seed, region, purpose)."""
    return np.random.default_rng([seed, zlib.crc32(region.encode()), stream])


def _clear_stale(s1: Path, keep: set[str], overwrite: bool) -> None:
    """Refuse (or, with ``overwrite``, delete) GeoTIFFs of another scene in ``s1``."""
    if not s1.is_dir():
        return
    stale = sorted(p for p in s1.glob("*.tif") if p.name not in keep)
    if not stale:
        return
    if not overwrite:
        raise ConfigError(
            f"{s1} holds {len(stale)} acquisitions of another scene (e.g. {stale[0].name}) "
            "that would mix into this one; use an empty --out folder or pass --overwrite"
        )
    for p in stale:
        p.unlink()


@contextlib.contextmanager
def _gpkg_env() -> Iterator[None]:
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def simulate_scene(
    region: str,
    size: int = 512,
    year: int = 2022,
    seed: int = 0,
    out_dir: str | os.PathLike = "scene",
    *,
    looks: float = 4.4,
    revisit_days: int | None = None,
    defects: bool = True,
    texture_sigma_px: float = 1.5,
    block_rows: int = 256,
    workers: int | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Simulate a Sentinel-1 VV/VH season over parcels of a region and write it.

    Writes ``out_dir/s1/<YYYY-MM-DD>.tif`` (float32 linear sigma0, bands VV and VH, UTM,
    10 m, nodata NaN), ``out_dir/parcels.gpkg`` (``parcel_id``, ``crop``) and
    ``out_dir/scene.json`` (all parameters and the seed).

    Args:
        region: korea, spain, france or netherlands.
        size: scene width and height in pixels (10 m).
        year: the season's year.
        seed: random seed.
        out_dir: output folder (created).
        looks: equivalent number of looks of the speckle.
        revisit_days: 6 or 12 per orbit, None for the year's default.
        defects: add a missing swath strip and an acquisition gap.
        texture_sigma_px: texture correlation length, pixels.
        block_rows: rows generated at once.
        workers: threads writing acquisitions in parallel (default: CPU count, at most
            4); the files do not depend on it.
        overwrite: delete acquisitions of another scene found in ``out_dir/s1``
            (otherwise they raise, since they would mix into this scene).
        progress: called with (done, total) acquisitions.

    Returns:
        ``out_dir`` as a Path.

    Raises:
        ConfigError: unknown region, an invalid parameter, or ``out_dir/s1`` holds
            acquisitions of another scene and ``overwrite`` is False.
    """
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.windows import Window

    from cropmap.io.raster import open_writer, profile_for

    try:
        cfg = SceneConfig(
            region=region,
            size=size,
            year=year,
            seed=seed,
            looks=looks,
            revisit_days=revisit_days,
            defects=defects,
            texture_sigma_px=texture_sigma_px,
            block_rows=block_rows,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid simulation parameter: {exc}") from exc
    spec = get_region(cfg.region)
    acqs, gap = acquisitions(
        spec, cfg.year, _rng(cfg.seed, spec.name, 2), cfg.revisit_days, defects=cfg.defects
    )
    out = Path(out_dir)
    _clear_stale(out / "s1", {f"{a.date.isoformat()}.tif" for a in acqs}, overwrite)
    (out / "s1").mkdir(parents=True, exist_ok=True)
    n = cfg.size
    crs = CRS.from_epsg(spec.epsg)
    transform = Affine(PIXEL_M, 0.0, spec.origin[0], 0.0, -PIXEL_M, spec.origin[1])

    land = tessellate(spec, n, _rng(cfg.seed, spec.name, 1))
    doy = np.asarray([a.date.timetuple().tm_yday for a in acqs], dtype=np.float64)
    cells = cell_tables(spec, land.cell_class, doy, _rng(cfg.seed, spec.name, 3))

    renderer = Renderer.build(
        land.labels,
        cells,
        cfg.looks,
        [cfg.seed, zlib.crc32(spec.name.encode())],
        cfg.texture_sigma_px,
        spec.heterogeneity_sd,
        spec.heterogeneity_px,
    )
    profile = profile_for(
        width=n,
        height=n,
        count=2,
        crs=crs,
        transform=transform,
        dtype="float32",
        nodata=float("nan"),
        zlevel=1,
    )

    def _write(ti: int) -> None:
        acq = acqs[ti]
        tags = {
            "ACQUISITION_DATE": acq.date.isoformat(),
            "RELATIVE_ORBIT": acq.relative_orbit,
            "PASS": acq.direction,
            "INCIDENCE_DEG": f"{acq.incidence_deg:.2f}",
            "UNITS": "linear",
            "QUANTITY": "sigma0",
            "SIMULATOR": f"{FORMAT} region={spec.name} seed={cfg.seed}",
        }
        path = out / "s1" / f"{acq.date.isoformat()}.tif"
        with open_writer(path, profile, descriptions=["VV", "VH"], tags=tags) as dst:
            for bi, r0 in enumerate(range(0, n, cfg.block_rows)):
                r1 = min(n, r0 + cfg.block_rows)
                dst.write(renderer.block(ti, acq, r0, r1, bi), window=Window(0, r0, n, r1 - r0))

    n_workers = max(1, min(workers or os.cpu_count() or 1, 4, len(acqs)))
    with ThreadPoolExecutor(n_workers) as pool:
        for done, fut in enumerate(
            as_completed([pool.submit(_write, i) for i in range(len(acqs))])
        ):
            fut.result()
            if progress is not None:
                progress(done + 1, len(acqs))

    declared = declared_classes(spec, land, _rng(cfg.seed, spec.name, 6))
    gdf = polygonize(land.labels, declared, transform, crs)
    with atomic_path(out / "parcels.gpkg", suffix=".gpkg") as tmp, _gpkg_env():
        gdf.to_file(tmp, driver="GPKG", layer="parcels", engine="pyogrio")

    counts = {c: int((gdf["crop"] == c).sum()) for c in CLASSES}
    meta = {
        "format": FORMAT,
        "fingerprint": simulator_fingerprint(spec.name),
        "config": cfg.model_dump(),
        "region": spec.model_dump(mode="json"),
        "crs": f"EPSG:{spec.epsg}",
        "transform": list(transform)[:6],
        "target": spec.target,
        "calendar": spec.calendar,
        "acquisitions": [a.model_dump(mode="json") for a in acqs],
        "gap": [d.isoformat() for d in gap] if gap else None,
        "incidence_reference_deg": INCIDENCE_REF_DEG,
        "incidence_gradient_deg_per_m": INCIDENCE_GRADIENT_DEG_PER_M,
        "parcels_per_class": counts,
        "mislabeled_cells": int((declared != land.cell_class).sum()),
        "pixels_per_class": {
            c: int(v)
            for c, v in zip(
                CLASSES,
                np.bincount(declared[land.labels].ravel(), minlength=len(CLASSES)),
                strict=True,
            )
        },
    }
    atomic_write_text(out / "scene.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    log.info("simulated %s: %d acquisitions, %d parcels -> %s", spec.name, len(acqs), len(gdf), out)
    return out
