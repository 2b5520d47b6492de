"""Write an experiment's outputs from its result rows: tables, figures and the report."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from cropmap.evaluate.findings import (
    POSTER_STRATEGY_CLAIMS,
    band_differences,
    strategy_differences,
)
from cropmap.evaluate.maps import MapRow, maps_figure, save_figure
from cropmap.evaluate.poster import POSTER_COLUMNS, POSTER_IOU
from cropmap.evaluate.report import Section, write_report
from cropmap.evaluate.tables import (
    RESULT_COLUMNS,
    format_mean_std,
    label_efficiency_table,
    poster_table,
    rows_to_csv,
)
from cropmap.experiments.cells import CellKey
from cropmap.experiments.config import ExperimentConfig
from cropmap.experiments.regions import RegionData
from cropmap.experiments.source import early_season_table
from cropmap.io.atomic import atomic_write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The strategies of the poster's maps figure, in its order.
MAP_STRATEGIES = ("RF", "RI", "FT", "FT_E")
CSV_COLUMNS = (*RESULT_COLUMNS[:6], "n_train_patches", *RESULT_COLUMNS[6:])


def _columns(cfg: ExperimentConfig) -> list[tuple[str, str, str]]:
    return [
        (t.finetune, test, ",".join(f)) for t in cfg.transfers for test in t.test for f in cfg.bands
    ]


def _findings_md(cfg: ExperimentConfig, rows: list[dict[str, Any]]) -> str:
    """The poster's claims as paired per-seed differences (empty when none applies)."""
    have = set(cfg.strategies)
    claims = [(a, b) for a, b in POSTER_STRATEGY_CLAIMS if a in have and b in have]
    parts = []
    if claims:
        parts.append(
            "Each cell: mean ± std over seeds of the paired difference A − B of IoU, and "
            "(k/n) the seeds where A >= B.\n\n"
            + strategy_differences(rows, claims, columns=_columns(cfg))
        )
    feats = [",".join(f) for f in cfg.bands]
    if "VH" in feats and "VV,VH" in feats:
        pairs = list(dict.fromkeys((f, t) for f, t, _ in _columns(cfg)))
        nets = [s for s in cfg.strategies if s != "ZS"]
        parts.append(band_differences(rows, nets, pairs=pairs))
    return "\n".join(parts)


def _map_rows(
    cfg: ExperimentConfig,
    out: Path,
    test: str,
    region: RegionData,
    pid: str,
    rows: Sequence[Mapping[str, Any]],
) -> list[MapRow]:
    from cropmap.data import PatchStore

    store = PatchStore(region.patches)
    x, y = store.read(pid)
    vh = x[:, [b.upper() for b in store.manifest.bands].index("VH")]
    feats = cfg.map_bands or cfg.bands[0]
    out_rows = []
    for t in cfg.transfers:
        if test not in t.test:
            continue
        preds, scores = {}, {}
        for s in MAP_STRATEGIES:
            for seed in cfg.seeds[:1]:
                key = CellKey(t.finetune, tuple(feats), s, seed)
                npz = out / "cells" / f"{key.slug}.npz"
                if npz.is_file():
                    with np.load(npz) as z:
                        if test in z.files:
                            preds[s] = z[test]
                for r in rows:
                    if (
                        r["strategy"],
                        r["finetune"],
                        r["test"],
                        r["features"],
                        r["patches"],
                        r["seed"],
                    ) == (s, t.finetune, test, key.feature_label, "all", seed):
                        scores[s] = float(r["iou"])
        label = f"{t.finetune} -> {test}, {','.join(feats)}"
        out_rows.append(MapRow(label, vh, y, preds, scores))
    return out_rows


