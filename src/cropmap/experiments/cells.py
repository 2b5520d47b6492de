"""One cell of the experiment matrix: train a strategy in a region, test it elsewhere.

A cell is (fine-tune region, features, strategy, seed, number of training patches).
Its model is trained once and tested on every test region paired with the fine-tune
region; the cell's record (metrics per test region, training seconds, trainable
parameters, history) is written to ``cells/<slug>.json`` and the predicted class of each
map patch to ``cells/<slug>.npz``, so a rerun skips it.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.experiments.config import Budget, ExperimentConfig
from cropmap.experiments.regions import RegionData
from cropmap.transfer import (
    apply_phase,
    count_parameters,
    expand_state_dict,
    get_strategy,
    prepare_model,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CellKey:
    """Identity of a cell; ``slug`` names its files."""

    finetune: str
    features: tuple[str, ...]
    strategy: str
    seed: int
    patches: Budget = "all"

    @property
    def feature_label(self) -> str:
        """``VH`` or ``VV,VH`` (the table's header)."""
        return ",".join(self.features)

    @property
    def slug(self) -> str:
        """File-name key, e.g. ``spain_VV-VH_FT_E_s0_all``."""
        return (
            f"{self.finetune}_{'-'.join(self.features)}_{self.strategy}_s{self.seed}_{self.patches}"
        )


@dataclass
class Pretrained:
    """The source model: state dict, bands and normalization (from ``model.json``)."""

    state: dict[str, Any]
    bands: list[str]
    norm: dict[str, dict[str, float]]
    arch: dict[str, Any]
    first_conv: str


@dataclass
class CellContext:
    """What every cell needs: config, prepared regions, pretrained model, map patches."""

    cfg: ExperimentConfig
    regions: Mapping[str, RegionData]
    pretrained: Pretrained | None
    work_dir: Path
    map_patches: Mapping[str, str] = field(default_factory=dict)


def train_subset(ids: Sequence[str], patches: Budget, seed: int, cap: int | None) -> list[int]:
    """Positions of the training patches a cell uses.

    A seeded permutation of the training split, cut to ``patches`` (and to the region's
    ``max_train_patches`` cap): smaller budgets are prefixes of larger ones with the same
    seed, so a label-efficiency curve adds patches rather than redrawing them.
    """
    order = np.random.default_rng(1000 + seed).permutation(len(ids))
    n = len(ids) if patches == "all" else min(int(patches), len(ids))
    if cap is not None:
        n = min(n, cap)
    return sorted(int(i) for i in order[:n])


def merged_norm(
    pretrained: Pretrained | None, store_norm: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Pretrained model's statistics for its bands, the fine-tune store's for new bands."""
    out = {k: dict(v) for k, v in store_norm.items()}
    if pretrained is not None:
        for stat in ("mean", "std"):
            out.setdefault(stat, {}).update(pretrained.norm.get(stat, {}))
    return out


def _budget(train: Mapping[str, Any], fraction: float, lr_factor: float, seed: int) -> Any:
    from cropmap.train import TrainConfig

    cfg = TrainConfig(**{"progress": "none", **train, "seed": seed})
    update: dict[str, Any] = {"lr": cfg.lr * lr_factor}
    if fraction < 1.0:
        update["max_epochs"] = max(1, math.ceil(cfg.max_epochs * fraction))
        if cfg.max_time_s:
            update["max_time_s"] = cfg.max_time_s * fraction
    return cfg.model_copy(update=update)


def _evaluate_unet(model: Any, ds: Any, classes: list[str]) -> tuple[dict, dict[str, np.ndarray]]:
    import torch

    from cropmap.evaluate.metrics import SegmentationMetrics, logits_to_classes

    metrics = SegmentationMetrics(classes, target_index=1)
    preds: dict[str, np.ndarray] = {}
    model.eval()
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=False)
    pos = 0
    with torch.no_grad():
        for x, y in loader:
            cls = logits_to_classes(model(x))
            metrics.update(cls, y)
            for j in range(cls.shape[0]):
                preds[ds.ids[pos + j]] = cls[j].numpy().astype(np.uint8)
            pos += cls.shape[0]
    return metrics.compute(), preds


def _run_unet(key: CellKey, ctx: CellContext, out_dir: Path) -> dict[str, Any]:
    import torch

    from cropmap.data import PatchDataset
    from cropmap.models import ModelMeta, RecurrentUNet, UNetConfig
    from cropmap.train import train_model

    cfg, strategy = ctx.cfg, get_strategy(key.strategy)
    region = ctx.regions[key.finetune]
    pre = ctx.pretrained if strategy.pretrained else None
    if strategy.pretrained and pre is None:
        raise RuntimeError(f"strategy {key.strategy} needs the pretrained model")
    from cropmap.data import PatchStore

    store = PatchStore(region.patches)
    norm = merged_norm(pre, store.manifest.norm)
    bands = list(key.features)
    train_ds = PatchDataset(store, "train", bands=bands, norm=norm)
    subset = train_subset(
        train_ds.ids, key.patches, key.seed, cfg.region(key.finetune).max_train_patches
    )
    train_ds.ids = [train_ds.ids[i] for i in subset]
    val_ds = PatchDataset(store, "val", bands=bands, norm=norm)
    arch = dict(ctx.pretrained.arch if ctx.pretrained else {})
    arch.update(cfg.pretrain.model)
    arch["in_channels"] = len(bands)
    torch.manual_seed(key.seed)
    model = RecurrentUNet(UNetConfig(**arch))
    state = None
    if pre is not None:
        state = expand_state_dict(
            pre.state,
            pre.first_conv,
            pre.bands,
            bands,
            method=cfg.band_expansion.method,
            sources=cfg.band_expansion.sources,
            scale=cfg.band_expansion.scale,
        )
    n_trainable = prepare_model(strategy, model, state)
    m = store.manifest
    meta = ModelMeta(
        bands=bands,
        periods=list(m.periods),
        calendar=m.calendar,
        norm=norm,
        classes=list(m.classes),
        target=m.target,
        region=key.finetune,
    )
    history: list[dict[str, Any]] = []
    seconds = 0.0
    for i, phase in enumerate(strategy.phases):
        if i:
            n_trainable = max(n_trainable, apply_phase(model, phase, label=strategy.name))
        tcfg = _budget(cfg.train, phase.budget_fraction, phase.lr_factor, key.seed)
        result = train_model(model, train_ds, val_ds, tcfg, out_dir / f"phase{i}", meta)
        model = result.model
        seconds += result.elapsed_s
        history += [{**h, "phase": i} for h in result.history]
    tests: dict[str, Any] = {}
    preds: dict[str, np.ndarray] = {}
    for test in _tests_of(cfg, key):
        ds = PatchDataset(ctx.regions[test].patches, "test", bands=bands, norm=norm)
        metrics, p = _evaluate_unet(model, ds, list(m.classes))
        tests[test] = metrics
        if test in ctx.map_patches and ctx.map_patches[test] in p:
            preds[test] = p[ctx.map_patches[test]]
    return {
        "tests": tests,
        "train_seconds": seconds,
        "trainable_params": n_trainable,
        "total_params": count_parameters(model, trainable_only=False),
        "n_train_patches": len(train_ds),
        "history": history,
        "_preds": preds,
    }


def _rf_arrays(store: Any, ids: Sequence[str], bands: list[str]) -> tuple[np.ndarray, np.ndarray]:
    have = [b.upper() for b in store.manifest.bands]
    idx = [have.index(b) for b in bands]
    xs, ys = [], []
    for pid in ids:
        x, y = store.read(pid)
        xs.append(x[:, idx])
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def _run_rf(key: CellKey, ctx: CellContext) -> dict[str, Any]:
    import torch

    from cropmap.data import PatchStore
    from cropmap.evaluate.metrics import SegmentationMetrics
    from cropmap.models import RandomForestBaseline, pixel_features

    cfg = ctx.cfg
    bands = list(key.features)
    store = PatchStore(ctx.regions[key.finetune].patches)
    ids = store.ids("train")
    ids = [
        ids[i]
        for i in train_subset(
            ids, key.patches, key.seed, cfg.region(key.finetune).max_train_patches
        )
    ]
    fill = store.manifest.norm.get("mean", {})
    x, y = _rf_arrays(store, ids, bands)
    X = np.concatenate([pixel_features(xi, bands, fill=fill) for xi in x])
    t0 = time.perf_counter()
    rf = RandomForestBaseline(**{"n_jobs": 2, **cfg.rf, "random_state": key.seed}).fit(X, y.ravel())
    seconds = time.perf_counter() - t0
    n_nodes = int(sum(t.tree_.node_count for t in rf.forest_.estimators_))
    log.info("strategy RF: %s tree nodes fitted on %d pixels", f"{n_nodes:,}", rf.n_samples_fit_)
    tests, preds = {}, {}
    for test in _tests_of(cfg, key):
        tstore = PatchStore(ctx.regions[test].patches)
        metrics = SegmentationMetrics(list(tstore.manifest.classes), target_index=1)
        for pid in tstore.ids("test"):
            xt, yt = _rf_arrays(tstore, [pid], bands)
            cls = rf.predict(pixel_features(xt[0], bands, fill=fill)).reshape(yt[0].shape)
            metrics.update(torch.from_numpy(cls.astype(np.int64)), torch.from_numpy(yt[0]))
            if ctx.map_patches.get(test) == pid:
                preds[test] = cls.astype(np.uint8)
        tests[test] = metrics.compute()
    return {
        "tests": tests,
        "train_seconds": seconds,
        "trainable_params": n_nodes,
        "total_params": n_nodes,
        "n_train_patches": len(ids),
        "history": [],
        "_preds": preds,
    }


def _tests_of(cfg: ExperimentConfig, key: CellKey) -> list[str]:
    """Test regions of a cell: the transfers' (main matrix) or the label study's."""
    le = cfg.label_efficiency
    if key.patches != "all" and le is not None:
        return list(le.test)
    tests: list[str] = []
    for t in cfg.transfers:
        if t.finetune == key.finetune:
            tests += [x for x in t.test if x not in tests]
    if le is not None and le.finetune == key.finetune:
        tests += [x for x in le.test if x not in tests]
    return tests


def run_cell(key: CellKey, ctx: CellContext) -> dict[str, Any]:
    """Train and test one cell; return its record (predictions under ``_preds``).

    Training files go to a scratch folder under ``ctx.work_dir`` that is removed
    afterwards (the record keeps metrics, history and timing; models are not kept).
    """
    scratch = ctx.work_dir / "scratch" / key.slug
    if scratch.exists():
        shutil.rmtree(scratch)
    try:
        if get_strategy(key.strategy).kind == "random_forest":
            rec = _run_rf(key, ctx)
        else:
            rec = _run_unet(key, ctx, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if scratch.parent.is_dir() and not any(scratch.parent.iterdir()):
            scratch.parent.rmdir()
    rec.update(
        strategy=key.strategy,
        finetune=key.finetune,
        features=key.feature_label,
        seed=key.seed,
        patches=key.patches,
    )
    return rec
