"""What docs/gee-snap.md promises about Google Earth Engine exports and SNAP outputs.

Files are written the way those tools name them (product ids in file or band names,
``VV``/``VH``/``angle`` bands, ``Sigma0_VV_db``), with known dB values, so each claim of
the page is checked on the layout it describes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import rasterio

from cropmap.errors import RasterReadError
from cropmap.io.raster import write_geotiff
from cropmap.sar import composite_folder, open_stack, read_composite

from .conftest import CRS, TINY_CALENDAR, TRANSFORM

DAYS = [dt.date(2021, m, d) for m in (5, 6, 7, 8) for d in (5, 20)]


def _db(day: dt.date, pol: str) -> np.ndarray:
    """Known dB values per date and polarisation, 6 x 5 pixels."""
    base = -10.0 - day.month - day.day / 10
    return np.full((6, 5), base - (7 if pol == "VH" else 0), np.float32)


def _product_id(day: dt.date) -> str:
    return f"S1A_IW_GRDH_1SDV_{day:%Y%m%d}T062512_{day:%Y%m%d}T062537_037000_045B1C_1A2B"


def test_gee_image_collection_tobands_stack_with_angle(tmp_path):
    """GEE ``toBands()``: one file, bands ``<image id>_VV``, ``_VH``, ``_angle`` per date (dB)."""
    arrays, names = [], []
    for day in DAYS:
        for pol in ("VV", "VH", "angle"):
            arrays.append(np.full((6, 5), 38.5, np.float32) if pol == "angle" else _db(day, pol))
            names.append(f"{_product_id(day)}_{pol}")
    stack = tmp_path / "s1_ebro_2021.tif"
    write_geotiff(stack, np.stack(arrays), crs=CRS, transform=TRANSFORM, descriptions=names)
    st = open_stack(stack, units="db")
    assert st.dates == DAYS and st.bands == ("VV", "VH")
    out = composite_folder(stack, TINY_CALENDAR, tmp_path / "c.tif", units="db")
    x = read_composite(out)  # (T, C, h, w); period A is the min of May 5 and May 20
    assert np.allclose(x[0, 0], _db(DAYS[1], "VV")) and np.allclose(x[0, 1], _db(DAYS[1], "VH"))


def test_gee_per_date_exports_named_by_prefix(tmp_path):
    """GEE ``Export.image`` per date, ``fileNamePrefix`` with the date; bands VV, VH, angle."""
    folder = tmp_path / "gee"
    folder.mkdir()
    for day in DAYS:
        arr = np.stack([_db(day, "VV"), _db(day, "VH"), np.full((6, 5), 41.0, np.float32)])
        write_geotiff(
            folder / f"S1_{day:%Y%m%d}.tif", arr, crs=CRS, transform=TRANSFORM,
            descriptions=("VV", "VH", "angle"), nodata=0,
        )  # fmt: skip
    out = composite_folder(folder, TINY_CALENDAR, tmp_path / "c.tif", units="db")
    expect = _db(DAYS[4], "VH")  # period C: max of July 5 and 20
    # the same files without band names need --file-bands
    assert np.allclose(read_composite(out, bands=["VH"])[2, 0], expect)
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in folder.iterdir():
        with rasterio.open(f) as ds:
            arr = ds.read()
        write_geotiff(bare / f.name, arr, crs=CRS, transform=TRANSFORM, nodata=0)
    out = composite_folder(
        bare, TINY_CALENDAR, tmp_path / "b.tif", units="db", file_bands=["VV", "VH", "angle"]
    )
    assert np.allclose(read_composite(out, bands=["VH"])[2, 0], expect)


def test_snap_geotiff_band_names_and_product_file_names(tmp_path):
    """SNAP: ``<product>_Orb_NR_Cal_TC.tif`` with bands ``Sigma0_VV_db``, ``Sigma0_VH_db``."""
    folder = tmp_path / "snap"
    folder.mkdir()
    for day in DAYS:
        arr = np.stack([_db(day, "VV"), _db(day, "VH")])
        write_geotiff(
            folder / f"{_product_id(day)}_Orb_NR_Cal_TC.tif", arr, crs=CRS, transform=TRANSFORM,
            descriptions=("Sigma0_VV_db", "Sigma0_VH_db"),
        )  # fmt: skip
    st = open_stack(folder, units="db")
    assert st.dates == DAYS
    assert [s.index for s in st.acquisitions[0].sources] == [1, 2]


def test_snap_geotiff_without_band_names_needs_file_bands(tmp_path):
    """An undescribed two-band export: the error names --file-bands, which fixes it."""
    folder = tmp_path / "snap"
    folder.mkdir()
    for day in DAYS:
        lin = 10 ** (np.stack([_db(day, "VV"), _db(day, "VH")]) / 10)
        write_geotiff(
            folder / f"{_product_id(day)}_Cal_TC.tif", lin.astype(np.float32), crs=CRS,
            transform=TRANSFORM,
        )  # fmt: skip
    with pytest.raises(RasterReadError, match="--file-bands VV,VH"):
        open_stack(folder)
    out = composite_folder(
        folder, TINY_CALENDAR, tmp_path / "c.tif", file_bands=["VV", "VH"], units="linear"
    )
    x = read_composite(out)
    assert np.allclose(x[0, 0], _db(DAYS[1], "VV"), atol=1e-4)  # linear in, dB out
    with rasterio.open(out) as ds:
        assert ds.tags()["SOURCE_UNITS"] == "linear"


@pytest.mark.parametrize("description", ["Sigma0_{pol}_db", None])
def test_snap_dimap_bands_converted_to_single_polarisation_files(tmp_path, description):
    """BEAM-DIMAP bands converted one by one to ``<date>_VV.tif`` / ``<date>_VH.tif``."""
    folder = tmp_path / "s1"
    folder.mkdir()
    for day in DAYS:
        for pol in ("VV", "VH"):
            desc = [description.format(pol=pol)] if description else None
            write_geotiff(
                folder / f"{day.isoformat()}_{pol}.tif", _db(day, pol), crs=CRS,
                transform=TRANSFORM, descriptions=desc,
            )  # fmt: skip
    out = composite_folder(folder, TINY_CALENDAR, tmp_path / "c.tif", units="db")
    x = read_composite(out)
    assert np.allclose(x[0, 0], _db(DAYS[1], "VV")) and np.allclose(x[0, 1], _db(DAYS[1], "VH"))
