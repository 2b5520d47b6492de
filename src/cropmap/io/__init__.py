"""Thin I/O at the edges: rasters (GeoTIFF/COG) and vectors (anything geopandas reads)."""
