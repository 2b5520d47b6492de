"""The default precision keeps a trained model's map within 0.005 IoU of fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.infer.predict import predict_raster


def _iou(pred: np.ndarray, truth: np.ndarray) -> float:
    return float((pred & truth).sum() / max(1, (pred | truth).sum()))


@pytest.mark.slow
def test_precisions_agree_on_a_trained_model(
    trained_model_dir: Path, tmp_path: Path, make_composite, field_mask
) -> None:
    """Guards the default: int8 (and bf16) maps within 0.005 IoU of the fp32 map."""
    comp = make_composite(tmp_path / "c.tif", 192, 224, seed=7, hole=False)
    truth = field_mask(192, 224)
    maps = {}
    for engine, precision in (
        ("torch", "fp32"),
        ("torch", "bf16"),
        ("onnx", "fp32"),
        ("onnx", "int8"),
    ):
        out = predict_raster(
            trained_model_dir,
            comp,
            tmp_path / f"{engine}_{precision}.tif",
            window=64,
            overlap=16,
            engine=engine,
            precision=precision,
            threads=1,
        )
        with rasterio.open(out) as ds:
            maps[engine, precision] = ds.read(2) == 1
            assert ds.tags()["PRECISION"] == precision
    ref = _iou(maps["torch", "fp32"], truth)
    assert ref > 0.8, "the tiny model did not learn the pattern"
    for key, pred in maps.items():
        assert abs(_iou(pred, truth) - ref) <= 0.005, key
        assert _iou(pred, maps["torch", "fp32"]) > 0.99, key
    assert not list(tmp_path.glob(".*")), "the int8 file was not removed"
