"""The source model on its own region: the ``SRC`` row and the early-season curve.

``SRC`` is the pretrained model tested on the pretraining region's test split (strategy
``SRC``, fine-tune and test = that region), the reference the poster's transfers start
from. The early-season curve tests it on the first ``k = 1..T`` periods only, the later
ones filled by time-inversed padding (what chronological batch training prepares the
model for): how early in the season the map is usable. Each point is measured twice:
with the model's own batch-norm statistics, and with them re-estimated on the first
``k`` periods of a few training batches (TIP-padded like the test input, labels
unused): statistics estimated on full-season batches do not fit a padded short series,
and the second curve shows what the network itself can do with ``k`` periods.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from cropmap.experiments.cache import digest
from cropmap.experiments.cells import evaluate_unet
from cropmap.experiments.config import ExperimentConfig
from cropmap.experiments.regions import RegionData
from cropmap.io.atomic import atomic_write_text

log = logging.getLogger(__name__)

#: Strategy name of the source model's row in results.csv.
SOURCE_STRATEGY = "SRC"


#: Training batches (of 4 patches) whose first k periods re-estimate the batch-norm
#: statistics of the early-season curve's second row.
EARLY_BN_BATCHES = 4


def early_season_batchnorm(model: Any, batches: list[tuple[Any, Any]], k: int, padding: str) -> Any:
    """A copy of ``model`` whose batch-norm statistics are re-estimated on the first ``k``
    periods of ``batches`` (full-season ``(x, y)`` pairs, ``x`` ``(B, T, C, H, W)``),
    padded back to ``T`` with ``padding`` as the model pads its input; labels unused."""
    import copy

    from cropmap.models.batchnorm import recalibrate_batchnorm
    from cropmap.models.time_padding import pad_time

    adapted = copy.deepcopy(model)
    padded = [(pad_time(x[:, :k], x.shape[1], padding), y) for x, y in batches]
    recalibrate_batchnorm(adapted, padded, trainable_only=False)
    return adapted.eval()


def first_batches(dataset: Any, n: int = EARLY_BN_BATCHES) -> list[tuple[Any, Any]]:
    """The first ``n`` batches of 4 patches of ``dataset``, in order, read once."""
    import itertools

    import torch

    loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=False)
    return list(itertools.islice(loader, n))


def source_record(
    cfg: ExperimentConfig, region: RegionData, model_dir: Path, cells_dir: Path, pre_key: str
) -> dict[str, Any]:
    """Test the source model (cached in ``cells_dir/SRC_<features>.json`` under a key).

    Args:
        cfg: the experiment (``early_season`` adds the per-period curve).
        region: the pretraining region's prepared data.
        model_dir: the source model directory.
        cells_dir: where cell records live.
        pre_key: the pretrained model's cache key.

    Returns:
        A cell-like record (``tests``, ``strategy`` ... ) plus ``early_season``: a list of
        ``{"n_periods": k, "iou": ...}`` (empty unless ``cfg.early_season``).
    """
    from cropmap.data import PatchDataset, PatchStore
    from cropmap.models import load_model
    from cropmap.models.recurrent_unet import count_parameters

    feats = list(cfg.pretrain.bands)
    path = cells_dir / f"{SOURCE_STRATEGY}_{'-'.join(feats)}.json"
    key = digest(
        {"pretrained": pre_key, "early_season": cfg.early_season, "early_bn": EARLY_BN_BATCHES}
    )
    if path.is_file():
        rec = json.loads(path.read_text())
        if rec.get("cache_key") == key:
            return rec
    model, meta = load_model(model_dir)
    ds = PatchDataset(region.patches, "test", bands=list(meta.bands), norm=meta.norm)
    metrics, _ = evaluate_unet(model, ds, list(meta.classes))
    early: list[dict[str, Any]] = []
    if cfg.early_season:
        train = PatchDataset(region.patches, "train", bands=list(meta.bands), norm=meta.norm)
        batches = first_batches(train)
        for k in range(1, len(meta.periods) + 1):
            m, _ = evaluate_unet(model, ds, list(meta.classes), n_periods=k)
            adapted = early_season_batchnorm(model, batches, k, meta.time_padding)
            m_bn, _ = evaluate_unet(adapted, ds, list(meta.classes), n_periods=k)
            early.append(
                {
                    "n_periods": k,
                    "period": meta.periods[k - 1],
                    "iou": m["iou"],
                    "iou_bn": m_bn["iou"],
                }
            )
            log.info(
                "source model, first %d period(s): IoU %.4f (%.4f with k-period BN statistics)",
                k,
                m["iou"],
                m_bn["iou"],
            )
    seconds = (
        json.loads((model_dir / "train_seconds.json").read_text())
        if (model_dir / "train_seconds.json").is_file()
        else {"seconds": float("nan")}
    )
    rec = {
        "strategy": SOURCE_STRATEGY,
        "finetune": region.name,
        "features": ",".join(feats),
        "seed": int(cfg.pretrain.train.get("seed", 0)),
        "patches": "all",
        "n_train_patches": len(PatchStore(region.patches).ids("train")),
        "tests": {region.name: metrics},
        "train_seconds": float(seconds["seconds"]),
        "trainable_params": count_parameters(model),
        "history": list(meta.history or []),
        "early_season": early,
        "cache_key": key,
    }
    atomic_write_text(path, json.dumps(rec, indent=1, default=str))
    return rec


def early_season_table(rec: dict[str, Any]) -> str:
    """Markdown: source-model IoU against the number of periods given (empty if none)."""
    rows = rec.get("early_season") or []
    if not rows:
        return ""
    lines = [
        "| periods given | " + " | ".join(str(r["n_periods"]) for r in rows) + " |",
        "|---|" + "---|" * len(rows),
        "| last period | " + " | ".join(str(r["period"]) for r in rows) + " |",
        "| IoU | " + " | ".join(f"{r['iou']:.2f}" for r in rows) + " |",
    ]
    if all("iou_bn" in r for r in rows):
        lines.append(
            "| IoU, BN statistics of k periods | "
            + " | ".join(f"{r['iou_bn']:.2f}" for r in rows)
            + " |"
        )
    return "\n".join(lines) + "\n"
