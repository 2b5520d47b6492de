"""The one home of GDAL settings and of the Dask client."""

from __future__ import annotations

import pytest
from rasterio._env import get_gdal_config

from cropmap.errors import ConfigError
from cropmap.io.cluster import dask_client
from cropmap.io.gdal import COMPOSITE_CACHE_MB, gdal_env


def test_cache_is_given_in_mb_and_set_in_bytes():
    with gdal_env(COMPOSITE_CACHE_MB):
        assert int(get_gdal_config("GDAL_CACHEMAX")) == COMPOSITE_CACHE_MB * 1024 * 1024
        assert get_gdal_config("GDAL_NUM_THREADS") == "ALL_CPUS"
    with gdal_env(200_000):  # a size GDAL would read as bytes if passed as MB
        assert int(get_gdal_config("GDAL_CACHEMAX")) == 200_000 * 1024 * 1024


def test_unreachable_scheduler_is_one_line(short_connect_timeout):
    pytest.importorskip("distributed")
    with (
        pytest.raises(ConfigError, match=r"cannot reach Dask scheduler 'tcp://127.0.0.1:9'") as e,
        dask_client(scheduler="tcp://127.0.0.1:9"),
    ):
        pass
    assert "\n" not in str(e.value) and "--dask-workers" in str(e.value)


def test_local_cluster_needs_a_worker():
    pytest.importorskip("distributed")
    with pytest.raises(ConfigError, match="--dask-workers must be at least 1"), dask_client(0):
        pass


@pytest.mark.parametrize("compress", [None, "deflate"])
def test_direct_io_reads_the_same_values(tmp_path, compress):
    import numpy as np
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    from cropmap.io.raster import write_geotiff

    arr = np.random.default_rng(0).normal(size=(2, 300, 520)).astype(np.float32)
    path = write_geotiff(
        tmp_path / "a.tif", arr, crs="EPSG:32631", transform=Affine(10, 0, 0, 0, -10, 0),
        compress=compress,
    )  # fmt: skip
    win = Window(7, 33, 400, 250)
    with gdal_env(8, direct_io=True), rasterio.open(path) as ds:
        direct = ds.read(2, window=win)
    np.testing.assert_array_equal(direct, arr[1, 33:283, 7:407])
