"""Dask-distributed compositing gives the same output as the serial path."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import LocalCluster

from cropmap.sar import composite_folder, read_composite


@pytest.mark.slow
def test_dask_scheduler_output_identical(s1_db, tmp_path, tiny_calendar):
    folder, _ = s1_db
    serial = composite_folder(folder, tiny_calendar, tmp_path / "a.tif", units="db", block_rows=2)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        seen = []
        dask_out = composite_folder(
            folder,
            tiny_calendar,
            tmp_path / "b.tif",
            units="db",
            block_rows=2,
            scheduler=cluster.scheduler_address,
            progress=lambda d, t: seen.append((d, t)),
        )
    a, b = read_composite(serial), read_composite(dask_out)
    np.testing.assert_array_equal(a, b)
    assert seen[-1] == (3, 3)


@pytest.mark.slow
def test_dask_local_worker_processes_output_identical(s1_db, tmp_path, tiny_calendar):
    folder, _ = s1_db
    serial = composite_folder(folder, tiny_calendar, tmp_path / "a.tif", units="db", block_rows=3)
    dask_out = composite_folder(
        folder, tiny_calendar, tmp_path / "b.tif", units="db", block_rows=3, dask_workers=2
    )
    np.testing.assert_array_equal(read_composite(serial), read_composite(dask_out))
