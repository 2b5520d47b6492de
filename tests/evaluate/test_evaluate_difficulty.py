"""The RF difficulty check's pieces: sizes, split masks, summary (no simulation)."""

from __future__ import annotations

import numpy as np
import pytest

from cropmap.errors import ConfigError
from cropmap.evaluate.difficulty import (
    POSTER_SIZES,
    format_summary,
    scene_sizes,
    split_masks,
    summarize,
)


def test_scene_sizes_default_scaled_and_pairs():
    assert scene_sizes() == POSTER_SIZES
    half = scene_sizes(scale=0.5, tile=128)
    assert half == {"korea": 1280, "spain": 768, "france": 1024, "netherlands": 1280}
    mixed = scene_sizes("spain=700,france=1000", tile=256)
    assert mixed["spain"] == 768 and mixed["france"] == 768  # at least 3 tiles, multiples
    assert mixed["netherlands"] == 2560
    assert set(scene_sizes("512", tile=128).values()) == {512}


@pytest.mark.parametrize("text", ["big", "spain=x", "mars=512", "0"])
def test_scene_sizes_bad_text_is_one_config_error(text):
    with pytest.raises(ConfigError, match="--size"):
        scene_sizes(text)


def test_split_masks_disjoint_whole_tiles():
    m = split_masks((300, 520), tile=64, seed=0, block=2)
    total = m["train"].astype(int) + m["val"] + m["test"]
    assert total.max() == 1
    # pixels outside full tiles belong to no split
    assert not total[256:].any() and not total[:, 512:].any()
    assert total[:256, :512].all()
    for name in ("train", "val", "test"):
        assert m[name].any(), name
    # whole 128 px blocks go to one split
    for r in range(0, 256, 128):
        for c in range(0, 512, 128):
            for name in ("train", "val", "test"):
                v = m[name][r : r + 128, c : c + 128]
                assert v.all() or not v.any()


def test_summarize_mean_std_and_poster_diff():
    rows = [
        {"finetune": "spain", "test": "france", "features": "VH", "seed": s, "iou": v}
        for s, v in enumerate((0.6, 0.7, 0.8))
    ]
    rows.append({"finetune": "x", "test": "y", "features": "VV,VH", "seed": 0, "iou": 0.5})
    out = {(s["finetune"], s["test"]): s for s in summarize(rows)}
    sf = out["spain", "france"]
    assert sf["mean"] == pytest.approx(0.7) and sf["std"] == pytest.approx(0.1)
    assert sf["poster"] == 0.63 and sf["diff"] == pytest.approx(0.07)
    assert out["x", "y"]["poster"] is None and out["x", "y"]["std"] == 0.0
    text = format_summary(list(out.values()))
    assert "0.700 +- 0.100 (3)" in text and "+0.070" in text
    assert np.isfinite(sf["mean"])
