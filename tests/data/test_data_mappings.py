"""National class codes -> labels: mapping presets, matching rules, unmapped-code report."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import box

from cropmap.data import ClassMapping, load_mapping, mapping_preset_names, rasterize_parcels
from cropmap.data.mappings import normalize_class
from cropmap.errors import DroppedParcelsWarning, VectorError


def _parcels(comp, column, classes, path):
    """One 4 x 4 px parcel per class, side by side along the first rows of ``comp``."""
    with rasterio.open(comp) as ds:
        t = ds.transform
    geoms = []
    for i in range(len(classes)):
        x0, y0 = t * (4 * i, 0)
        x1, y1 = t * (4 * i + 4, 4)
        geoms.append(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    gpd.GeoDataFrame({column: classes}, geometry=geoms, crs="EPSG:32631").to_file(path)
    return path


def _labels_of(path, n):
    with rasterio.open(path) as ds:
        lab = ds.read(1)
    return [int(lab[1, 4 * i + 1]) for i in range(n)]


def test_presets_load_with_sources():
    assert mapping_preset_names() == [
        "catalonia-dun",
        "france-rpg",
        "korea-farmmap",
        "netherlands-brp",
    ]
    for name in mapping_preset_names():
        m = load_mapping(name)
        assert m.name == name and m.source and 1 in m.values.values()


def test_normalize_class_rules():
    assert normalize_class(" Arròs ") == normalize_class("ARROS") == "arros"
    assert normalize_class(236.0) == normalize_class("236") == normalize_class(236) == "236"
    assert normalize_class(float("nan")) is None and normalize_class("  ") is None
    assert normalize_class("논") == "논"


def test_france_rpg_codes_and_unmapped_report(scene, tmp_path):
    comp = scene[0]
    classes = ["RIZ", "BTH", "MIS", "BTH", None, "riz"]
    vec = _parcels(comp, "CODE_CULTU", classes, tmp_path / "rpg.gpkg")
    report = rasterize_parcels(vec, comp, tmp_path / "lab.tif", mapping="france-rpg")
    assert _labels_of(tmp_path / "lab.tif", len(classes)) == [1, 0, 0, 0, 255, 1]
    assert report.unmapped == {"BTH": 2, "MIS": 1}  # most frequent first
    assert "2 classes not in the mapping got 0 (parcels: BTH 2, MIS 1)" in report.summary()
    with rasterio.open(tmp_path / "lab.tif") as ds:
        assert ds.tags()["CLASS_COLUMN"] == "CODE_CULTU"
        assert ds.tags()["MAPPING_NAME"] == "france-rpg"


def test_unmapped_counts_only_parcels_on_the_grid(scene, tmp_path):
    comp = scene[0]
    vec = _parcels(comp, "CODE_CULTU", ["RIZ", "BTH"], tmp_path / "rpg.gpkg")
    gdf = gpd.read_file(vec)
    far = gdf.iloc[[1]].copy()
    far["geometry"] = far.geometry.translate(1e5, 0)  # 100 km east: off the grid
    far["CODE_CULTU"] = "MIS"
    gpd.GeoDataFrame(pd.concat([gdf, far]), crs=gdf.crs).to_file(tmp_path / "more.gpkg")
    with pytest.warns(DroppedParcelsWarning):
        report = rasterize_parcels(
            tmp_path / "more.gpkg", comp, tmp_path / "lab.tif", mapping="france-rpg"
        )
    assert report.unmapped == {"BTH": 1}


def test_netherlands_codes_read_as_numbers(scene, tmp_path):
    comp = scene[0]
    codes = [236.0, 235.0, 233.0, 265.0, 999.0]
    vec = _parcels(comp, "gewascode", codes, tmp_path / "brp.gpkg")
    report = rasterize_parcels(vec, comp, tmp_path / "lab.tif", mapping="netherlands-brp")
    assert _labels_of(tmp_path / "lab.tif", len(codes)) == [1, 1, 0, 0, 0]
    assert report.unmapped == {"999": 1}


def test_catalonia_names_ignore_accents_and_korea_hangul(scene, tmp_path):
    comp = scene[0]
    names = ["Arròs", "ARROS", "BLAT TOU", "arroz"]
    vec = _parcels(comp, "producte", names, tmp_path / "dun.gpkg")
    rasterize_parcels(
        vec, comp, tmp_path / "c.tif", mapping="catalonia-dun", class_column="producte"
    )
    assert _labels_of(tmp_path / "c.tif", len(names)) == [1, 1, 0, 1]
    classes = ["논", "밭", "시설", "paddy fallow"]
    vec = _parcels(comp, "class", classes, tmp_path / "farm.gpkg")
    report = rasterize_parcels(
        vec, comp, tmp_path / "k.tif", mapping="korea-farmmap", class_column="class"
    )
    assert _labels_of(tmp_path / "k.tif", len(classes)) == [1, 0, 0, 0]
    assert report.unmapped == {}


def test_preset_without_column_needs_class_column(scene, tmp_path):
    comp = scene[0]
    vec = _parcels(comp, "producte", ["ARROS"], tmp_path / "dun.gpkg")
    with pytest.raises(VectorError, match="'catalonia-dun' names no class column.*producte"):
        rasterize_parcels(vec, comp, tmp_path / "c.tif", mapping="catalonia-dun")


def test_mapping_file_and_errors(tmp_path):
    good = tmp_path / "m.yaml"
    good.write_text("name: mine\ncolumn: code\nvalues: {17: 1, wheat: 0}\ndefault: 255\n")
    m = load_mapping(good)
    assert isinstance(m, ClassMapping) and m.lookup() == {"17": 1, "wheat": 0}
    assert m.default == 255
    with pytest.raises(VectorError, match="mapping 'nope' not found: .*france-rpg"):
        load_mapping("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("values: {RIZ: 300}\n")
    with pytest.raises(VectorError, match=r"mapping file .*bad.yaml: values: .*0\.\.255"):
        load_mapping(bad)
    clash = tmp_path / "clash.yaml"
    clash.write_text("values: {Arròs: 1, ARROS: 0}\n")
    with pytest.raises(VectorError, match="match alike but map to different values"):
        load_mapping(clash)
    with pytest.raises(VectorError, match="colum: Extra inputs"):
        load_mapping({"values": {"a": 1}, "colum": "x"})


def test_cli_rasterize_mapping_prints_unmapped(scene, tmp_path, monkeypatch, capsys):
    import sys

    from cropmap.cli.main import main

    comp = scene[0]
    vec = _parcels(comp, "CODE_CULTU", ["RIZ", "PPH", "PPH"], tmp_path / "rpg.gpkg")
    out = tmp_path / "lab.tif"
    monkeypatch.setattr(
        sys, "argv", ["cropmap", "rasterize", str(vec), str(comp), "--out", str(out), "--mapping",
                      "france-rpg"],
    )  # fmt: skip
    try:
        main()
    except SystemExit as exc:  # success may end in exit status 0 or just return
        assert exc.code in (0, None)
    printed = capsys.readouterr().out
    assert "1 classes not in the mapping got 0 (parcels: PPH 2)" in printed
    with rasterio.open(out) as ds:
        assert np.count_nonzero(ds.read(1) == 1) == 16
