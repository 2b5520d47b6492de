"""Atomic outputs: a failed write leaves no partial file and keeps the earlier output."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from rasterio.transform import from_origin

from cropmap.errors import CropmapError, RasterWriteError
from cropmap.io import raster as rio_io
from cropmap.io.atomic import atomic_path, atomic_write_text


def _leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def test_exception_inside_keeps_old_output_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("earlier result")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "earlier result"
    assert _leftovers(tmp_path, "out.txt") == []


def test_success_replaces_output(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert _leftovers(tmp_path, "out.txt") == []


def test_read_only_directory_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    """A read-only folder (simulated: tests run as root, which ignores permissions)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "x.txt"
    target.write_text("earlier")
    with pytest.raises(RasterWriteError, match=f"cannot write into {tmp_path}.*Permission"):
        atomic_write_text(target, "data")
    assert target.read_text() == "earlier"


def test_unwritable_parent_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RasterWriteError, match="file") as info:
        atomic_write_text(blocker / "sub" / "x.txt", "data")
    assert isinstance(info.value, CropmapError) and isinstance(info.value, OSError)


def test_disk_full_during_geotiff_write_leaves_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "map.tif"
    transform = from_origin(500000, 4000000, 10, 10)
    rio_io.write_geotiff(
        target, np.ones((1, 8, 8), "float32"), crs="EPSG:32652", transform=transform
    )
    before = target.read_bytes()

    class DiskFull:
        def __init__(self, *a, **k):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rio_io.rasterio, "open", DiskFull)
    with pytest.raises(RasterWriteError, match="No space left"):
        rio_io.write_geotiff(
            target, np.zeros((1, 8, 8), "float32"), crs="EPSG:32652", transform=transform
        )
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, "map.tif") == []


def test_geotiff_roundtrip_keeps_crs_transform_nodata_descriptions(tmp_path: Path) -> None:
    transform = from_origin(300000, 4100000, 10, 10)
    arr = np.arange(2 * 5 * 7, dtype="float32").reshape(2, 5, 7)
    arr[0, 0, 0] = np.nan
    path = rio_io.write_geotiff(
        tmp_path / "a.tif",
        arr,
        crs="EPSG:32631",
        transform=transform,
        nodata=float("nan"),
        descriptions=["VV", "VH"],
        tags={"UNITS": "dB"},
    )
    with rio_io.open_raster(path) as ds:
        assert ds.crs.to_epsg() == 32631
        assert ds.transform == transform
        assert ds.descriptions == ("VV", "VH")
        assert ds.tags()["UNITS"] == "dB"
        assert rio_io.band_index(ds, "vh") == 2
        with pytest.raises(CropmapError, match="band 'HH' not found.*VV, VH"):
            rio_io.band_index(ds, "HH")
        out = ds.read()
    assert np.isnan(out[0, 0, 0])
    np.testing.assert_array_equal(out[1], arr[1])


def test_open_raster_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CropmapError, match="missing.tif"):
        rio_io.open_raster(tmp_path / "missing.tif")
    bad = tmp_path / "notes.tif"
    bad.write_text("this is not a raster")
    with pytest.raises(CropmapError, match="notes.tif"):
        rio_io.open_raster(bad)
    with pytest.raises(CropmapError, match="folder"):
        rio_io.open_raster(tmp_path)
