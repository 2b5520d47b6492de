"""Parcel vectors: anything geopandas reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf...)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cropmap.errors import VectorError


def read_vector(
    path: str | os.PathLike,
    *,
    layer: str | int | None = None,
    columns: list[str] | None = None,
) -> Any:
    """Read a vector file into a GeoDataFrame, checking it has features and a CRS.

    Args:
        path: any file or folder geopandas (pyogrio) can read.
        layer: layer name or index for multi-layer files (GeoPackage).
        columns: columns that must exist (the message lists those available).

    Raises:
        VectorError: missing or unreadable file, no features, no CRS, missing column.
    """
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise VectorError(f"vector file not found: {path}")
    try:
        kwargs: dict[str, Any] = {} if layer is None else {"layer": layer}
        gdf = gpd.read_file(path, **kwargs)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise VectorError(f"cannot read {path} as a vector file: {exc}") from exc
    if len(gdf) == 0:
        raise VectorError(f"{path} has no features")
    if gdf.crs is None:
        raise VectorError(
            f"{path} has no CRS; set one first (e.g. with ogr2ogr -a_srs EPSG:4326) "
            "so the parcels can be placed on the raster grid"
        )
    for col in columns or []:
        if col not in gdf.columns:
            have = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
            raise VectorError(f"column {col!r} not in {path} (columns: {have})")
    return gdf
