"""Pure parts of the simulator: trajectories, schedule, tessellation, regions, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from cropmap.errors import ConfigError
from cropmap.simulate import REGIONS, get_region
from cropmap.simulate.parcels import tessellate
from cropmap.simulate.phenology import CLASS_CODE, DEFAULT_TRAJECTORIES, trajectory_db
from cropmap.simulate.schedule import acquisitions


def test_sim_rice_trajectory_shape():
    doy = np.arange(90, 305, 5.0)
    vv, vh = trajectory_db(DEFAULT_TRAJECTORIES["rice"], doy, np.array([145.0, 165.0]))
    assert vh.shape == (2, len(doy))
    flood = vh[0, (doy >= 138) & (doy <= 150)]
    assert (flood < -22).all()
    assert -16.5 < vh[0].max() < -13.0
    # a later planting shifts the whole curve later
    assert np.argmin(vh[1]) > np.argmin(vh[0])
    assert vh[0, doy == 200] > vh[1, doy == 200]


def test_sim_schedule_revisit_and_gap():
    spec = get_region("korea")
    with_s1b, _ = acquisitions(spec, 2020, np.random.default_rng(0), defects=False)
    s1a_only, _ = acquisitions(spec, 2023, np.random.default_rng(0), defects=False)
    assert len(with_s1b) > 1.8 * len(s1a_only)
    days = np.diff([a.date.toordinal() for a in s1a_only])
    assert days.max() <= 12
    assert {a.orbit for a in s1a_only} == {0, 1}
    assert len({a.incidence_deg for a in s1a_only}) == 2
    gapped, window = acquisitions(spec, 2023, np.random.default_rng(0))
    assert window is not None
    assert not any(window[0] <= a.date <= window[1] for a in gapped)
    with pytest.raises(ConfigError, match="revisit"):
        acquisitions(spec, 2023, np.random.default_rng(0), revisit_days=10)


@pytest.mark.parametrize(
    ("region", "lo_ha", "hi_ha"),
    [("korea", 0.1, 0.5), ("spain", 0.8, 3.0), ("france", 1.0, 4.0), ("netherlands", 3.0, 12.0)],
)
def test_sim_parcel_sizes(region, lo_ha, hi_ha):
    spec = get_region(region)
    land = tessellate(spec, 256, np.random.default_rng(1))
    target = land.cell_class[land.labels] == CLASS_CODE[spec.target]
    sizes = np.bincount(land.labels[target].ravel())
    sizes = sizes[sizes > 0]
    median_ha = np.median(sizes) * 100.0 / 1e4
    assert lo_ha <= median_ha <= hi_ha, median_ha


def test_sim_region_registry():
    assert set(REGIONS) == {"korea", "spain", "france", "netherlands"}
    assert get_region(" Korea ").epsg == 32652
    with pytest.raises(ConfigError, match="netherlands"):
        get_region("japan")


def test_sim_cli(tmp_path):
    from cropmap.cli.main import app

    runner = CliRunner()
    res = runner.invoke(
        app,
        ["simulate", "--region", "france", "--size", "64", "--seed", "2", "--out", str(tmp_path)],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "parcels.gpkg").exists() and (tmp_path / "scene.json").exists()
    assert len(list((tmp_path / "s1").glob("*.tif"))) > 20
    res = runner.invoke(app, ["simulate", "--help"])
    assert "Example:" in res.output


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_sim_gap_never_empties_a_period(region):
    from cropmap.sar.calendars import load_calendar

    spec = get_region(region)
    for year in (2020, 2022):
        ranges = load_calendar(spec.calendar).ranges(year)
        for seed in range(60):
            acqs, window = acquisitions(spec, year, np.random.default_rng(seed))
            assert window is not None
            dates = [a.date for a in acqs]
            for a, b in ranges:
                assert any(a <= d <= b for d in dates), (year, seed, a, b)
