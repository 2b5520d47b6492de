"""The simulated regions are learnable but not trivial (guards the benchmark's promise)."""

from __future__ import annotations

import pytest

from cropmap.simulate.baseline import local_rf_iou


@pytest.mark.slow
def test_sim_korea_learnable_netherlands_hard(scenes):
    korea = local_rf_iou(scenes["korea"], ("VH",), n_train=6000, n_trees=40)
    barley = local_rf_iou(scenes["netherlands"], ("VV", "VH"), n_train=6000, n_trees=40)
    assert 0.7 < korea["iou"] < 0.99, korea
    assert 0.05 < barley["iou"] < 0.8, barley
    assert korea["iou"] > barley["iou"] + 0.2
