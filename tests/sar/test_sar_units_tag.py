"""A ``UNITS`` tag on every input declares the units: no guess, but still checked."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio

from cropmap.errors import UnitsError, UnitsGuessWarning
from cropmap.io.raster import write_geotiff
from cropmap.sar import composite_folder


def _scene(folder, values, units_tag):
    folder.mkdir()
    for day in ("2022-05-12", "2022-06-05"):
        write_geotiff(
            folder / f"{day}.tif",
            values,
            crs="EPSG:32652",
            transform=rasterio.transform.from_origin(300000, 4000000, 10, 10),
            nodata=float("nan"),
            descriptions=["VV", "VH"],
            tags={"UNITS": units_tag},
        )


def test_units_tag_replaces_the_guess(tmp_path) -> None:
    _scene(tmp_path / "s1", np.full((2, 8, 8), 0.01, "float32"), "linear")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsGuessWarning)
        out = composite_folder(tmp_path / "s1", "korea-rice", tmp_path / "c.tif")
    with rasterio.open(out) as ds:
        np.testing.assert_allclose(ds.read(1), -20.0, atol=1e-4)  # 0.01 linear = -20 dB


def test_a_wrong_units_tag_is_still_caught(tmp_path) -> None:
    _scene(tmp_path / "s1", np.full((2, 8, 8), -15.0, "float32"), "linear")
    with pytest.raises(UnitsError, match="declared linear"):
        composite_folder(tmp_path / "s1", "korea-rice", tmp_path / "c.tif")
