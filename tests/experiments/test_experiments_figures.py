"""Figures: map columns only for strategies that ran; label-efficiency ticks in numbers."""

from __future__ import annotations

import numpy as np

from cropmap.evaluate.maps import MapRow, maps_figure
from cropmap.experiments.outputs import label_efficiency_figure


def test_maps_figure_has_no_column_for_a_strategy_that_did_not_run():
    vh = np.random.default_rng(0).normal(-15, 2, (3, 16, 16))
    truth = np.zeros((16, 16), np.uint8)
    rows = [
        MapRow("a", vh, truth, {"RF": truth, "FT": truth}),
        MapRow("b", vh, truth, {"RF": truth}),
    ]
    fig = maps_figure(rows, ["RF", "RI", "FT", "FT_E"])
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 2 * (2 + 2)  # RGB, truth, RF, FT: RI and FT_E never ran
    assert "RI" not in titles and "FT_E" not in titles
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["not run"]  # FT of row b


def test_label_efficiency_ticks_are_the_budgets():
    rows = [
        {"test": "spain", "strategy": s, "patches": p, "n_train_patches": n, "iou": 0.5}
        for s in ("RF", "FT")
        for p, n in ((1, 1), (2, 2), (5, 5), ("all", 16))
    ]
    fig = label_efficiency_figure(rows)
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1", "2", "5", "all\n(16)"]
    assert not ax.xaxis.get_minorticklocs().size  # no 2x10^0, 3x10^0 ...
