"""Country-scale mapping: tiled prediction into COGs, Dask scale-out, ONNX, parcel tables.

Public API (see docs/predict.md):

- :func:`predict_raster`: model dir + composite (or S1 folder + calendar) -> COG map
- :func:`export_onnx`: model dir -> ONNX file for ``engine="onnx"``
- :func:`parcel_stats`: map + parcels -> GeoPackage of per-parcel statistics
- :data:`ENGINES`: inference engines by name; :data:`PRECISIONS`: precisions and their engines
- :func:`window_rows`, :func:`blend_weights`: the window grid and its blending weights

The names resolve on first access, so ``cropmap.infer.cog`` or ``parcel_table`` alone do
not load torch; heavy modules (torch, onnxruntime, dask) load only when used.
"""

from __future__ import annotations

from cropmap._lazy import lazy_getattr

_EXPORTS = {
    "DEFAULT_OVERLAP": "cropmap.infer.predict",
    "DEFAULT_WINDOW": "cropmap.infer.predict",
    "ENGINES": "cropmap.infer.engines",
    "PRECISIONS": "cropmap.infer.engines",
    "blend_weights": "cropmap.infer.windows",
    "export_onnx": "cropmap.infer.onnx",
    "get_engine": "cropmap.infer.engines",
    "parcel_stats": "cropmap.infer.parcel_table",
    "predict_raster": "cropmap.infer.predict",
    "window_rows": "cropmap.infer.windows",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