def _label_efficiency_plot(rows: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """Write the label-efficiency figure (None when there are no rows)."""
    return save_figure(label_efficiency_figure(rows), path) if rows else None


def label_efficiency_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """IoU against the number of fine-tuning patches, one panel per test region.

    The x axis is logarithmic with one tick per budget, labelled with the patch count
    (the whole split as ``all (n)``).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    tests = list(dict.fromkeys(r["test"] for r in rows))
    fig = Figure(figsize=(4.2 * len(tests), 3.4), dpi=80)
    axes = fig.subplots(1, len(tests), squeeze=False)[0]
    for ax, test in zip(axes, tests, strict=True):
        ticks: dict[int, str] = {}
        for s in dict.fromkeys(r["strategy"] for r in rows):
            pts: dict[int, list[float]] = {}
            for r in rows:
                if r["test"] == test and r["strategy"] == s:
                    n = int(r["n_train_patches"])
                    pts.setdefault(n, []).append(float(r["iou"]))
                    ticks[n] = f"all\n({n})" if str(r["patches"]) == "all" else str(n)
            xs = sorted(pts)
            ax.errorbar(
                xs,
                [np.mean(pts[x]) for x in xs],
                yerr=[np.std(pts[x]) for x in xs],
                marker="o",
                capsize=3,
                label=s,
            )
        ax.set_xscale("log")
        # one tick per budget, in plain numbers ("all" names the whole split), no 2x10^0
        ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
        ax.xaxis.set_major_formatter(FixedFormatter([ticks[t] for t in sorted(ticks)]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("fine-tuning patches")
        ax.set_ylabel("IoU (target)")
        ax.set_ylim(0, 1)
        ax.set_title(f"test in {test}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _learning_curves(cfg: ExperimentConfig, out: Path, keys: Sequence[CellKey]) -> Path | None:
    """Validation IoU per epoch of each fine-tuning cell (all patches, first seed)."""
    from matplotlib.figure import Figure

    groups: dict[tuple[str, str], list[tuple[str, list[dict]]]] = {}
    for k in keys:
        if k.patches != "all" or k.seed != cfg.seeds[0] or k.strategy == "RF":
            continue
        rec = json.loads((out / "cells" / f"{k.slug}.json").read_text())
        hist = [h for h in rec.get("history", []) if "val_iou" in h]
        groups.setdefault((k.finetune, k.feature_label), []).append((k.strategy, hist))
    if not groups:
        return None
    rows_ft = list(dict.fromkeys(ft for ft, _ in groups))
    cols_f = list(dict.fromkeys(f for _, f in groups))
    fig = Figure(figsize=(3.6 * len(cols_f), 2.6 * len(rows_ft)), dpi=80)
    axes = fig.subplots(len(rows_ft), len(cols_f), squeeze=False)
    for (ft, feats), curves in groups.items():
        ax = axes[rows_ft.index(ft), cols_f.index(feats)]
        for strat, hist in curves:
            ax.plot(range(1, len(hist) + 1), [h["val_iou"] for h in hist], marker=".", label=strat)
        ax.set_title(f"{ft}, {feats}", fontsize=9)
        ax.set_xlabel("epoch (all phases)")
        ax.set_ylabel("val IoU")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out / "learning_curves.png")


def _timing_table(rows: Sequence[Mapping[str, Any]]) -> str:
    seen: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if r["patches"] == "all":
            seen.setdefault(r["strategy"], []).append(r)
    lines = ["| strategy | trainable parameters | training seconds |", "|---|---|---|"]
    for s, rs in seen.items():
        params = sorted({int(r["trainable_params"]) for r in rs})
        label = f"{params[0]:,}" if len(params) == 1 else f"{params[0]:,} – {params[-1]:,}"
        lines.append(f"| {s} | {label} | {format_mean_std([r['train_seconds'] for r in rs], 1)} |")
    return "\n".join(lines) + "\n"


def _source_md(source: Mapping[str, Any]) -> str:
    """The SRC row (IoU on its own region's test split) and the early-season table."""
    test, m = next(iter(source["tests"].items()))
    text = (
        f"Source model ({source['features']}, pretrained in {source['finetune']}), "
        f"test in {test}: IoU {m['iou']:.2f} (F1 {m['f1']:.2f}, kappa {m['kappa']:.2f}, "
        f"OA {m['oa']:.2f}); {source['n_train_patches']} training patches.\n"
    )
    early = early_season_table(dict(source))
    if early:
        text += "\nEarly season: IoU with only the first periods given (TIP fills the rest)\n\n"
        text += early
    return text


def write_outputs(
    cfg: ExperimentConfig,
    out: Path,
    rows: list[dict[str, Any]],
    keys: Sequence[CellKey],
    regions: Mapping[str, RegionData],
    map_patches: Mapping[str, str],
    source: Mapping[str, Any] | None = None,
) -> None:
    """Write results.csv/.md, label efficiency, maps, learning curves and report.html.

    ``source``: the source model's record (the SRC row, early-season IoU), if tested.
    """
    main = [r for r in rows if r["patches"] == "all"]
    atomic_write_text(out / "results.csv", rows_to_csv(rows, CSV_COLUMNS))
    metrics_md = {
        m: poster_table(main, m, strategies=cfg.strategies, columns=_columns(cfg))
        for m in ("iou", "f1", "kappa", "oa")
    }
    timing_md = _timing_table(rows)
    seeds = f"{len(cfg.seeds)} seed(s): {cfg.seeds}"
    md = [f"# {cfg.name}: IoU of the target class ({seeds}; mean ± std)\n", metrics_md["iou"]]
    if set(_columns(cfg)) & set(POSTER_COLUMNS):
        md += [
            "\n## against the poster (real Sentinel-1): this run / the poster's IoU\n",
            poster_table(
                main, strategies=cfg.strategies, columns=_columns(cfg), reference=POSTER_IOU
            ),
        ]
    for m in ("f1", "kappa", "oa"):
        md += [f"\n## {m}\n", metrics_md[m]]
    findings_md = _findings_md(cfg, main)
    if findings_md:
        md += ["\n## the poster's findings, seed by seed\n", findings_md]
        atomic_write_text(out / "findings.md", f"# {cfg.name}: paired differences\n\n{findings_md}")
    md += ["\n## trainable parameters and training time\n", timing_md]
    src_md = _source_md(source) if source else ""
    if src_md:
        md += ["\n## source model\n", src_md]
    atomic_write_text(out / "results.md", "\n".join(md))
    if source and source.get("early_season"):
        lines = ["n_periods,period,iou,iou_bn"]
        lines += [
            f"{r['n_periods']},{r['period']},{r['iou']:.4f},{r.get('iou_bn', float('nan')):.4f}"
            for r in source["early_season"]
        ]
        atomic_write_text(out / "early_season.csv", "\n".join(lines) + "\n")

    le_md, le_png = None, None
    le = cfg.label_efficiency
    if le is not None:
        feats = ",".join(le.bands)
        le_rows = [
            r
            for r in rows
            if r["finetune"] == le.finetune
            and r["features"] == feats
            and r["strategy"] in le.strategies
            and r["test"] in le.test
        ]
        le_md = label_efficiency_table(le_rows)
        atomic_write_text(
            out / "label_efficiency.md",
            f"# IoU against fine-tuning patches ({le.finetune}, {feats})\n\n{le_md}",
        )
        le_png = _label_efficiency_plot(le_rows, out / "label_efficiency.png")

    map_pngs = []
    for test in dict.fromkeys(t for tr in cfg.transfers for t in tr.test):
        if test not in map_patches:
            continue
        mrows = _map_rows(cfg, out, test, regions[test], map_patches[test], rows)
        if mrows:
            title = f"test in {test}, patch {map_patches[test]} (IoU: whole test split)"
            fig = maps_figure(mrows, MAP_STRATEGIES, title=title)
            map_pngs.append(save_figure(fig, out / f"maps_{test}.png"))
    curves = _learning_curves(cfg, out, keys)

    sections = [
        Section(
            "Results (IoU of the target class)",
            text=[
                f"Mean ± std over {seeds}. One column per (fine-tune region, test region, "
                "features), one row per strategy, as in the poster's table.",
            ],
            tables=[metrics_md["iou"]],
        ),
        Section(
            "F1, kappa, overall accuracy", tables=[metrics_md[m] for m in ("f1", "kappa", "oa")]
        ),
        Section(
            "Trainable parameters and training time",
            text=[
                "RF: number of tree nodes (fitted, not gradient-trained); LP_FT: its second phase.",
            ],
            tables=[timing_md],
        ),
        Section(
            "Maps",
            text=["RGB of VH periods 1-3, truth, then each strategy's prediction."],
            images=map_pngs,
        ),
    ]
    if findings_md:
        sections.append(Section("The poster's findings, seed by seed", tables=[findings_md]))
    if src_md:
        sections.append(Section("Source model (SRC) and early season", tables=[src_md]))
    if le_md:
        sections.append(
            Section("How many labels do I need?", tables=[le_md], images=[p for p in [le_png] if p])
        )
    if curves:
        sections.append(Section("Learning curves (validation IoU per epoch)", images=[curves]))
    timings = out / "timings.json"
    if timings.is_file():
        title = "Stage timings of the last run (wall and CPU seconds)"
        sections.append(Section(title, code=timings.read_text()))
    sections.append(
        Section("Configuration", code=yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    )
    write_report(out / "report.html", f"cropmap experiment: {cfg.name}", sections)
