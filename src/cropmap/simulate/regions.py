"""The four built-in regions: grid, calendar, landscape, crop mix, planting dates, orbits.

Each region is data (:class:`RegionSpec`); :func:`get_region` looks one up by name and a
bad name lists the valid ones. Numbers and their sources are discussed in
``docs/simulator.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cropmap.errors import ConfigError
from cropmap.simulate.phenology import (
    EARLY_VEG,
    EBRO_RICE,
    EU_RICE,
    PADDY_FALLOW,
    WET_MEADOW,
    WINTER_BARLEY,
    Trajectory,
)


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


KOREA = RegionSpec(
    name="korea",
    epsg=32652,
    origin=(305000.0, 3968000.0),
    target="rice",
    calendar="korea-rice",
    season=("04-01", "10-31"),
    orbits=(
        Orbit(relative_orbit=134, direction="ascending", incidence_deg=34.5, phase_days=3),
        Orbit(
            relative_orbit=61,
            direction="descending",
            incidence_deg=41.5,
            phase_days=8,
            swath_edge="east",
            edge_fraction=0.08,
        ),
    ),
    zones=(
        Zone(name="river", upto=0.04, mix={"water": 1.0}),
        Zone(
            name="valley",
            upto=0.62,
            cell_length_m=80.0,
            cell_width_m=42.0,
            roads_every=5,
            mix={
                "rice": 0.74,
                "soybean": 0.04,
                "vegetables": 0.06,
                "barley": 0.03,
                "fallow": 0.05,
                "grassland": 0.03,
                "urban": 0.05,
            },
        ),
        Zone(
            name="hills",
            upto=1.0,
            cell_length_m=450.0,
            cell_width_m=300.0,
            mix={"forest": 0.88, "urban": 0.03, "grassland": 0.04, "fallow": 0.05},
        ),
    ),
    zone_sigma_m=(2500.0, 500.0),
    orientation_deg=30.0,
    warp_m=25.0,
    variants={
        "rice": (
            Variant(name="main", weight=0.85, planting_doy=145, planting_sd=6),
            Variant(name="after-barley", weight=0.15, planting_doy=163, planting_sd=6),
        ),
        "barley": (
            Variant(name="winter", planting_doy=60, planting_sd=8, trajectory=WINTER_BARLEY),
        ),
        "soybean": (Variant(planting_doy=160, planting_sd=8),),
        "vegetables": (Variant(planting_doy=110, planting_sd=20),),
        "fallow": (
            Variant(name="upland", weight=0.6, planting_doy=100, planting_sd=20),
            Variant(
                name="paddy", weight=0.4, planting_doy=140, planting_sd=10, trajectory=PADDY_FALLOW
            ),
        ),
    },
    gain_sd_db=0.6,
    label_noise=0.01,
)

SPAIN = RegionSpec(
    name="spain",
    epsg=32631,
    origin=(302000.0, 4515000.0),
    target="rice",
    calendar="spain-rice",
    season=("04-01", "10-31"),
    orbits=(
        Orbit(
            relative_orbit=30,
            direction="ascending",
            incidence_deg=45.0,
            phase_days=1,
            swath_edge="west",
            edge_fraction=0.12,
        ),
        Orbit(relative_orbit=110, direction="descending", incidence_deg=41.0, phase_days=6),
    ),
    zones=(
        Zone(name="lagoon", upto=0.07, mix={"water": 1.0}),
        Zone(
            name="paddies",
            upto=0.85,
            cell_length_m=190.0,
            cell_width_m=90.0,
            roads_every=6,
            mix={
                "rice": 0.84,
                "fallow": 0.04,
                "grassland": 0.03,
                "vegetables": 0.03,
                "urban": 0.02,
                "water": 0.04,
            },
        ),
        Zone(
            name="mixed",
            upto=1.0,
            cell_length_m=150.0,
            cell_width_m=100.0,
            roads_every=4,
            mix={
                "vegetables": 0.3,
                "maize": 0.15,
                "grassland": 0.15,
                "fallow": 0.1,
                "urban": 0.15,
                "forest": 0.05,
                "barley": 0.05,
                "rice": 0.05,
            },
        ),
    ),
    zone_sigma_m=(1800.0, 1200.0),
    orientation_deg=-20.0,
    warp_m=15.0,
    variants={
        "rice": (
            Variant(
                planting_doy=132,
                planting_sd=9,
                trajectory=EBRO_RICE,
                offset_vv=1.0,
                offset_vh=1.0,
            ),
        ),
        "maize": (Variant(planting_doy=110, planting_sd=10),),
        "vegetables": (Variant(planting_doy=90, planting_sd=25),),
        "barley": (
            Variant(name="winter", planting_doy=40, planting_sd=10, trajectory=WINTER_BARLEY),
        ),
        "fallow": (Variant(planting_doy=100, planting_sd=20),),
    },
    gain_sd_db=0.8,
)

FRANCE = RegionSpec(
    name="france",
    epsg=32631,
    origin=(618000.0, 4830000.0),
    target="rice",
    calendar="france-rice",
    season=("04-01", "10-31"),
    orbits=(
        Orbit(relative_orbit=88, direction="ascending", incidence_deg=37.0, phase_days=2),
        Orbit(
            relative_orbit=139,
            direction="descending",
            incidence_deg=40.5,
            phase_days=5,
            swath_edge="west",
            edge_fraction=0.1,
        ),
    ),
    zones=(
        Zone(name="etangs", upto=0.12, mix={"water": 1.0}),
        Zone(
            name="marsh",
            upto=0.35,
            cell_length_m=350.0,
            cell_width_m=220.0,
            mix={"grassland": 0.65, "water": 0.1, "fallow": 0.12, "forest": 0.08, "rice": 0.05},
        ),
        Zone(
            name="fields",
            upto=0.96,
            cell_length_m=220.0,
            cell_width_m=110.0,
            roads_every=4,
            mix={
                "rice": 0.5,
                "barley": 0.1,
                "grassland": 0.1,
                "maize": 0.05,
                "vegetables": 0.08,
                "fallow": 0.1,
                "soybean": 0.04,
                "urban": 0.03,
            },
        ),
        Zone(
            name="town",
            upto=1.0,
            cell_length_m=120.0,
            cell_width_m=100.0,
            mix={"urban": 0.7, "grassland": 0.2, "forest": 0.1},
        ),
    ),
    zone_sigma_m=(1500.0, 1500.0),
    orientation_deg=10.0,
    warp_m=20.0,
    variants={
        "rice": (
            Variant(
                planting_doy=138,
                planting_sd=14,
                trajectory=EU_RICE,
                offset_vv=1.0,
                offset_vh=1.2,
            ),
        ),
        "barley": (
            Variant(name="winter", planting_doy=45, planting_sd=10, trajectory=WINTER_BARLEY),
        ),
        "maize": (Variant(planting_doy=115, planting_sd=10),),
        "soybean": (Variant(planting_doy=130, planting_sd=10),),
        "vegetables": (Variant(planting_doy=95, planting_sd=25),),
        "fallow": (Variant(planting_doy=100, planting_sd=20),),
        "grassland": (
            Variant(name="dry", weight=0.6),
            Variant(
                name="wet-meadow",
                weight=0.4,
                planting_doy=150,
                planting_sd=15,
                trajectory=WET_MEADOW,
            ),
        ),
    },
    gain_sd_db=0.9,
    label_noise=0.04,
)

NETHERLANDS = RegionSpec(
    name="netherlands",
    epsg=32631,
    origin=(670000.0, 5832000.0),
    target="barley",
    calendar="netherlands-barley",
    season=("03-01", "10-31"),
    orbits=(
        Orbit(relative_orbit=88, direction="ascending", incidence_deg=42.0, phase_days=4),
        Orbit(
            relative_orbit=37,
            direction="descending",
            incidence_deg=33.0,
            phase_days=9,
            swath_edge="east",
            edge_fraction=0.1,
        ),
    ),
    zones=(
        Zone(name="canals", upto=0.02, mix={"water": 1.0}),
        Zone(
            name="polders",
            upto=0.94,
            cell_length_m=420.0,
            cell_width_m=150.0,
            roads_every=3,
            mix={
                "barley": 0.14,
                "grassland": 0.24,
                "maize": 0.15,
                "vegetables": 0.3,
                "fallow": 0.08,
                "soybean": 0.02,
                "urban": 0.03,
                "forest": 0.02,
                "water": 0.02,
            },
        ),
        Zone(
            name="village",
            upto=1.0,
            cell_length_m=120.0,
            cell_width_m=100.0,
            mix={"urban": 0.7, "grassland": 0.2, "forest": 0.1},
        ),
    ),
    zone_sigma_m=(2000.0, 2000.0),
    orientation_deg=0.0,
    warp_m=5.0,
    variants={
        "barley": (
            Variant(name="spring", weight=0.75, planting_doy=85, planting_sd=14),
            Variant(
                name="winter",
                weight=0.25,
                planting_doy=50,
                planting_sd=10,
                trajectory=WINTER_BARLEY,
            ),
        ),
        "vegetables": (
            Variant(name="root", weight=0.7, planting_doy=110, planting_sd=12),
            Variant(
                name="early", weight=0.3, planting_doy=88, planting_sd=14, trajectory=EARLY_VEG
            ),
        ),
        "maize": (Variant(planting_doy=125, planting_sd=8),),
        "soybean": (Variant(planting_doy=135, planting_sd=8),),
        "fallow": (Variant(planting_doy=90, planting_sd=20),),
    },
    gain_sd_db=1.0,
    jitter_db=0.5,
)

#: Region registry: name -> spec.
REGIONS: dict[str, RegionSpec] = {r.name: r for r in (KOREA, SPAIN, FRANCE, NETHERLANDS)}


def get_region(name: str) -> RegionSpec:
    """Return the built-in region ``name``.

    Raises:
        ConfigError: unknown name; the message lists the valid ones.
    """
    key = str(name).strip().lower()
    if key not in REGIONS:
        raise ConfigError(f"unknown region {name!r}; choose one of: {', '.join(REGIONS)}")
    return REGIONS[key]
