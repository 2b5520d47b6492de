"""Diagnostic of the poster study (docs/transfer.md): FT, VH, seed 0, as in the preset, with
(a) the preset's recipe, (b) BN statistics re-estimated on target full-season batches,
(c) target data standardised with the target store's own statistics, (d) both."""
import json, sys, time, copy
from pathlib import Path
from cropmap.data import PatchDataset, PatchStore
from cropmap.transfer.finetune import finetune, PretrainedModel
from cropmap.experiments.cells import evaluate_unet

# usage: python finetune_bn_diagnostic.py RUN_DIR [REGION] [VARIANTS], e.g. runs/poster france b,c
RUN = Path(sys.argv[1])
region = sys.argv[2] if len(sys.argv) > 2 else "france"
variants = sys.argv[3].split(",") if len(sys.argv) > 3 else ["a", "b", "c", "d"]
pre = PretrainedModel.load(RUN / "pretrained")
patches = RUN / "data" / region / "patches"
store = PatchStore(patches)
base = {"progress": "none", "max_epochs": 15, "patience": 4, "lr": 1e-4, "batch_size": 4,
        "crop_size": 128, "cbt": False, "precision": "bf16-mixed", "max_time_s": 400}
cap = {"france": 27, "netherlands": 36}.get(region)
for v in variants:
    p = copy.copy(pre)
    train = dict(base)
    if v in "bd":
        train["recalibrate_bn"] = 4
    if v in "cd":
        p = PretrainedModel(pre.state, pre.bands, dict(store.manifest.norm), pre.arch)
    t0 = time.time()
    res = finetune(p, patches,
                   RUN / "diagnostic" / f"{region}_{v}", strategy="FT", bands=["VH"], train=train,
                   n_patches=cap or "all", seed=0, arch={"bn_momentum": 0.1})
    ds = PatchDataset(patches, "test", bands=["VH"], norm=res.meta.norm)
    m, _ = evaluate_unet(res.model, ds, list(res.meta.classes))
    vals = [round(h.get("val_iou") or 0, 3) for h in res.history]
    print(json.dumps({"region": region, "variant": v, "test_iou": round(float(m["iou"]), 4),
                      "val": vals, "seconds": round(time.time() - t0)}), flush=True)
