"""Built-in Sentinel-1 scene simulator: four regions with real domain shift.

``simulate_scene(region, size, year, seed, out_dir)`` writes per-date VV/VH GeoTIFFs
(linear sigma0), parcel polygons and scene.json; see ``docs/simulator.md``.
"""

from cropmap.simulate.region_spec import RegionSpec
from cropmap.simulate.regions import REGIONS, get_region
from cropmap.simulate.scene import SceneConfig, simulate_scene, simulator_fingerprint

__all__ = [
    "REGIONS",
    "RegionSpec",
    "SceneConfig",
    "get_region",
    "simulate_scene",
    "simulator_fingerprint",
]
