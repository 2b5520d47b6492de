"""ONNX export and the onnxruntime engine agree with torch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.errors import ModelFileError
from cropmap.infer.engines import get_engine
from cropmap.infer.onnx import OnnxEngine, ensure_export, is_current_export
from cropmap.infer.predict import predict_raster


@pytest.fixture(scope="module")
def onnx_file(trained_model_dir: Path) -> Path:
    """The trained model's export, the one `predict`'s onnx engine makes and reuses: the
    precision test runs onnx on the same model, so the session exports once (an export
    is the slowest step of these tests)."""
    from cropmap.models.registry import read_meta

    return ensure_export(trained_model_dir, read_meta(trained_model_dir))


@pytest.mark.slow
def test_onnx_logits_match_torch(trained_model_dir: Path, onnx_file: Path) -> None:
    torch_engine = get_engine("torch", trained_model_dir)
    onnx_engine = OnnxEngine(trained_model_dir, onnx_path=onnx_file, threads=1)
    rng = np.random.default_rng(0)
    for shape in [(1, 8, 2, 64, 64), (3, 8, 2, 96, 128)]:  # batch and size are dynamic
        x = rng.normal(size=shape).astype(np.float32)
        want, got = torch_engine(x), onnx_engine(x)
        assert got.shape == want.shape == (shape[0], 1, *shape[-2:])
        assert np.abs(got - want).max() < 1e-4
        assert want.std() > 0.1


def test_export_takes_skip_maxima_elementwise(onnx_file: Path) -> None:
    """Max, not ReduceMax: onnxruntime's int8 graph spent 11-12 % of its time in ReduceMax."""
    import onnx

    ops = {node.op_type for node in onnx.load_model(str(onnx_file)).graph.node}
    assert "Max" in ops and "ReduceMax" not in ops


@pytest.mark.slow
def test_onnx_map_matches_torch_map(
    trained_model_dir: Path, composite: Path, onnx_file: Path, tmp_path: Path
) -> None:
    kw = {"window": 128, "overlap": 32, "threads": 1, "precision": "fp32"}
    a = predict_raster(trained_model_dir, composite, tmp_path / "t.tif", engine="torch", **kw)
    b = predict_raster(
        trained_model_dir, composite, tmp_path / "o.tif", engine="onnx", onnx_path=onnx_file, **kw
    )
    with rasterio.open(a) as da, rasterio.open(b) as db:
        x, y = da.read(), db.read()
        assert db.tags()["ENGINE"] == "onnx"
    assert np.abs(x.astype(int) - y).max() <= 1  # uint8 rounding of p within 1e-4
    assert (x[1] != y[1]).mean() < 1e-3


def test_onnx_engine_refuses_missing_and_stale_files(
    trained_model_dir: Path, onnx_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelFileError, match="cropmap export"):
        OnnxEngine(trained_model_dir, onnx_path=tmp_path / "none.onnx")
    other = tmp_path / "other"
    shutil.copytree(trained_model_dir, other)
    meta = json.loads((other / "model.json").read_text())
    meta["weights_sha256"] = "0" * 64
    (other / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="re-export"):
        OnnxEngine(other, onnx_path=onnx_file)


def test_export_keeps_a_current_file_and_knows_a_stale_one(
    trained_model_dir: Path, onnx_file: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cropmap.cli.main import app
    from cropmap.models.registry import read_meta

    assert is_current_export(onnx_file, read_meta(trained_model_dir))
    before = onnx_file.stat().st_mtime_ns
    r = CliRunner().invoke(app, ["export", str(trained_model_dir), "--out", str(onnx_file)])
    assert r.exit_code == 0, r.output
    assert "up to date" in r.output and "--force" in r.output
    assert onnx_file.stat().st_mtime_ns == before  # not re-exported
    other = tmp_path / "other"
    shutil.copytree(trained_model_dir, other)
    meta = json.loads((other / "model.json").read_text())
    meta["weights_sha256"] = "0" * 64  # other weights: the file is stale for them
    (other / "model.json").write_text(json.dumps(meta))
    assert not is_current_export(onnx_file, read_meta(other))
    assert not is_current_export(tmp_path / "none.onnx", read_meta(trained_model_dir))
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    assert not is_current_export(tmp_path / "junk.onnx", read_meta(trained_model_dir))


def test_onnx_engine_names_the_shape_it_takes(trained_model_dir: Path, onnx_file: Path) -> None:
    engine = OnnxEngine(trained_model_dir, onnx_path=onnx_file, threads=1)
    for shape in [(1, 4, 2, 64, 64), (1, 8, 1, 64, 64), (1, 8, 2, 64, 72)]:
        with pytest.raises(ModelFileError, match=r"takes \(B, 8, 2, H, W\).*multiples of 16"):
            engine(np.zeros(shape, np.float32))


def test_export_falls_back_to_dynamo_and_names_both_failures(
    trained_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the TorchScript exporter fails (a later torch may drop it), dynamo exports."""
    import io

    import onnx
    import torch

    from cropmap.infer.onnx import export_onnx

    real = torch.onnx.export
    calls = []

    def dynamo_stand_in(model, args, f=None, *, dynamo, **kw):  # type: ignore[no-untyped-def]
        calls.append(dynamo)
        if not dynamo:
            raise RuntimeError("TorchScript exporter removed")
        assert "dynamic_shapes" in kw  # the dynamo call, answered by a real trace
        buffer = io.BytesIO()
        axes = {"x": {0: "b", 3: "h", 4: "w"}, "logits": {0: "b", 2: "h", 3: "w"}}
        real(
            model,
            args,
            buffer,
            dynamo=False,
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=kw["opset_version"],
        )
        return type("Program", (), {"model_proto": onnx.load_model_from_string(buffer.getvalue())})

    monkeypatch.setattr(torch.onnx, "export", dynamo_stand_in)
    out = export_onnx(trained_model_dir, tmp_path / "m.onnx", window=64)
    assert calls == [False, True] and out.is_file()  # and the dynamic-shape check passed

    def both_fail(model, args, f=None, *, dynamo, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("no" if dynamo else "gone")

    monkeypatch.setattr(torch.onnx, "export", both_fail)
    with pytest.raises(ModelFileError, match="TorchScript exporter: gone; dynamo exporter: no"):
        export_onnx(trained_model_dir, tmp_path / "n.onnx", window=64)
    assert not (tmp_path / "n.onnx").exists()
