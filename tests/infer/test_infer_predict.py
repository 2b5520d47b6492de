"""predict_raster: COG layout, blending, nodata, bounded memory, early season, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError, ModelFileError
from cropmap.infer import predict as predict_mod
from cropmap.infer.cog import NODATA, dequantize
from cropmap.infer.engines import ENGINES
from cropmap.infer.predict import predict_raster
from cropmap.models.registry import read_meta


class PixelEngine:
    """A context-free stand-in: the logit of a pixel depends on that pixel only."""

    def __init__(self, model_dir: Path, **_: object) -> None:
        self.meta = read_meta(model_dir)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (0.7 * x[:, 0, 1] - 0.3 * x[:, -1, 0])[:, None].astype(np.float32)


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read()


def test_map_is_a_cog_on_the_input_grid(model_dir: Path, composite: Path, tmp_path: Path) -> None:
    out = predict_raster(model_dir, composite, tmp_path / "map.tif", window=128, overlap=32)
    with rasterio.open(out) as ds, rasterio.open(composite) as src:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.crs == src.crs and ds.transform == src.transform
        assert (ds.width, ds.height) == (src.width, src.height)
        assert ds.dtypes == ("uint8", "uint8") and ds.nodata == NODATA
        assert ds.descriptions == ("probability_rice", "class")
        assert ds.tags()["CLASSES"] == "other,rice"
        a = ds.read()
    # all-band nodata block -> nodata in both bands; partial NaN pixel -> predicted
    assert (a[:, 5:40, 10:60] == NODATA).all()
    assert (a[:, 100:110, 100:110] != NODATA).all()
    assert (a == NODATA).sum() == 2 * 35 * 50
    ok = a[0] != NODATA
    assert a[0][ok].max() <= 254
    sure = ok & (a[0] != 127)  # 127/254 = 0.5: either class after rounding
    np.testing.assert_array_equal(a[1][sure], (a[0][sure] > 127).astype(np.uint8))
    assert 0.05 < a[1][ok].mean() < 0.95
    assert not list(tmp_path.glob(".*")), "temporary files left behind"


def test_large_map_has_overviews(model_dir: Path, tmp_path: Path, make_composite) -> None:
    comp = make_composite(tmp_path / "big.tif", 600, 640, seed=3, hole=False)
    out = predict_raster(model_dir, comp, tmp_path / "map.tif", window=160, batch_size=8)
    with rasterio.open(out) as ds:
        assert ds.overviews(1) and ds.overviews(2)
        assert ds.block_shapes[0] == (512, 512)


def test_blending_is_exact_for_a_pixelwise_model(
    model_dir: Path, composite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every window predicts the same value at a pixel, so any blend must return it."""
    monkeypatch.setitem(ENGINES, "pixel", PixelEngine)
    tiled = predict_raster(
        model_dir, composite, tmp_path / "a.tif", window=64, overlap=24, engine="pixel"
    )
    whole = predict_raster(
        model_dir, composite, tmp_path / "b.tif", window=352, overlap=0, engine="pixel"
    )
    a, b = _read(tiled), _read(whole)
    assert np.abs(a.astype(int) - b).max() <= 1  # float32 sum rounding at most 1/254
    assert (a[0] != b[0]).mean() < 0.01
    assert np.unique(a[0][a[0] != NODATA]).size > 50  # not a constant map


def test_tiled_map_is_close_to_one_pass(model_dir: Path, tmp_path: Path, make_composite) -> None:
    """Seam check: many blended 64 px windows versus one window over the whole area."""
    comp = make_composite(tmp_path / "c.tif", 192, 320, seed=4)
    fp32 = {"engine": "torch", "precision": "fp32"}  # the tiling alone, not int8 calibration
    tiled = _read(
        predict_raster(model_dir, comp, tmp_path / "a.tif", window=64, overlap=16, **fp32)
    )
    whole = _read(
        predict_raster(model_dir, comp, tmp_path / "b.tif", window=320, overlap=0, **fp32)
    )
    a, b = dequantize(tiled[0]), dequantize(whole[0])
    diff = np.abs(a - b)
    assert np.nanmean(diff) < 0.02
    assert np.nanpercentile(diff, 99) < 0.15
    assert (tiled[1] == whole[1]).mean() > 0.97
    assert np.nanstd(a) > 0.05  # the map is not flat


