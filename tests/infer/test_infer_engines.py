"""Engines and precisions: bf16 torch agrees with fp32; bad combinations are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError
from cropmap.infer.engines import PRECISIONS, check_precision, get_engine
from cropmap.infer.predict import predict_raster


def test_bf16_torch_logits_agree_with_fp32(model_dir: Path) -> None:
    fp32 = get_engine("torch", model_dir)
    bf16 = get_engine("torch", model_dir, precision="bf16")
    assert bf16 is not fp32 and bf16.meta == fp32.meta
    x = np.random.default_rng(0).normal(size=(2, 8, 2, 64, 64)).astype(np.float32)
    want, got = fp32(x), bf16(x)
    assert got.dtype == np.float32 and got.shape == want.shape
    err = np.abs(got - want)
    # bf16 really ran (not bit-equal), and stays close: bf16 keeps ~3 significant digits per layer
    assert 0 < err.mean() < 0.03 * want.std() and err.max() < 0.1 * want.std()
    assert ((got > 0) == (want > 0)).mean() > 0.99


def test_precision_is_checked_against_the_engine(
    model_dir: Path, composite: Path, tmp_path: Path
) -> None:
    assert set(PRECISIONS) == {"fp32", "bf16", "int8"}
    with pytest.raises(ConfigError, match="valid: fp32, bf16, int8"):
        check_precision("torch", "fp16")
    with pytest.raises(ConfigError, match="use --engine torch for bf16"):
        check_precision("onnx", "bf16")
    with pytest.raises(ConfigError, match="use --engine onnx for int8"):
        predict_raster(model_dir, composite, tmp_path / "x.tif", engine="torch", precision="int8")
    assert not (tmp_path / "x.tif").exists()


def test_bf16_map_tag(model_dir: Path, composite: Path, tmp_path: Path) -> None:
    import rasterio

    kw = {"window": 128, "threads": 1, "engine": "torch"}
    a = predict_raster(model_dir, composite, tmp_path / "a.tif", precision="fp32", **kw)
    b = predict_raster(model_dir, composite, tmp_path / "b.tif", precision="bf16", **kw)
    with rasterio.open(a) as da, rasterio.open(b) as db:
        x, y = da.read(), db.read()
        assert db.tags()["PRECISION"] == "bf16" and da.tags()["PRECISION"] == "fp32"
    ok = x[1] != 255
    assert (x[1][ok] != y[1][ok]).mean() < 0.05  # random tiny net; IoU on a trained one: slow test


def test_default_precision_follows_the_measurement() -> None:
    from cropmap.infer.engines import INT8_MIN_PIXELS, default_precision

    assert default_precision("onnx", INT8_MIN_PIXELS) == "int8"
    assert default_precision("onnx", INT8_MIN_PIXELS - 1) == "fp32"  # quantizing costs more
    assert default_precision("torch") in {"bf16", "fp32"}
    assert default_precision("my-engine") == "fp32"


def test_auto_engine_exports_only_where_it_pays(monkeypatch) -> None:
    import torch

    from cropmap.infer.engines import ONNX_MIN_PIXELS, choose_engine

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    small, large = ONNX_MIN_PIXELS - 1, ONNX_MIN_PIXELS
    assert choose_engine("auto", small, has_export=lambda: False) == "torch"
    assert choose_engine("auto", small, has_export=lambda: True) == "onnx"  # export exists
    assert choose_engine("auto", large, has_export=lambda: False) == "onnx"  # pays back
    assert choose_engine("auto", small, has_export=lambda: False, onnx_path="m.onnx") == "onnx"
    assert choose_engine("auto", large, has_export=lambda: True, precision="bf16") == "torch"
    assert choose_engine("auto", small, has_export=lambda: False, precision="int8") == "onnx"
    assert choose_engine("auto", small, has_export=lambda: False, precision="fp32") == "torch"
    assert choose_engine("torch", large, has_export=lambda: True) == "torch"  # as asked
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_engine("auto", large, has_export=lambda: True) == "torch"  # GPU
    with pytest.raises(ConfigError, match="valid: auto, torch, onnx"):
        choose_engine("tensorrt", small, has_export=lambda: False)


def test_small_map_runs_torch_without_exporting(
    make_model_dir, composite: Path, tmp_path: Path
) -> None:
    """The default engine on a small map: torch, and no ONNX file is made."""
    mdir = make_model_dir(tmp_path / "model", seed=3)
    out = predict_raster(mdir, composite, tmp_path / "m.tif", window=128, threads=1)
    with rasterio.open(out) as ds:
        assert ds.tags()["ENGINE"] == "torch"
    assert not (mdir / "model.onnx").exists()
