"""Dask scale-out: the map made by worker processes equals the single-process map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError
from cropmap.infer.predict import predict_raster


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read()


@pytest.mark.slow
def test_dask_map_equals_single_process(model_dir: Path, composite: Path, tmp_path: Path) -> None:
    kw = {"window": 64, "overlap": 16, "batch_size": 3, "threads": 1}
    local = predict_raster(model_dir, composite, tmp_path / "local.tif", **kw)
    seen: list[tuple[int, int]] = []
    dist = predict_raster(
        model_dir,
        composite,
        tmp_path / "dask.tif",
        dask_workers=2,
        progress=lambda d, t: seen.append((d, t)),
        **kw,
    )
    a, b = _read(local), _read(dist)
    np.testing.assert_array_equal(a, b)
    assert (a != 255).any()
    assert seen[-1][0] == seen[-1][1] == 300 * 340
    with rasterio.open(dist) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_unreachable_scheduler_is_a_clear_error(
    model_dir: Path, composite: Path, tmp_path: Path, short_connect_timeout: float
) -> None:
    with pytest.raises(ConfigError, match="cannot reach Dask scheduler"):
        predict_raster(
            model_dir, composite, tmp_path / "x.tif", window=64, scheduler="tcp://127.0.0.1:9"
        )
    assert not (tmp_path / "x.tif").exists()
