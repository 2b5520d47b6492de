"""Documentation figures of the simulator: written, small, and showing the scene."""

from __future__ import annotations

from PIL import Image

from cropmap.simulate.plots import plot_quicklook, plot_trajectories


def test_sim_figures(scenes, tmp_path):
    ql = plot_quicklook(scenes["korea"], tmp_path / "ql.png")
    tr = plot_trajectories({r: scenes[r] for r in ("korea", "netherlands")}, tmp_path / "tr.png")
    for p in (ql, tr):
        assert p.stat().st_size < 150_000
        img = Image.open(p)
        assert img.width > 300 and img.height > 200
        assert len(img.getcolors(maxcolors=4096) or []) > 10  # not blank
