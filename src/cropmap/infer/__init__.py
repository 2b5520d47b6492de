"""Country-scale mapping: tiled prediction into COGs, Dask scale-out, ONNX, parcel tables.

Public API (see docs/predict.md):

- :func:`predict_raster`: model dir + composite (or S1 folder + calendar) -> COG map
- :func:`export_onnx`: model dir -> ONNX file for ``engine="onnx"``
- :func:`parcel_stats`: map + parcels -> GeoPackage of per-parcel statistics
- :data:`ENGINES`: inference engines by name; :data:`PRECISIONS`: precisions and their engines
- :func:`window_rows`, :func:`blend_weights`: the window grid and its blending weights

Heavy modules (torch, onnxruntime, dask) load only when used.
"""

from cropmap.infer.engines import ENGINES, PRECISIONS, get_engine
from cropmap.infer.onnx import export_onnx
from cropmap.infer.parcel_table import parcel_stats
from cropmap.infer.predict import DEFAULT_OVERLAP, DEFAULT_WINDOW, predict_raster
from cropmap.infer.windows import blend_weights, window_rows

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_WINDOW",
    "ENGINES",
    "PRECISIONS",
    "blend_weights",
    "export_onnx",
    "get_engine",
    "parcel_stats",
    "predict_raster",
    "window_rows",
]
