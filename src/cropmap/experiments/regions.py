"""Prepare a region's data for an experiment: scene -> composite -> labels -> patches.

Every step writes real-format files under ``DIR/data/<region>/`` with the public API
(:func:`cropmap.simulate.simulate_scene`, :func:`cropmap.sar.composite_folder`,
:func:`cropmap.data.labels.rasterize_parcels`, :func:`cropmap.data.patches.build_patches`),
so the experiment exercises exactly what a user runs. A region is prepared once: a
``region.json`` holding the spec it was built from marks it done, and a changed spec
rebuilds it.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cropmap.errors import ConfigError
from cropmap.experiments.cache import simulator_hash
from cropmap.experiments.config import ExperimentConfig
from cropmap.io.atomic import atomic_write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegionData:
    """Files of one prepared region.

    Attributes:
        name: region key in the config.
        root: ``DIR/data/<name>``.
        composite: composite GeoTIFF (T x C bands, dB).
        labels: uint8 label raster on the composite grid.
        patches: patch store folder.
        target: target crop value.
    """

    name: str
    root: Path
    composite: Path
    labels: Path
    patches: Path
    target: str


def region_fingerprint(cfg: ExperimentConfig, name: str) -> dict[str, Any]:
    """What a region's prepared data depend on (its ``region.json``; cache keys use it)."""
    spec = cfg.region(name)
    fp: dict[str, Any] = {
        "spec": spec.model_dump(mode="json"),
        "patch_size": cfg.patch_size,
        "calendar": cfg.calendar_of(name),
        "target": cfg.target_of(name),
    }
    if spec.s1_dir is None:
        fp["simulator"] = simulator_hash(spec.simulate or name)
    return fp


def prepare_region(cfg: ExperimentConfig, name: str, data_dir: str | Path) -> RegionData:
    """Build (or reuse) the composite, labels and patch store of region ``name``.

    Args:
        cfg: the experiment (region spec, patch size).
        name: region key.
        data_dir: ``DIR/data``.

    Returns:
        The region's files.
    """
    from cropmap.data.labels import rasterize_parcels
    from cropmap.data.patches import build_patches
    from cropmap.sar import composite_folder

    spec = cfg.region(name)
    root = Path(data_dir) / name
    target = cfg.target_of(name)
    out = RegionData(
        name=name,
        root=root,
        composite=root / "composite.tif",
        labels=root / "labels.tif",
        patches=root / "patches",
        target=target,
    )
    marker = root / "region.json"
    fingerprint = region_fingerprint(cfg, name)
    if marker.is_file() and json.loads(marker.read_text()) == fingerprint:
        log.info("region %s: reusing %s", name, root)
        return out
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if spec.s1_dir is None:
        from cropmap.simulate import simulate_scene

        scene = root / "scene"
        simulate_scene(spec.simulate or name, spec.size, spec.year, spec.seed, scene)
        s1_dir, parcels, units = scene / "s1", scene / "parcels.gpkg", "linear"
    else:
        if spec.parcels is None:  # ExperimentConfig refuses s1_dir without parcels
            raise ConfigError(f"region {name!r}: s1_dir needs parcels")
        s1_dir, parcels, units = Path(spec.s1_dir), Path(spec.parcels), spec.units
    composite_folder(s1_dir, cfg.calendar_of(name), out.composite, year=spec.year, units=units)
    if spec.s1_dir is None and not spec.keep_scene:
        shutil.rmtree(s1_dir)  # re-made identically from the seed if needed
    rasterize_parcels(
        parcels, out.composite, out.labels, class_column=spec.class_column, mapping={target: 1}
    )
    build_patches(
        out.composite,
        out.labels,
        out.patches,
        size=cfg.patch_size,
        split=spec.split,
        fractions=tuple(spec.fractions),
        block=spec.block,
        seed=spec.seed,
        region=name,
        target=target,
        classes=["other", target],
        overwrite=True,
    )
    atomic_write_text(marker, json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")
    return out
