"""What a simulated region is made of: orbits, land-use zones, management variants.

The four built-in regions (:mod:`cropmap.simulate.regions`) are instances of
:class:`RegionSpec`; every scene records its full spec in scene.json.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cropmap.simulate.phenology import Trajectory


class Variant(BaseModel):
    """One management type of a class (e.g. spring vs winter barley).

    Attributes:
        name: label of the variant (kept in scene.json statistics only).
        weight: relative frequency of the variant within its class.
        planting_doy: mean planting (sowing/transplanting) day of year.
        planting_sd: standard deviation of planting dates between parcels, days.
        trajectory: the backscatter model; None uses the class default.
        offset_vv: regional level offset of VV, dB (soil, practice, calibration).
        offset_vh: regional level offset of VH, dB.
    """

    model_config = ConfigDict(frozen=True)
    name: str = "default"
    weight: float = 1.0
    planting_doy: float = 120.0
    planting_sd: float = 10.0
    trajectory: Trajectory | None = None
    offset_vv: float = 0.0
    offset_vh: float = 0.0


class Zone(BaseModel):
    """A land-use zone: a quantile band of a smooth landscape field.

    Attributes:
        name: zone name.
        upto: upper quantile of the landscape field (zones are listed in increasing order).
        cell_length_m: mean parcel length along the field orientation, metres;
            0 means the whole connected zone is one parcel per component (rivers, lagoons).
        cell_width_m: mean parcel width, metres.
        mix: class name -> probability of a parcel of this zone.
        roads_every: every n-th parcel row boundary is a farm road (0: none).
    """

    model_config = ConfigDict(frozen=True)
    name: str
    upto: float
    cell_length_m: float = 0.0
    cell_width_m: float = 0.0
    mix: dict[str, float] = Field(default_factory=dict)
    roads_every: int = 0


class Orbit(BaseModel):
    """A Sentinel-1 relative orbit seeing the scene.

    Attributes:
        relative_orbit: track number (illustrative).
        direction: ascending or descending pass.
        incidence_deg: incidence angle at the scene centre, degrees.
        phase_days: days after the 12-day cycle's reference date (2016-01-01).
        swath_edge: side of the scene cut by this track's swath edge (NaN strip), or none.
        edge_fraction: width of the missing strip as a fraction of the scene width.
    """

    model_config = ConfigDict(frozen=True)
    relative_orbit: int
    direction: Literal["ascending", "descending"]
    incidence_deg: float
    phase_days: int
    swath_edge: Literal["none", "west", "east"] = "none"
    edge_fraction: float = 0.1


class RegionSpec(BaseModel):
    """Everything that makes a region differ from another.

    Attributes:
        name: region name.
        epsg: UTM CRS of the scene.
        origin: (x, y) of the upper-left corner, metres in that CRS.
        target: target crop of the region.
        calendar: name of the compositing calendar preset (``cropmap.sar``).
        season: first and last acquisition day (``MM-DD``).
        orbits: the relative orbits that see the scene.
        zones: land-use zones, increasing ``upto``.
        zone_sigma_m: smoothing of the landscape field along / across its orientation, m.
        orientation_deg: orientation of valleys and field rows, degrees from east.
        warp_m: amplitude of the smooth warp bending field rows, metres.
        variants: class -> management variants (classes not listed use one default).
        gain_sd_db: standard deviation of the per-parcel gain, dB.
        jitter_db: per-parcel, per-date noise (wind, dew, local moisture), dB.
        moisture_sd_db: scene-wide soil-moisture anomaly per date (rain), dB.
        gap_days: length of the acquisition gap (no data), days.
        vigor_sd: spread of the per-parcel factor on the size of phenological changes.
        label_noise: fraction of crop parcels whose declared crop (parcels.gpkg) is not
            the crop simulated (outdated or wrong declarations).
        heterogeneity_sd: within-field heterogeneity: standard deviation of a spatially
            correlated per-pixel factor on the size of a crop's phenological changes
            (uneven levelling, water depth and emergence); 0 = uniform fields.
        heterogeneity_px: correlation length of that factor, pixels.
        calibration_db: scene-wide (VV, VH) offset of every pixel, dB: radiometric
            differences between regions' processing and soils that are not incidence.
    """

    model_config = ConfigDict(frozen=True)
    name: str
    epsg: int
    origin: tuple[float, float]
    target: str
    calendar: str
    season: tuple[str, str]
    orbits: tuple[Orbit, ...]
    zones: tuple[Zone, ...]
    zone_sigma_m: tuple[float, float] = (1500.0, 1500.0)
    orientation_deg: float = 0.0
    warp_m: float = 30.0
    variants: dict[str, tuple[Variant, ...]] = Field(default_factory=dict)
    gain_sd_db: float = 0.7
    jitter_db: float = 0.4
    moisture_sd_db: float = 0.6
    gap_days: int = 10
    vigor_sd: float = 0.12
    label_noise: float = 0.02
    heterogeneity_sd: float = 0.0
    heterogeneity_px: float = 3.0
    calibration_db: tuple[float, float] = (0.0, 0.0)
