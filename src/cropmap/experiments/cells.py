"""One cell of the experiment matrix: train a strategy in a region, test it elsewhere.

A cell is (fine-tune region, features, strategy, seed, number of training patches).
Its model is trained once and tested on every test region paired with the fine-tune
region; the cell's record (metrics per test region, training seconds, trainable
parameters, history) is written to ``cells/<slug>.json`` and the predicted class of each
map patch to ``cells/<slug>.npz``, so a rerun skips it.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.experiments.config import Budget, ExperimentConfig
from cropmap.experiments.regions import RegionData
from cropmap.transfer import get_strategy
from cropmap.transfer.finetune import PretrainedModel, finetune, train_subset

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
class CellContext:
    """What every cell needs: config, prepared regions, pretrained model, map patches."""

    cfg: ExperimentConfig
    regions: Mapping[str, RegionData]
    pretrained: PretrainedModel | None
    work_dir: Path
    map_patches: Mapping[str, str] = field(default_factory=dict)


def evaluate_unet(
    model: Any, ds: Any, classes: list[str], n_periods: int | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metrics over the whole dataset and the predicted class of each patch (by id).

    ``n_periods``: use only the first periods (early season; the rest padded by TIP).
    """
    import torch

    from cropmap.evaluate.evaluate import predict_dataset
    from cropmap.evaluate.metrics import SegmentationMetrics

    metrics = SegmentationMetrics(classes, target_index=1)
    preds: dict[str, np.ndarray] = {}
    for p in predict_dataset(model, ds, batch_size=8, n_periods=n_periods):
        cls = (p.prob > 0.5).astype(np.uint8)
        metrics.update(torch.from_numpy(cls), torch.from_numpy(p.label))
        preds[str(p.patch_id)] = cls
    model.cpu()
    return metrics.compute(), preds


def _n_patches(cfg: ExperimentConfig, key: CellKey) -> Budget:
    cap = cfg.region(key.finetune).max_train_patches
    if cap is None:
        return key.patches
    return cap if key.patches == "all" else min(int(key.patches), cap)


def _run_unet(key: CellKey, ctx: CellContext, out_dir: Path) -> dict[str, Any]:
    from cropmap.data import PatchDataset

    cfg = ctx.cfg
    train = {"progress": "none", **cfg.train}
    if get_strategy(key.strategy).pretrained:  # train.lr is RI's (from scratch)
        train.pop("lr", None)
        if cfg.finetune_lr is not None:
            train["lr"] = cfg.finetune_lr
    res = finetune(
        ctx.pretrained,
        ctx.regions[key.finetune].patches,
        out_dir,
        strategy=key.strategy,
        bands=list(key.features),
        train=train,
        n_patches=_n_patches(cfg, key),
        seed=key.seed,
        expansion=cfg.band_expansion,
        arch=cfg.pretrain.model,
    )
    tests: dict[str, Any] = {}
    preds: dict[str, np.ndarray] = {}
    for test in tests_of(cfg, key):
        ds = PatchDataset(
            ctx.regions[test].patches, "test", bands=list(key.features), norm=res.meta.norm
        )
        metrics, p = evaluate_unet(res.model, ds, list(res.meta.classes))
        tests[test] = metrics
        if test in ctx.map_patches and ctx.map_patches[test] in p:
            preds[test] = p[ctx.map_patches[test]]
    return {
        "tests": tests,
        "train_seconds": res.train_seconds,
        "trainable_params": res.trainable_params,
        "total_params": res.total_params,
        "n_train_patches": res.n_train_patches,
        "history": res.history,
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
    ids = [ids[i] for i in train_subset(ids, _n_patches(cfg, key), key.seed)]
    fill = store.manifest.norm.get("mean", {})
    x, y = _rf_arrays(store, ids, bands)
    X = np.concatenate([pixel_features(xi, bands, fill=fill) for xi in x])
    t0 = time.perf_counter()
    rf = RandomForestBaseline(**{"n_jobs": 2, **cfg.rf, "random_state": key.seed}).fit(X, y.ravel())
    seconds = time.perf_counter() - t0
    n_nodes = int(sum(t.tree_.node_count for t in rf.forest_.estimators_))
    log.info("strategy RF: %s tree nodes fitted on %d pixels", f"{n_nodes:,}", rf.n_samples_fit_)
    tests, preds = {}, {}
    for test in tests_of(cfg, key):
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


def tests_of(cfg: ExperimentConfig, key: CellKey) -> list[str]:
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
