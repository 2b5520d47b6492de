"""cropmap: crop maps from Sentinel-1 SAR time series with a Recurrent U-Net.

The public API is organised by stage (see docs/architecture.md):

- :mod:`cropmap.sar` reads Sentinel-1 GeoTIFFs and composites them by calendar,
- :mod:`cropmap.simulate` writes synthetic scenes in the same formats,
- :mod:`cropmap.data` rasterizes parcels and builds patch stores,
- :mod:`cropmap.models` / :mod:`cropmap.train` build and train models,
- :mod:`cropmap.transfer` / :mod:`cropmap.experiments` run transfer learning,
- :mod:`cropmap.infer` maps whole rasters.
"""

__version__ = "0.1.0"
