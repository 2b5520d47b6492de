"""Class styles: a QGIS .qml and a paletted GDAL VRT of the class band, beside the map."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from cropmap.io.raster import write_geotiff
from cropmap.io.style import class_colours, style_paths, write_class_styles


def test_colours_other_grey_target_green_nodata_transparent() -> None:
    c = class_colours(2)
    assert c[0][:3] == (200, 200, 200) and c[1][1] > c[1][0] and c[255][3] == 0
    assert len(set(class_colours(5).values())) == 6


def test_qml_and_vrt_beside_the_map(tmp_path: Path) -> None:
    cls = np.zeros((40, 30), np.uint8)
    cls[10:20, 5:15] = 1
    cls[0] = 255
    path = tmp_path / "korea.tif"
    t = from_origin(500000, 4600000, 10, 10)
    write_geotiff(path, np.stack([cls * 200, cls]), crs="EPSG:32652", transform=t, nodata=255)
    qml, vrt = write_class_styles(
        path,
        ["other", "rice"],
        width=30,
        height=40,
        crs_wkt=rasterio.crs.CRS.from_epsg(32652).to_wkt(),
        transform=t,
    )
    assert (qml, vrt) == style_paths(path) == (tmp_path / "korea.qml", tmp_path / "korea.class.vrt")
    root = ET.parse(qml).getroot()
    renderer = root.find("pipe/rasterrenderer")
    assert (
        renderer is not None and renderer.get("type") == "paletted" and renderer.get("band") == "2"
    )
    labels = [e.get("label") for e in renderer.iter("paletteEntry")]
    assert labels == ["other", "rice"]
    with rasterio.open(vrt) as v, rasterio.open(path) as d:
        assert v.count == 1 and v.colorinterp[0].name == "palette"
        assert v.colormap(1)[1] == class_colours(2)[1]
        assert v.colormap(1)[255][3] == 0
        assert v.crs == d.crs and v.transform == d.transform
        np.testing.assert_array_equal(v.read(1), d.read(2))
    assert not list(tmp_path.glob(".*"))  # no temporary files left
