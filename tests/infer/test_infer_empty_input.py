"""predict on a Sentinel-1 folder: a wrong --year fails with one line, exit 2, and the
earlier map stays as it was; partly empty inputs record their empty periods in the map."""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from pathlib import Path

import pytest
import rasterio

from cropmap.errors import EmptyPeriodWarning
from cropmap.sar.synthetic import series_dates, write_s1_series


def _run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    from cropmap.cli.main import main

    monkeypatch.setattr(sys, "argv", ["cropmap", *args])
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


@pytest.fixture
def s1_2022(tmp_path: Path) -> Path:
    """A 2022 folder: one date every 10 days over the korea-rice season, 40 x 40 px."""
    folder = tmp_path / "s1"
    write_s1_series(
        folder, series_dates(dt.date(2022, 5, 12), 16, step_days=10), height=40, width=40
    )
    return folder


def test_wrong_year_fails_without_touching_the_earlier_map(
    model_dir: Path, s1_2022: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "map.tif"
    args = [
        "predict", str(model_dir), str(s1_2022), "--calendar", "korea-rice",
        "--units", "linear", "--window", "32", "--out", str(out),
    ]  # fmt: skip
    assert _run_cli(monkeypatch, *args) == 0
    with rasterio.open(out) as ds:
        assert ds.tags()["EMPTY_PERIODS"] == "0"
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    capsys.readouterr()
    assert _run_cli(monkeypatch, *args, "--year", "2021") == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "season year 2021" in errors[0] and "--year 2022" in errors[0]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_partly_empty_folder_records_empty_periods_in_the_map(
    model_dir: Path, s1_2022: Path, tmp_path: Path
) -> None:
    from cropmap.infer.predict import predict_raster

    for p in s1_2022.glob("2022-08-*.tif"):
        p.unlink()  # korea-rice P5 is 1-20 Aug
    with pytest.warns(EmptyPeriodWarning, match="P5"):
        warnings.simplefilter("always", EmptyPeriodWarning)
        out = predict_raster(
            model_dir, s1_2022, tmp_path / "m.tif", calendar="korea-rice", units="linear", window=32
        )
    with rasterio.open(out) as ds:
        assert ds.tags()["EMPTY_PERIODS"] == "1" and ds.tags()["EMPTY_PERIOD_NAMES"] == "P5"
