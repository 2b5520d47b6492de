"""Building stores: parallel = serial, splits that cannot be empty, no target, staging."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from cropmap.cli.main import app
from cropmap.data import PatchStore, build_patches
from cropmap.errors import EmptyInputError, PatchStoreError, SplitAdaptedWarning
from cropmap.io.raster import write_geotiff

from .conftest import CRS, TRANSFORM, write_composite


def _scene(tmp_path, h, w, target=0.3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(-15, 3, (2, 2, h, w)).astype(np.float32)
    y = (rng.random((h, w)) < target).astype(np.uint8)
    comp = write_composite(tmp_path / "comp.tif", x)
    lab = write_geotiff(tmp_path / "labels.tif", y, crs=CRS, transform=TRANSFORM, nodata=255)
    return comp, lab


def _store_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_worker_processes_write_the_serial_store(scene, tmp_path):
    comp, lab, _, _ = scene
    kw = {"size": 8, "stride": 6, "block": 2, "seed": 4}
    serial = build_patches(comp, lab, tmp_path / "a", workers=1, **kw)
    parallel = build_patches(comp, lab, tmp_path / "b", workers=2, **kw)
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    ma.pop("source"), mb.pop("source")
    assert ma == mb and len(serial.patches) == len(parallel.patches) > 8
    a, b = PatchStore(tmp_path / "a"), PatchStore(tmp_path / "b")
    for pid in a.ids():
        for u, v in zip(a.read(pid), b.read(pid), strict=True):
            np.testing.assert_array_equal(u, v)
    assert _store_files(tmp_path / "a") == _store_files(tmp_path / "b")


def test_scene_too_small_for_three_splits_is_refused_and_keeps_the_old_store(tmp_path):
    # the 384 px scene / 256 px patches case, scaled down: 24 px scene, 16 px patches gives
    # 4 patches that all share pixels, so no two splits can both hold one
    comp, lab = _scene(tmp_path, 24, 24)
    old = build_patches(comp, lab, tmp_path / "store", size=16, fractions=(1, 0, 0))
    assert old.counts() == {"train": 4, "val": 0, "test": 0}
    before = {p: (tmp_path / "store" / p).read_bytes() for p in _store_files(tmp_path / "store")
              if p.endswith((".json", ".npz"))}  # fmt: skip
    with pytest.raises(PatchStoreError, match=r"split .* would be empty .*--size 8"):
        build_patches(comp, lab, tmp_path / "store", size=16, overwrite=True)
    r = CliRunner().invoke(app, ["patches", str(comp), str(lab), str(tmp_path / "store"),
                                 "--size", "16", "--force"])  # fmt: skip
    assert isinstance(r.exception, PatchStoreError)  # main() prints one line, exits 2
    after = {p: (tmp_path / "store" / p).read_bytes() for p in before}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comp.tif", "labels.tif", "store"]


def test_random_split_of_too_few_patches_is_refused(tmp_path):
    comp, lab = _scene(tmp_path, 16, 32)  # two disjoint 16 px patches for three splits
    with pytest.raises(PatchStoreError, match="'test' would be empty"):
        build_patches(comp, lab, tmp_path / "s", size=16, split="random")
    assert not (tmp_path / "s").exists()


def test_block_shrinks_with_a_warning_and_the_manifest_records_it(tmp_path):
    comp, lab = _scene(tmp_path, 32, 32)  # 16 patches of 8 px: one block of 4, four of 2
    with pytest.warns(SplitAdaptedWarning, match="shrunk from 4 to 2"):
        m = build_patches(comp, lab, tmp_path / "s", size=8, block=4)
    assert (m.block, m.block_requested) == (2, 4)
    assert all(m.counts()[s] > 0 for s in ("train", "val", "test"))
    r = CliRunner().invoke(app, ["patches", str(comp), str(lab), str(tmp_path / "t"),
                                 "--size", "8"])  # fmt: skip
    assert r.exit_code == 0, r.output
    line = r.output.replace("\n", " ")
    assert "(train 8, val 4, test 4; spatial block 2 (asked 4) patch sizes)" in line
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitAdaptedWarning)
        m = build_patches(comp, lab, tmp_path / "u", size=8, block=2)
    assert (m.block, m.block_requested) == (2, 2)


def test_labels_without_target_are_refused(tmp_path):
    comp, lab = _scene(tmp_path, 32, 32, target=0.0)
    with pytest.raises(EmptyInputError, match=r"no pixel of .* is labelled 1 \(target 'rice'\)"):
        build_patches(comp, lab, tmp_path / "s", size=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comp.tif", "labels.tif"]
