"""Run an experiment: prepare regions, pretrain once, run every cell, write the outputs.

``run_experiment(cfg, out_dir)`` writes into ``out_dir``:

- ``config.yaml``: the resolved configuration;
- ``data/<region>/``: composite, labels and patch store of each region (cached);
- ``pretrained/``: the source model directory (cached: a rerun does not retrain);
- ``cells/<slug>.json`` (+ ``.npz`` map predictions): one per finished cell (a rerun
  skips them, so an interrupted run resumes);
- ``results.csv``, ``results.md`` (poster layout, mean ± std over seeds),
  ``label_efficiency.md``/``.png``, ``maps_<test>.png``, ``learning_curves.png`` and
  ``report.html`` (self-contained).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cropmap.experiments.cache import code_fields, digest
from cropmap.experiments.cells import CellContext, CellKey, run_cell
from cropmap.experiments.config import ExperimentConfig
from cropmap.experiments.regions import RegionData, prepare_region, region_fingerprint
from cropmap.experiments.source import source_record
from cropmap.io.atomic import atomic_path, atomic_write_text
from cropmap.transfer import get_strategy
from cropmap.transfer.finetune import PretrainedModel

log = logging.getLogger(__name__)

#: ``progress(stage, done, total, description)`` callback of the runner.
ProgressFn = Callable[[str, int, int, str], None]


@dataclass
class ExperimentResult:
    """Where the outputs are and how long each stage took (seconds)."""

    out_dir: Path
    rows: list[dict[str, Any]]
    timings: dict[str, float]
    cells_run: int
    cells_skipped: int


def plan_cells(cfg: ExperimentConfig) -> list[CellKey]:
    """Every cell of the matrix (main table first, then the label-efficiency study)."""
    keys: list[CellKey] = []
    finetunes = list(dict.fromkeys(t.finetune for t in cfg.transfers))
    for seed in cfg.seeds:  # seed outermost: a stopped run has whole tables for early seeds
        for ft in finetunes:
            for feats in cfg.bands:
                for strat in cfg.strategies:
                    keys.append(CellKey(ft, tuple(feats), strat, seed))
    le = cfg.label_efficiency
    if le is not None:
        for budget in le.budgets:
            for strat in le.strategies:
                for seed in cfg.seeds:
                    keys.append(CellKey(le.finetune, tuple(le.bands), strat, seed, budget))
    return list(dict.fromkeys(keys))


def _used_regions(cfg: ExperimentConfig) -> list[str]:
    names = [cfg.pretrain.region]
    for t in cfg.transfers:
        names += [t.finetune, *t.test]
    if cfg.label_efficiency:
        names += [cfg.label_efficiency.finetune, *cfg.label_efficiency.test]
    return list(dict.fromkeys(names))


def pretrain_key(cfg: ExperimentConfig) -> str:
    """Hash of what the source model depends on (spec, data, code)."""
    p = cfg.pretrain
    return digest(
        {
            "train": p.train,
            "model": p.model,
            "features": p.bands,  # the cache key keeps its old field name
            "data": region_fingerprint(cfg, p.region),
            **code_fields(),
        }
    )


def pretrain(cfg: ExperimentConfig, region: RegionData, out_dir: Path) -> PretrainedModel:
    """Train the source model into ``out_dir``, or reuse it when its cache key matches.

    ``out_dir/cache_key.json`` is written before training starts; an interrupted
    pretraining with the same key resumes from its last Lightning checkpoint, and a
    different key (a changed config, simulator or code version) trains afresh.
    """
    from cropmap.models.registry import META_FILE

    if cfg.pretrain.model_dir:
        return PretrainedModel.load(cfg.pretrain.model_dir)
    key = {"key": pretrain_key(cfg)}
    key_file = out_dir / "cache_key.json"
    same = key_file.is_file() and json.loads(key_file.read_text()) == key
    if same and (out_dir / META_FILE).is_file():
        return PretrainedModel.load(out_dir)
    resume = same and (out_dir / "checkpoints" / "last.ckpt").is_file()
    if not same and out_dir.exists():
        log.info("pretrained model in %s is stale (config, data or code changed)", out_dir)
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(key_file, json.dumps(key) + "\n")
    seconds = _train_source(cfg, region, out_dir, resume)
    atomic_write_text(out_dir / "train_seconds.json", json.dumps({"seconds": seconds}) + "\n")
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)  # optimizer state: large
    return PretrainedModel.load(out_dir)


def _train_source(cfg: ExperimentConfig, region: RegionData, out_dir: Path, resume: bool) -> float:
    """Train the source model; return the wall seconds of this (possibly resumed) session."""
    import torch

    from cropmap.data import PatchDataset, PatchStore
    from cropmap.models import ModelMeta, RecurrentUNet, UNetConfig
    from cropmap.train import TrainConfig, train_model

    store = PatchStore(region.patches)
    bands = list(cfg.pretrain.bands)
    arch = {**cfg.pretrain.model, "in_channels": len(bands)}
    tcfg = TrainConfig(**{"progress": "none", **cfg.pretrain.train, "resume": resume})
    torch.manual_seed(tcfg.seed)
    m = store.manifest
    meta = ModelMeta(
        bands=bands,
        periods=list(m.periods),
        calendar=m.calendar,
        norm=m.norm,
        classes=list(m.classes),
        target=m.target,
        region=region.name,
    )
    res = train_model(
        RecurrentUNet(UNetConfig(**arch)),
        PatchDataset(store, "train", bands=bands),
        PatchDataset(store, "val", bands=bands),
        tcfg,
        out_dir,
        meta,
    )
    return res.elapsed_s


def cell_cache_key(cfg: ExperimentConfig, key: CellKey) -> str:
    """Hash of what one cell's record depends on."""
    from cropmap.experiments.cells import tests_of

    strat = get_strategy(key.strategy)
    doc: dict[str, Any] = {
        "cell": key.slug,
        "data": {r: region_fingerprint(cfg, r) for r in [key.finetune, *tests_of(cfg, key)]},
        "max_train_patches": cfg.region(key.finetune).max_train_patches,
        **code_fields(),
    }
    if strat.kind == "random_forest":
        doc["rf"] = cfg.rf
    else:
        doc.update(train=cfg.train, arch=cfg.pretrain.model)
        if strat.pretrained:
            doc.update(
                pretrained=pretrain_key(cfg) if not cfg.pretrain.model_dir else None,
                model_dir=str(cfg.pretrain.model_dir or ""),
                finetune_lr=cfg.finetune_lr,
                band_expansion=cfg.band_expansion.model_dump(mode="json"),
            )
    return digest(doc)


