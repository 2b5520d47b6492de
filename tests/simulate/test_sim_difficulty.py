"""The calibrated difficulty (docs/simulator.md, issue 11): guards the RF row's shape.

On small scenes, through the real pipeline (:mod:`cropmap.evaluate.difficulty`): Korea
is learnable, the Dutch barley is hard, and on the same Spanish test tiles a forest
trained in France scores clearly lower than one trained in Spain (the poster: 0.77
against 0.87; the uncalibrated simulator: 0.01-0.06 lower on these small scenes).
"""

from __future__ import annotations

import pytest

from cropmap.evaluate.difficulty import RFSettings, difficulty_runs, summarize

CELLS = (
    ("korea", "korea"),
    ("spain", "spain"),
    ("spain", "france"),
    ("france", "france"),
    ("france", "spain"),
    ("netherlands", "netherlands"),
)


@pytest.fixture(scope="module")
def difficulty(tmp_path_factory) -> dict[tuple[str, str], float]:
    sizes = {"korea": 384, "spain": 384, "france": 512, "netherlands": 512}
    rows = difficulty_runs(
        tmp_path_factory.mktemp("difficulty"),
        sizes,
        year=2022,
        seeds=(0,),
        tile=128,
        rf=RFSettings(n_estimators=30, max_depth=14, max_samples_per_class=8000),
        cells=CELLS,
        features=(("VH",),),
    )
    return {(s["finetune"], s["test"]): s["mean"] for s in summarize(rows)}


@pytest.mark.slow
def test_sim_korea_learnable_netherlands_hard(difficulty):
    assert 0.7 < difficulty["korea", "korea"] < 0.99, difficulty
    assert 0.05 < difficulty["netherlands", "netherlands"] < 0.6, difficulty
    assert difficulty["korea", "korea"] > difficulty["netherlands", "netherlands"] + 0.25


@pytest.mark.slow
def test_sim_cross_region_harder_than_within(difficulty):
    # same test pixels, forests trained in another region: the domain shift alone
    assert difficulty["spain", "spain"] > difficulty["france", "spain"] + 0.08, difficulty
    assert difficulty["france", "france"] > difficulty["spain", "france"], difficulty
