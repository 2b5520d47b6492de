"""Results tables in the poster's layout, the HTML report and the maps figure."""

from __future__ import annotations

import numpy as np
import pytest

from cropmap.evaluate.maps import MapRow, class_image, maps_figure, rgb_composite, save_figure
from cropmap.evaluate.report import Section, markdown_table_to_html, write_report
from cropmap.evaluate.tables import (
    format_mean_std,
    label_efficiency_table,
    mean_std,
    poster_table,
    read_csv_rows,
    rows_to_csv,
)


def _rows():
    rows = []
    for seed, delta in ((0, 0.0), (1, 0.1)):
        for strat, base in (("RF", 0.8), ("FT_E", 0.6)):
            for ft, te in (("spain", "spain"), ("spain", "france")):
                rows.append(
                    dict(
                        strategy=strat,
                        finetune=ft,
                        test=te,
                        features="VH",
                        seed=seed,
                        patches="all",
                        iou=base + delta,
                        f1=0.5,
                        kappa=0.4,
                        oa=0.9,
                        train_seconds=1.5,
                        trainable_params=10,
                    )
                )
    rows.append(dict(rows[0], patches="2", iou=0.1))  # label-efficiency row, not in poster
    return rows


def test_mean_std():
    m, s, n = mean_std([0.8, 0.9, float("nan")])
    assert n == 2 and m == pytest.approx(0.85) and s == pytest.approx(0.0707, abs=1e-4)
    assert format_mean_std([0.8, 0.9]) == "0.85 ± 0.07"
    assert format_mean_std([0.8]) == "0.80"
    assert format_mean_std([]) == "–"


def test_poster_layout():
    md = poster_table(_rows(), strategies=["RF", "FT_E"])
    lines = md.strip().splitlines()
    assert lines[0] == "| fine-tune in | Spain | Spain |"
    assert lines[2] == "| test in | Spain | France |"
    assert lines[3] == "| feature | VH | VH |"
    assert lines[4] == "| RF | 0.85 ± 0.07 | 0.85 ± 0.07 |"
    assert lines[5].startswith("| FT_E | 0.65 ± 0.07")
    assert len(lines) == 6


def test_poster_layout_beside_the_posters_values():
    from cropmap.evaluate.poster import POSTER_IOU

    rows = [dict(r, strategy="ZS") if r["strategy"] == "RF" else r for r in _rows()]
    rows += [dict(r, strategy="RF") for r in _rows() if r["strategy"] == "RF"]
    md = poster_table(rows, strategies=["RF", "FT_E", "ZS"], reference=POSTER_IOU)
    lines = md.strip().splitlines()
    assert lines[4] == "| RF | 0.85 ± 0.07 / 0.87 | 0.85 ± 0.07 / 0.63 |"
    assert lines[5].endswith("/ 0.90 | 0.65 ± 0.07 / 0.63 |")
    assert lines[6] == "| ZS | 0.85 ± 0.07 | 0.85 ± 0.07 |"  # not in the poster: ours alone


def test_poster_values_and_the_rf_calibration_targets_agree():
    from cropmap.evaluate.difficulty import POSTER_RF
    from cropmap.evaluate.poster import POSTER_COLUMNS, POSTER_IOU

    assert len(POSTER_COLUMNS) == 10 and len(POSTER_IOU) == 40
    assert POSTER_IOU[("FT_E", "netherlands", "netherlands", "VV,VH")] == 0.54
    assert POSTER_IOU[("RI", "netherlands", "netherlands", "VV,VH")] == 0.0
    assert POSTER_RF[("france", "spain")] == (0.77, 0.78)


def test_label_efficiency_table_orders_budgets():
    rows = [dict(r, patches=p) for r, p in zip(_rows()[:3], ["all", "10", "2"], strict=True)]
    md = label_efficiency_table(rows)
    assert md.splitlines()[0] == "| strategy | test in | 2 | 10 | all |"


def test_csv_roundtrip():
    text = rows_to_csv(_rows())
    back = read_csv_rows(text)
    assert len(back) == len(_rows()) and back[0]["iou"] == "0.8000"
    assert text.splitlines()[0].startswith("strategy,finetune,test,features,seed")


def test_report_is_self_contained(tmp_path):
    fig = maps_figure(
        [
            MapRow(
                "Spain -> Spain",
                np.random.default_rng(0).normal(-15, 3, (8, 16, 16)),
                np.eye(16, dtype=np.uint8),
                {"RF": np.eye(16, dtype=np.uint8)},
                {"RF": 1.0},
            )
        ],
        ["RF", "FT"],
    )
    png = save_figure(fig, tmp_path / "m.png")
    out = write_report(
        tmp_path / "r.html",
        "demo",
        [Section("Results", tables=[poster_table(_rows())], images=[png], code="seeds: [0]")],
    )
    text = out.read_text()
    assert "data:image/png;base64," in text and "<table>" in text and "seeds: [0]" in text
    assert "torch" in text and 'src="http' not in text and "<script" not in text


def test_markdown_table_to_html():
    html = markdown_table_to_html("| a | b |\n|---|---|\n| 1 | <x> |\n")
    assert html.count("<tr>") == 2 and "&lt;x&gt;" in html and "<th>a</th>" in html


def test_rgb_and_classes():
    vh = np.stack([np.full((4, 4), v, np.float32) for v in (-20, -15, -10)])
    vh[0, 0, 0] = np.nan
    rgb = rgb_composite(vh)
    assert rgb.shape == (4, 4, 3) and (rgb[0, 0] == 1).all()
    img = class_image(np.array([[0, 1, 255]], np.uint8))
    assert img.shape == (1, 3, 3) and not np.allclose(img[0, 0], img[0, 1])
