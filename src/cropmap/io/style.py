"""Display styles of class maps: one colour table, a QGIS ``.qml`` and a paletted GDAL VRT.

A cropmap map is a two-band GeoTIFF (probability, class). GDAL's GeoTIFF driver keeps a
colour table on band 1 only, so the class band (band 2) cannot carry one inside the file.
Two small text files beside the map give it one instead, both written atomically:

* ``<stem>.qml``: a QGIS style (paletted renderer on the class band, with class names);
  QGIS loads it by itself when it opens ``<stem>.tif``.
* ``<stem>.class.vrt``: a one-band GDAL view of the class band with the colour table and
  category names; GDAL-based tools open it coloured, and
  ``gdal_translate maps/x.class.vrt x_class.tif`` makes a paletted GeoTIFF of it.

Colours: class 0 (other) light grey, class 1 (the target crop) green, further classes from
a fixed qualitative palette; the nodata value is fully transparent.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from cropmap.io.atomic import atomic_write_text

RGBA = tuple[int, int, int, int]

#: Colours of class indices 0, 1, 2, ...: other grey, target green, then distinct hues.
CLASS_COLOURS: tuple[RGBA, ...] = (
    (200, 200, 200, 255),
    (26, 152, 80, 255),
    (230, 171, 2, 255),
    (117, 112, 179, 255),
    (217, 95, 2, 255),
    (102, 166, 30, 255),
    (231, 41, 138, 255),
    (166, 118, 29, 255),
)
#: Colour of nodata: transparent.
NODATA_COLOUR: RGBA = (0, 0, 0, 0)


def class_colours(n_classes: int, nodata: int = 255) -> dict[int, RGBA]:
    """``{class index: (r, g, b, a)}`` for ``n_classes`` classes plus ``nodata`` (0..255)."""
    cmap = {i: CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(n_classes)}
    cmap[nodata] = NODATA_COLOUR
    return cmap


def _hex(c: RGBA) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c[:3])


def qml_text(classes: Sequence[str], *, band: int = 2, nodata: int = 255) -> str:
    """A QGIS raster style: paletted renderer of ``band`` with one entry per class."""
    cmap = class_colours(len(classes), nodata)
    entries = "\n".join(
        f'        <paletteEntry value="{i}" color="{_hex(cmap[i])}" alpha="{cmap[i][3]}" '
        f'label="{escape(name, {chr(34): "&quot;"})}"/>'
        for i, name in enumerate(classes)
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28" styleCategories="Symbology">
  <pipe>
    <rasterrenderer type="paletted" band="{band}" opacity="1" alphaBand="-1" nodataColor="">
      <rasterTransparency>
        <singleValuePixelList>
          <pixelListEntry min="{nodata}" max="{nodata}" percentTransparent="100"/>
        </singleValuePixelList>
      </rasterTransparency>
      <colorPalette>
{entries}
      </colorPalette>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" grayscaleMode="0" colorizeOn="0"/>
    <rasterresampler maxOversampling="2"/>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


def vrt_text(
    map_name: str,
    classes: Sequence[str],
    *,
    width: int,
    height: int,
    crs_wkt: str,
    transform: Any,
    band: int = 2,
    nodata: int = 255,
) -> str:
    """A one-band GDAL VRT of ``band`` of ``map_name`` (same folder) with a colour table."""
    cmap = class_colours(len(classes), nodata)
    table = "\n".join(
        '        <Entry c1="{}" c2="{}" c3="{}" c4="{}"/>'.format(*cmap.get(i, NODATA_COLOUR))
        for i in range(256)
    )
    names = "\n".join(f"        <Category>{escape(c)}</Category>" for c in classes)
    t = transform
    geo = f"{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}"
    return f"""<VRTDataset rasterXSize="{width}" rasterYSize="{height}">
  <SRS>{escape(crs_wkt)}</SRS>
  <GeoTransform>{geo}</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1">
    <Description>class</Description>
    <NoDataValue>{nodata}</NoDataValue>
    <ColorInterp>Palette</ColorInterp>
    <CategoryNames>
{names}
    </CategoryNames>
    <ColorTable>
{table}
    </ColorTable>
    <SimpleSource>
      <SourceFilename relativeToVRT="1">{escape(map_name)}</SourceFilename>
      <SourceBand>{band}</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>
      <DstRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>
"""


def style_paths(map_path: str | os.PathLike) -> tuple[Path, Path]:
    """``(<stem>.qml, <stem>.class.vrt)`` beside ``map_path``."""
    p = Path(map_path)
    return p.with_suffix(".qml"), p.with_name(p.stem + ".class.vrt")


def write_class_styles(
    map_path: str | os.PathLike,
    classes: Sequence[str],
    *,
    width: int,
    height: int,
    crs_wkt: str,
    transform: Any,
    band: int = 2,
    nodata: int = 255,
) -> tuple[Path, Path]:
    """Write ``<stem>.qml`` and ``<stem>.class.vrt`` beside a map, each atomically.

    Returns:
        The two paths written.
    """
    qml, vrt = style_paths(map_path)
    atomic_write_text(qml, qml_text(classes, band=band, nodata=nodata))
    text = vrt_text(
        Path(map_path).name,
        classes,
        width=width,
        height=height,
        crs_wkt=crs_wkt,
        transform=transform,
        band=band,
        nodata=nodata,
    )
    atomic_write_text(vrt, text)
    return qml, vrt
