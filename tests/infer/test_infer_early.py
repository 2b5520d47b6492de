"""Early-season maps re-estimate batch norm on the input's own first periods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError
from cropmap.infer.predict import predict_raster


def _map(path: Path) -> tuple[np.ndarray, dict[str, str]]:
    with rasterio.open(path) as ds:
        return ds.read(2) == 1, ds.tags()


def test_early_season_statistics_come_from_the_input(
    trained_model_dir: Path, tmp_path: Path, make_composite, field_mask
) -> None:
    comp = make_composite(tmp_path / "c.tif", 192, 224, seed=7, hole=False)
    truth = field_mask(192, 224)

    def iou(pred: np.ndarray) -> float:
        return float((pred & truth).sum() / (pred | truth).sum())

    kw = {"window": 64, "threads": 1, "engine": "torch", "precision": "fp32"}
    early, tags = _map(predict_raster(trained_model_dir, comp, tmp_path / "e.tif", periods=2, **kw))
    saved, saved_tags = _map(
        predict_raster(
            trained_model_dir, comp, tmp_path / "s.tif", periods=2, early_batchnorm=False, **kw
        )
    )
    assert (tags["BATCHNORM"], saved_tags["BATCHNORM"]) == ("input", "saved")
    assert tags["MODEL_SHA256"] == saved_tags["MODEL_SHA256"]  # the model given, not its copy
    assert (early != saved).any()
    assert iou(early) > iou(saved)  # measured 0.972 against 0.956 with 2 of 8 periods
    assert not list(tmp_path.glob(".*")), "the adapted model folder was not removed"
    full, full_tags = _map(predict_raster(trained_model_dir, comp, tmp_path / "f.tif", **kw))
    assert full_tags["BATCHNORM"] == "saved"  # a full season keeps the model as trained
    with pytest.raises(ConfigError, match="--saved-batchnorm"):
        predict_raster(
            trained_model_dir, comp, tmp_path / "o.tif", periods=2, onnx_path="m.onnx", **kw
        )
    assert not (tmp_path / "o.tif").exists()
