"""Built-in Sentinel-1 scene simulator: four regions with real domain shift.

``simulate_scene(region, size, year, seed, out_dir)`` writes per-date VV/VH GeoTIFFs
(linear sigma0), parcel polygons and scene.json; see ``docs/simulator.md``.
"""

from cropmap.simulate.regions import REGIONS, RegionSpec, get_region
from cropmap.simulate.scene import SceneConfig, simulate_scene

__all__ = ["REGIONS", "RegionSpec", "SceneConfig", "get_region", "simulate_scene"]
