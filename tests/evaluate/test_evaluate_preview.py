"""PNG quick-look: small, legend with hectares, read from overviews with bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

from cropmap.evaluate.mapped import mapped_area
from cropmap.evaluate.preview import _scale_length, read_decimated, write_preview


def test_preview_png_is_small_and_written(tmp_path: Path, make_map) -> None:
    cls = np.zeros((300, 400), np.uint8)
    cls[50:150, 100:300] = 1
    cls[:10] = 255
    path = make_map(tmp_path / "m.tif", cls, cog=True)
    png = write_preview(path, tmp_path / "m.png", area=mapped_area(path), max_px=100)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] <= 700 and img.shape[1] <= 800
    # the map's green is in the picture
    green = (np.abs(img[..., 0] - 26 / 255) < 0.02) & (np.abs(img[..., 1] - 152 / 255) < 0.02)
    assert green.sum() > 100


def test_decimated_read_keeps_classes_and_steps(tmp_path: Path, make_map) -> None:
    cls = np.zeros((200, 300), np.uint8)
    cls[:, 150:] = 1
    arr, meta = read_decimated(make_map(tmp_path / "m.tif", cls, cog=True), max_px=50)
    assert meta["step"] == 6 and arr.shape == (33, 50)
    assert set(np.unique(arr)) == {0, 1}
    assert arr[:, :20].max() == 0 and arr[:, -20:].min() == 1


def test_preview_memory_does_not_scale_with_the_map(tmp_path: Path, make_map) -> None:
    """A 2000 x 2000 map (4 MB per band) previews with far less than one band in memory."""
    yy, xx = np.mgrid[0:2000, 0:2000]
    cls = ((yy // 50 + xx // 70) % 2).astype(np.uint8)
    del yy, xx
    path = make_map(tmp_path / "big.tif", cls, cog=True)
    small = make_map(tmp_path / "small.tif", cls[:300, :300], cog=True)
    del cls
    write_preview(small, tmp_path / "small.png", max_px=300)  # imports, font caches
    peaks = []
    for p in (small, path):
        tracemalloc.start()
        write_preview(p, tmp_path / "x.png", max_px=300)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        tracemalloc.start()
        read_decimated(p, max_px=300)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # the whole preview of the 44x larger map costs under 1 MB more; the read alone < 1 MB
    assert peaks[2] - peaks[0] < 1_000_000, peaks
    assert peaks[3] < 1_000_000, peaks


def test_scale_bar_lengths_are_round() -> None:
    assert _scale_length(5120.0) == 1000.0
    assert _scale_length(2560.0) == 500.0
    assert _scale_length(109_800.0) == 20_000.0
