"""Mapped area: pixel area from the transform and CRS units, class counts in strips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin

from cropmap.errors import CrsError, RasterReadError
from cropmap.evaluate.mapped import mapped_area, pixel_area_ha


def test_pixel_area_from_transform_and_units() -> None:
    assert pixel_area_ha(CRS.from_epsg(32630), from_origin(0, 0, 10, 10)) == pytest.approx(0.01)
    assert pixel_area_ha(CRS.from_epsg(32630), from_origin(0, 0, 20, 30)) == pytest.approx(0.06)
    # NAD83 / New York Long Island (ftUS): 10 ft pixels = (3.048006 m)^2
    ft = pixel_area_ha(CRS.from_epsg(2263), from_origin(0, 0, 10, 10))
    assert ft == pytest.approx((10 * 1200 / 3937) ** 2 / 1e4, rel=1e-6)


def test_geographic_or_missing_crs_is_refused() -> None:
    with pytest.raises(CrsError, match="geographic CRS.*EPSG:4326.*reproject"):
        pixel_area_ha(CRS.from_epsg(4326), from_origin(0, 0, 0.0001, 0.0001), "m.tif")
    with pytest.raises(CrsError, match="no CRS"):
        pixel_area_ha(None, from_origin(0, 0, 10, 10))


def test_mapped_area_counts_every_strip(tmp_path: Path, make_map) -> None:
    rng = np.random.default_rng(0)
    cls = rng.choice(np.array([0, 1, 255], np.uint8), size=(70, 50), p=[0.6, 0.3, 0.1])
    path = make_map(tmp_path / "m.tif", cls)
    import cropmap.evaluate.mapped as mod

    whole = mapped_area(path)
    old = mod.STRIP_ROWS
    try:
        mod.STRIP_ROWS = 16  # several strips, the last one partial
        strips = mapped_area(path)
    finally:
        mod.STRIP_ROWS = old
    assert whole.pixels == strips.pixels == (int((cls == 0).sum()), int((cls == 1).sum()))
    assert whole.nodata_pixels == int((cls == 255).sum())
    assert whole.target == "rice" and whole.target_index == 1
    assert whole.hectares == pytest.approx((0.01 * (cls == 0).sum(), 0.01 * (cls == 1).sum()))
    assert f"mapped rice: {0.01 * (cls == 1).sum():,.2f} ha" in whole.summary()


def test_geographic_map_reports_pixels_only(tmp_path: Path, make_map) -> None:
    cls = np.ones((8, 8), np.uint8)
    path = make_map(tmp_path / "g.tif", cls, crs="EPSG:4326", pixel_m=0.0001, origin=(2, 41))
    area = mapped_area(path)
    assert area.pixel_area_ha is None and area.hectares is None
    assert "area unknown: geographic CRS" in area.summary()
    with pytest.raises(CrsError):
        mapped_area(path, require_metric=True)


def test_class_beyond_classes_tag_is_an_error(tmp_path: Path, make_map) -> None:
    cls = np.zeros((8, 8), np.uint8)
    cls[0, 0] = 3
    path = make_map(tmp_path / "m.tif", cls)
    with pytest.raises(RasterReadError, match="class value 3 but its CLASSES tag names only 2"):
        mapped_area(path)