def _cell_done(cells_dir: Path, key: CellKey, cache_key: str) -> bool:
    path = cells_dir / f"{key.slug}.json"
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("cache_key") == cache_key
    except json.JSONDecodeError:
        return False


def _pick_map_patch(region: RegionData) -> str | None:
    """The test patch shown in the maps: most mixed (target share nearest 0.5), valid."""
    from cropmap.data import PatchStore

    store = PatchStore(region.patches)
    infos = [store.info(i) for i in store.ids("test")]
    if not infos:
        return None
    best = min(infos, key=lambda p: (abs(p.target_fraction - 0.5) - p.valid_fraction, p.id))
    return best.id


def _rows_of(rec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "strategy": rec["strategy"],
            "finetune": rec["finetune"],
            "test": test,
            "features": rec["features"],
            "seed": rec["seed"],
            "patches": rec["patches"],
            "n_train_patches": rec["n_train_patches"],
            "iou": m["iou"],
            "f1": m["f1"],
            "kappa": m["kappa"],
            "oa": m["oa"],
            "train_seconds": rec["train_seconds"],
            "trainable_params": rec["trainable_params"],
        }
        for test, m in rec["tests"].items()
    ]


def _save_cell(cells_dir: Path, key: CellKey, rec: dict[str, Any]) -> None:
    preds = rec.pop("_preds", {})
    if preds:
        with atomic_path(cells_dir / f"{key.slug}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **preds)
    atomic_write_text(cells_dir / f"{key.slug}.json", json.dumps(rec, indent=1, default=str))


def run_experiment(
    cfg: ExperimentConfig, out_dir: str | Path, progress: ProgressFn | None = None
) -> ExperimentResult:
    """Run (or resume) the whole experiment and write every output into ``out_dir``.

    Args:
        cfg: the experiment.
        out_dir: run directory (created; reused when it exists).
        progress: optional callback ``(stage, done, total, description)``.

    Returns:
        :class:`ExperimentResult` with all result rows and stage timings.
    """
    from cropmap.experiments.outputs import write_outputs

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        out / "config.yaml", yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
    )
    note = progress or (lambda *a: None)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}

    t0, c0 = time.perf_counter(), time.process_time()
    names = _used_regions(cfg)
    regions: dict[str, RegionData] = {}
    for i, name in enumerate(names):
        note("data", i, len(names), f"preparing region {name}")
        regions[name] = prepare_region(cfg, name, out / "data")
    note("data", len(names), len(names), "regions ready")
    timings["data"], cpu["data"] = time.perf_counter() - t0, time.process_time() - c0

    keys = plan_cells(cfg)
    cells_dir = out / "cells"
    cells_dir.mkdir(exist_ok=True)
    cache_keys = {k: cell_cache_key(cfg, k) for k in keys}
    todo = [k for k in keys if not _cell_done(cells_dir, k, cache_keys[k])]
    needs_pre = cfg.evaluate_source or any(get_strategy(k.strategy).pretrained for k in todo)

    t0, c0 = time.perf_counter(), time.process_time()
    pre = None
    if needs_pre or cfg.pretrain.model_dir:
        note(
            "pretrain",
            0,
            1,
            f"pretraining on {cfg.pretrain.region} ({','.join(cfg.pretrain.bands)})",
        )
        pre = pretrain(cfg, regions[cfg.pretrain.region], out / "pretrained")
        note("pretrain", 1, 1, "pretrained model ready")
    timings["pretrain"], cpu["pretrain"] = time.perf_counter() - t0, time.process_time() - c0

    maps = {n: p for n in names if (p := _pick_map_patch(regions[n])) is not None}
    ctx = CellContext(cfg, regions, pre, out, maps)
    t0, c0 = time.perf_counter(), time.process_time()
    for i, key in enumerate(todo):
        note(
            "cells",
            i,
            len(todo),
            f"{key.finetune} {key.feature_label} {key.strategy} seed {key.seed} "
            f"patches {key.patches}",
        )
        w1, c1 = time.perf_counter(), time.process_time()
        rec = run_cell(key, ctx)
        rec["cell_seconds"] = time.perf_counter() - w1
        rec["cell_cpu_seconds"] = time.process_time() - c1
        rec["cache_key"] = cache_keys[key]
        _save_cell(cells_dir, key, rec)
    note("cells", len(todo), len(todo), "all cells done")
    timings["cells"], cpu["cells"] = time.perf_counter() - t0, time.process_time() - c0

    rows: list[dict[str, Any]] = []
    source = None
    if cfg.evaluate_source and pre is not None:
        note("source", 0, 1, f"testing the source model on {cfg.pretrain.region}")
        model_dir = Path(cfg.pretrain.model_dir or out / "pretrained")
        pre_key = str(cfg.pretrain.model_dir) if cfg.pretrain.model_dir else pretrain_key(cfg)
        source = source_record(cfg, regions[cfg.pretrain.region], model_dir, cells_dir, pre_key)
        rows += _rows_of(source)
        note("source", 1, 1, "source model tested")
    for key in keys:
        rows += _rows_of(json.loads((cells_dir / f"{key.slug}.json").read_text()))
    stage_times = {"wall_seconds": timings, "cpu_seconds": cpu}
    atomic_write_text(out / "timings.json", json.dumps(stage_times, indent=2) + "\n")
    t0, c0 = time.perf_counter(), time.process_time()
    write_outputs(cfg, out, rows, keys, regions, maps, source=source)
    timings["outputs"], cpu["outputs"] = time.perf_counter() - t0, time.process_time() - c0
    atomic_write_text(out / "timings.json", json.dumps(stage_times, indent=2) + "\n")
    return ExperimentResult(out, rows, timings, len(todo), len(keys) - len(todo))
