"""Patch stores, splits and the Dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cropmap.data import PatchDataset, PatchStore, build_patches
from cropmap.data.splits import block_split, drop_overlaps, random_split


def _pixels(info, size):
    return {(info.row + i, info.col + j) for i in range(size) for j in range(size)}


@pytest.mark.parametrize("stride", [8, 5])
def test_block_split_has_no_shared_pixels(scene, tmp_path, stride):
    comp, lab, _, _ = scene
    m = build_patches(comp, lab, tmp_path / "store", size=8, stride=stride, block=1, seed=3)
    owner: dict = {}
    for p in m.patches:
        for px in _pixels(p, 8):
            assert owner.setdefault(px, p.split) == p.split, (px, p.id)
    assert {p.split for p in m.patches} == {"train", "val", "test"}
    ids = [p.id for p in m.patches]
    assert len(ids) == len(set(ids))


def test_unlabelled_patches_are_skipped(scene, tmp_path):
    comp, lab, _, y = scene
    m = build_patches(comp, lab, tmp_path / "store", size=8)
    assert all(p.col >= 8 for p in m.patches)  # first 8 columns are all 255
    assert m.dropped["no_valid_label"] == 5
    assert all(p.valid_fraction > 0 for p in m.patches)


def test_store_roundtrip_and_norm_on_train_only(scene, tmp_path):
    comp, lab, x, y = scene
    m = build_patches(comp, lab, tmp_path / "store", size=8, split="random", seed=1)
    store = PatchStore(tmp_path / "store")
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["format"] == "cropmap-patches/1" and manifest["bands"] == ["VV", "VH"]
    pid = store.ids("val")[0]
    info = store.info(pid)
    px, py = store.read(pid)
    assert px.shape == (4, 2, 8, 8) and px.dtype == np.float32 and py.dtype == np.uint8
    np.testing.assert_array_equal(px, x[:, :, info.row : info.row + 8, info.col : info.col + 8])
    train = [store.read(i)[0] for i in store.ids("train")]
    vh = np.concatenate([t[:, 1].ravel() for t in train])
    assert m.norm["mean"]["VH"] == pytest.approx(float(vh.mean()), abs=1e-4)
    assert m.norm["std"]["VH"] == pytest.approx(float(vh.std()), abs=1e-4)
    everything = x[:, 1, :, 8:].ravel()
    assert m.norm["mean"]["VH"] != pytest.approx(float(everything.mean()), abs=1e-6)


def test_dataset_shapes_dtypes_and_normalization(scene, tmp_path):
    comp, lab, x, _ = scene
    build_patches(comp, lab, tmp_path / "store", size=8)
    calls = []

    def augment(a, b):
        calls.append(a.shape)
        return a[:, :, ::-1].copy(), b[::-1].copy()

    ds = PatchDataset(tmp_path / "store", split="train", bands=["VH"], augment=augment)
    xt, yt = ds[0]
    assert xt.shape == (4, 1, 8, 8) and xt.dtype == torch.float32
    assert yt.shape == (8, 8) and yt.dtype == torch.int64
    assert calls == [(4, 1, 8, 8)]
    info = ds.store.info(ds.ids[0])
    raw = x[:, 1, info.row : info.row + 8, info.col : info.col + 8][:, ::-1]
    norm = ds.store.manifest.norm
    expect = (raw - norm["mean"]["VH"]) / norm["std"]["VH"]
    np.testing.assert_allclose(xt[:, 0].numpy(), expect, atol=1e-5)


def test_split_functions_are_deterministic_and_complete():
    rows = [r for r in range(0, 80, 8) for _ in range(0, 80, 8)]
    cols = [c for _ in range(0, 80, 8) for c in range(0, 80, 8)]
    a = block_split(rows, cols, 8, (0.6, 0.2, 0.2), seed=5, block=2)
    assert a == block_split(rows, cols, 8, (0.6, 0.2, 0.2), seed=5, block=2)
    assert set(a) == {"train", "val", "test"}
    # whole blocks: the four patches of a 2x2 block share a split
    for r, c, s in zip(rows, cols, a, strict=True):
        top_left = (r - r % 16) // 8 * 10 + (c - c % 16) // 8  # index of the block's first patch
        assert s == a[top_left]
    b = random_split(rows, cols, 8, (0.5, 0.5, 0.0), seed=1)
    assert b.count("train") == 50 and b.count("val") == 50
    # overlapping patches of different splits: the later claimant is dropped
    assert drop_overlaps([0, 0], [0, 4], 8, ["train", "test"]) == [None, "test"]
    assert drop_overlaps([0, 0], [0, 8], 8, ["train", "test"]) == ["train", "test"]


def test_korea_scale_store_opens_fast_and_reads_lazily(tmp_path):
    """A 12,942-patch manifest loads quickly; only the requested patch file is read."""
    import time

    from cropmap.data.patch_writer import write_npz as _write_npz
    from cropmap.data.patches import PatchInfo, PatchManifest

    infos = [
        PatchInfo(
            id=f"p{i}",
            file=f"patches/p{i}.npz",
            split="train" if i % 5 else "val",
            row=0,
            col=i * 256,
            transform=[10, 0, 0, 0, -10, 0],
            valid_fraction=1.0,
            target_fraction=0.3,
        )
        for i in range(12942)
    ]
    m = PatchManifest(
        periods=["P1"],
        bands=["VH"],
        crs="",
        patch_size=4,
        stride=4,
        norm={"mean": {"VH": -15.0}, "std": {"VH": 2.0}},
        patches=infos,
    )
    (tmp_path / "patches").mkdir()
    (tmp_path / "manifest.json").write_text(m.model_dump_json())
    _write_npz(
        tmp_path / "patches" / "p7.npz",
        np.full((1, 1, 4, 4), -13.0, np.float32),
        np.ones((4, 4), np.uint8),
    )
    t0 = time.perf_counter()
    ds = PatchDataset(tmp_path, split="train")
    assert time.perf_counter() - t0 < 5.0
    assert len(ds) == 12942 - 2589
    i = ds.ids.index("p7")
    x, y = ds[i]  # the only patch file on disk
    assert torch.allclose(x, torch.full((1, 1, 4, 4), 1.0)) and int(y.sum()) == 16
    with pytest.raises(Exception, match="p8"):
        ds[ds.ids.index("p8")]


def test_store_errors(scene, tmp_path):
    from affine import Affine

    from cropmap.errors import GridMismatchError, PatchStoreError
    from cropmap.io.raster import write_geotiff

    comp, lab, _, y = scene
    odd = tmp_path / "odd.tif"
    write_geotiff(odd, y, crs="EPSG:32631", transform=Affine(10, 0, 0, 0, -10, 0), nodata=255)
    with pytest.raises(GridMismatchError, match="not on the grid"):
        build_patches(comp, odd, tmp_path / "s0", size=8)
    build_patches(comp, lab, tmp_path / "s1", size=8)
    with pytest.raises(PatchStoreError, match="--force"):
        build_patches(comp, lab, tmp_path / "s1", size=8)
    with pytest.raises(PatchStoreError, match="unknown split 'tr'"):
        PatchStore(tmp_path / "s1").ids("tr")
    with pytest.raises(PatchStoreError, match="band 'HH'"):
        PatchDataset(tmp_path / "s1", bands=["HH"])
    with pytest.raises(PatchStoreError, match="missing manifest"):
        PatchStore(tmp_path / "nothing")
