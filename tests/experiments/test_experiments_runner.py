"""A 2-cell experiment end to end: outputs, caching and resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cropmap.evaluate.findings import format_paired
from cropmap.experiments.cells import CellKey
from cropmap.experiments.runner import plan_cells, run_experiment


def test_plan_cells_counts(tiny_config):
    keys = plan_cells(tiny_config)
    assert [k.slug for k in keys] == ["spain_VV-VH_RF_s0_all", "spain_VV-VH_FT_E_s0_all"]
    le = type(tiny_config).model_validate(
        {
            **tiny_config.model_dump(),
            "label_efficiency": {
                "finetune": "spain",
                "test": ["spain"],
                "bands": ["VV", "VH"],
                "budgets": [1, "all"],
                "strategies": ["RF", "FT"],
            },
        }
    )
    slugs = [k.slug for k in plan_cells(le)]
    assert len(slugs) == len(set(slugs)) == 5  # 'all' cells shared with the main matrix


@pytest.mark.slow
def test_two_cell_experiment_resumes(tiny_config, tmp_path):
    out = tmp_path / "run"
    first = run_experiment(tiny_config, out)
    assert (first.cells_run, first.cells_skipped) == (2, 0)
    for name in ("results.csv", "results.md", "report.html", "maps_spain.png", "config.yaml"):
        assert (out / name).is_file(), name
    rows = first.rows
    assert {r["strategy"] for r in rows} == {"SRC", "RF", "FT_E"} and len(rows) == 3
    src = next(r for r in rows if r["strategy"] == "SRC")
    assert (src["finetune"], src["test"], src["features"]) == ("korea", "korea", "VH")
    iou_table = (out / "results.md").read_text().split("## f1")[0]
    assert "| SRC |" not in iou_table  # korea -> korea is no column of the poster's table
    assert "source model" in (out / "results.md").read_text()
    rf, fte = (next(r["iou"] for r in rows if r["strategy"] == s) for s in ("RF", "FT_E"))
    findings = (out / "findings.md").read_text()
    assert f"| FT_E − RF | {format_paired([fte - rf])} |" in findings  # seed-wise difference
    for r in rows:
        assert 0.0 <= r["iou"] <= 1.0 and r["train_seconds"] > 0 and r["trainable_params"] > 0
    ft_e = next(r for r in rows if r["strategy"] == "FT_E")
    rec = json.loads((out / "cells" / "spain_VV-VH_FT_E_s0_all.json").read_text())
    assert rec["trainable_params"] < rec["total_params"]  # decoder frozen
    md = (out / "results.md").read_text()
    assert "| test in | Spain |" in md and f"{ft_e['iou']:.2f}" in md
    against = md.split("## against the poster")[1].split("##")[0]  # Spain VV,VH: RF .90
    assert f"| RF | {rf:.2f} / 0.90 |" in against and f"| FT_E | {fte:.2f} / 0.90 |" in against
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "torch" in html
    with np.load(out / "cells" / "spain_VV-VH_RF_s0_all.npz") as z:
        assert z["spain"].shape == (64, 64)

    # rerun: both cells and the pretrained model are reused, nothing is retrained
    weights = out / "pretrained" / "weights.safetensors"
    mtime = weights.stat().st_mtime_ns
    (out / "cells" / "spain_VV-VH_RF_s0_all.json").unlink()  # one cell "interrupted"
    second = run_experiment(tiny_config, out)
    assert (second.cells_run, second.cells_skipped) == (1, 1)
    assert weights.stat().st_mtime_ns == mtime
    third = run_experiment(tiny_config, out)
    assert (third.cells_run, third.cells_skipped) == (0, 2)
    assert third.timings["pretrain"] < 1.0
    assert [r["iou"] for r in third.rows if r["strategy"] == "FT_E"] == [ft_e["iou"]]
    assert CellKey("spain", ("VV", "VH"), "FT_E", 0).slug == "spain_VV-VH_FT_E_s0_all"

    # the caches are keyed on what produced them: a changed forest reruns only RF ...
    def changed(**kw):
        return type(tiny_config).model_validate({**tiny_config.model_dump(), **kw})

    rf_cfg = changed(rf={**tiny_config.rf, "n_estimators": 6})
    fourth = run_experiment(rf_cfg, out)
    assert (fourth.cells_run, fourth.cells_skipped) == (1, 1)
    assert weights.stat().st_mtime_ns == mtime
    # ... and a changed pretraining retrains the source model and reruns FT_E, not RF
    pre = {**tiny_config.pretrain.model_dump(), "train": {"max_epochs": 2, "augment": None}}
    pre_cfg = changed(rf=rf_cfg.rf, pretrain=pre)
    fifth = run_experiment(pre_cfg, out)
    assert (fifth.cells_run, fifth.cells_skipped) == (1, 1)
    assert weights.stat().st_mtime_ns != mtime
    assert json.loads((out / "cells" / "spain_VV-VH_FT_E_s0_all.json").read_text())["history"]

    # interrupted after one new cell, a rerun finishes only what is missing
    more = type(pre_cfg).model_validate({**pre_cfg.model_dump(), "seeds": [0, 1]})

    def interrupt(stage: str, done: int, total: int, desc: str) -> None:
        if stage == "cells" and done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(more, out, progress=interrupt)
    resumed = run_experiment(more, out)
    assert (resumed.cells_run, resumed.cells_skipped) == (1, 3)
    assert len([r for r in resumed.rows if r["strategy"] != "SRC"]) == 4
