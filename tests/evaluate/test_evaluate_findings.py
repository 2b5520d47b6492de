"""Seed-wise paired differences (the poster's findings)."""

from __future__ import annotations

import pytest

from cropmap.evaluate.findings import (
    band_differences,
    format_paired,
    paired,
    run_differences,
    strategy_differences,
)


def _row(strategy, features, seed, iou, test="spain", patches="all"):
    return dict(
        strategy=strategy,
        finetune="spain",
        test=test,
        features=features,
        seed=seed,
        patches=patches,
        iou=iou,
    )


def _rows():
    rows = []
    # FT_E beats RF by 0.10 in seed 0 and loses by 0.02 in seed 1; seed 2 has no RF cell
    for seed, ft_e, rf in ((0, 0.80, 0.70), (1, 0.70, 0.72)):
        rows += [_row("FT_E", "VH", seed, ft_e), _row("RF", "VH", seed, rf)]
    rows.append(_row("FT_E", "VH", 2, 0.99))
    rows += [_row("FT_E", "VV,VH", 0, 0.86), _row("FT_E", "VV,VH", 1, 0.70)]
    rows.append(_row("RF", "VH", 0, 0.0, patches="2"))  # label-efficiency row: ignored
    return rows


def test_paired_uses_common_seeds_only():
    assert paired({0: 0.8, 1: 0.7, 2: 0.9}, {0: 0.7, 1: 0.72}) == pytest.approx([0.1, -0.02])


def test_format_paired_counts_seeds_favouring_the_first():
    assert format_paired([0.1, -0.02]) == "+0.04 ± 0.08 (1/2)"
    assert format_paired([-0.05]) == "-0.05 (0/1)"
    assert format_paired([]) == "–"


def test_strategy_differences_table():
    md = strategy_differences(
        _rows(), [("FT_E", "RF"), ("FT", "RI")], columns=[("spain", "spain", "VH")]
    )
    lines = md.strip().splitlines()
    assert lines[0] == "| claim | Spain |"
    assert lines[4] == "| FT_E − RF | +0.04 ± 0.08 (1/2) |"
    assert lines[5] == "| FT − RI | – |"  # never ran


def test_band_differences_table():
    md = band_differences(_rows(), ["FT_E"], pairs=[("spain", "spain")])
    assert md.strip().splitlines()[-1] == "| FT_E | +0.03 ± 0.04 (2/2) |"


def test_run_differences_pairs_two_runs_by_seed():
    old = [_row("FT", "VH", 0, 0.60), _row("FT", "VH", 1, 0.65), _row("RF", "VH", 0, 0.8)]
    new = [_row("FT", "VH", 0, 0.70), _row("FT", "VH", 1, 0.64), _row("FT", "VH", 2, 0.9)]
    new.append(_row("FT", "VH", 0, 0.0, patches="2"))  # label-efficiency row: ignored
    table = run_differences(new, old)
    lines = table.splitlines()
    assert lines[0] == "| new − old | Spain |" and lines[3] == "| feature | VH |"
    # seed 2 has no old cell and RF no new one: FT over seeds 0, 1: +0.10 and -0.01
    assert lines[4:] == ["| FT | +0.04 ± 0.08 (1/2) |"]
    with pytest.raises(ValueError, match=r"share no cell of strategies \['RF'\]"):
        run_differences(new, old, ["RF"])