def test_memory_holds_only_a_strip(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_composite
) -> None:
    """The accumulator holds at most one window row plus its overlap, and rows are
    written while later ones are still to be predicted."""
    comp = make_composite(tmp_path / "tall.tif", 900, 40, seed=2, hole=False)
    held: list[int] = []
    written: list[int] = []

    class Spy(predict_mod.RowAccumulator):
        def add(self, res):  # type: ignore[no-untyped-def]
            super().add(res)
            held.append(self.wsum.shape[0])

    monkeypatch.setattr(predict_mod, "RowAccumulator", Spy)
    orig = predict_mod.open_map

    def spy_open(*args, **kwargs):  # type: ignore[no-untyped-def]
        cm = orig(*args, **kwargs)

        class Wrap:
            def __enter__(self):  # type: ignore[no-untyped-def]
                w = cm.__enter__()
                real = w.write_rows

                def rec(row0, p, c):  # type: ignore[no-untyped-def]
                    written.append(len(held))
                    real(row0, p, c)

                w.write_rows = rec
                return w

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                return cm.__exit__(*exc)

        return Wrap()

    monkeypatch.setattr(predict_mod, "open_map", spy_open)
    predict_raster(model_dir, comp, tmp_path / "m.tif", window=64, overlap=16)
    assert max(held) <= 64 + 48
    assert len(written) > 10 and written[0] == 1  # first strip written after the first row


def test_early_season_uses_first_k_periods(model_dir: Path, tmp_path: Path, make_composite) -> None:
    full = make_composite(tmp_path / "full.tif", 96, 96, seed=5, hole=False)
    three = make_composite(tmp_path / "three.tif", 96, 96, seed=5, n_periods=3, hole=False)
    a = _read(predict_raster(model_dir, full, tmp_path / "a.tif", window=64, periods=3))
    b = _read(predict_raster(model_dir, three, tmp_path / "b.tif", window=64, periods=3))
    c = _read(predict_raster(model_dir, full, tmp_path / "c.tif", window=64))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[0].astype(int) - c[0]).mean() > 2
    with rasterio.open(tmp_path / "a.tif") as ds:
        assert ds.tags()["PERIODS_USED"] == "3"
    with pytest.raises(ModelFileError, match="--periods 3"):
        predict_raster(model_dir, three, tmp_path / "d.tif", window=64)
    with pytest.raises(ConfigError, match=r"--periods must be in 1\.\.3"):
        predict_raster(model_dir, three, tmp_path / "d.tif", window=64, periods=5)


def test_multiclass_map(tmp_path: Path, composite: Path, make_model_dir) -> None:
    mdir = make_model_dir(tmp_path / "m3", seed=1, n_classes=3)
    a = _read(predict_raster(mdir, composite, tmp_path / "m.tif", window=128, engine="torch"))
    ok = a[1] != NODATA
    assert set(np.unique(a[1][ok])) <= {0, 1, 2}
    assert a[0][ok].min() >= 254 // 3  # the winner's probability is at least 1/3


def test_bad_input_is_refused(model_dir: Path, tmp_path: Path, make_composite) -> None:
    comp = make_composite(tmp_path / "c.tif", 64, 64, hole=False)
    with rasterio.open(comp) as src:
        arr = src.read()[1::2]  # VH only
        prof = src.profile | {"count": 8}
    vh = tmp_path / "vh.tif"
    with rasterio.open(vh, "w", **prof) as dst:
        dst.write(arr)
        for i in range(8):
            dst.set_band_description(i + 1, f"P{i + 1}_VH")
    with pytest.raises(ModelFileError, match="lacks band"):
        predict_raster(model_dir, vh, tmp_path / "x.tif")
    with pytest.raises(ConfigError, match="valid: auto, torch, onnx"):
        predict_raster(model_dir, comp, tmp_path / "x.tif", engine="tensorrt")
    with pytest.raises(ConfigError, match="overlap"):
        predict_raster(model_dir, comp, tmp_path / "x.tif", window=64, overlap=60)
    with pytest.raises(ModelFileError, match="model.json"):
        predict_raster(tmp_path, comp, tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


def test_windows_without_data_are_skipped(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_composite
) -> None:
    comp = make_composite(tmp_path / "c.tif", 128, 256, seed=6, hole=False)
    with rasterio.open(comp, "r+") as ds:
        arr = ds.read()
        arr[:, :, :130] = np.nan  # left half: no data at all (e.g. outside the swath)
        ds.write(arr)
    seen: list[int] = []

    class Counting(PixelEngine):
        def __call__(self, x: np.ndarray) -> np.ndarray:
            seen.append(x.shape[0])
            return super().__call__(x)

    monkeypatch.setitem(ENGINES, "counting", Counting)
    out = predict_raster(
        model_dir, comp, tmp_path / "m.tif", window=64, overlap=16, engine="counting"
    )
    a = _read(out)
    assert (a[:, :, :130] == NODATA).all()
    assert (a[:, :, 130:] != NODATA).all()
    n_windows = 3 * 5  # axis_starts(128, 64, 16) x axis_starts(256, 64, 16)
    assert 0 < sum(seen) < n_windows


def test_default_batch_holds_the_same_pixels_for_any_window():
    """Memory follows pixels per pass: the default batch keeps them near BATCH_PIXELS."""
    from cropmap.infer.predict import BATCH_PIXELS, DEFAULT_WINDOW, default_batch_size

    assert [default_batch_size(w) for w in (128, 256, 384, 512, 1024)] == [16, 4, 1, 1, 1]
    assert default_batch_size(DEFAULT_WINDOW) * DEFAULT_WINDOW**2 == BATCH_PIXELS
