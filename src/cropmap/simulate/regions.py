"""The four built-in regions: grid, calendar, landscape, crop mix, planting dates, orbits.

Each region is data (a :class:`~cropmap.simulate.region_spec.RegionSpec`);
:func:`get_region` looks one up by name and a bad name lists the valid ones. Numbers and
their sources are discussed in ``docs/simulator.md``.
"""

from __future__ import annotations

from cropmap.errors import ConfigError
from cropmap.simulate.phenology import (
    DRY_SEEDED_RICE,
    EARLY_VEG,
    EBRO_RICE,
    EU_RICE,
    FLOODED_FALLOW,
    PADDY_FALLOW,
    SPRING_WHEAT,
    WET_MEADOW,
    WINTER_BARLEY,
)
from cropmap.simulate.region_spec import Orbit, RegionSpec, Variant, Zone

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
        Orbit(relative_orbit=110, direction="descending", incidence_deg=43.5, phase_days=6),
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
                "rice": 0.80,
                "fallow": 0.04,
                "wetland": 0.03,
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
                "maize": 0.07,
                "grassland": 0.2,
                "fallow": 0.1,
                "urban": 0.18,
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
                name="water-seeded",
                weight=0.8,
                planting_doy=132,
                planting_sd=9,
                trajectory=EBRO_RICE,
                offset_vv=1.0,
                offset_vh=1.0,
            ),
            Variant(
                name="dry-seeded",
                weight=0.2,
                planting_doy=120,
                planting_sd=10,
                trajectory=DRY_SEEDED_RICE,
                offset_vv=1.0,
                offset_vh=1.0,
            ),
        ),
        "maize": (Variant(planting_doy=110, planting_sd=10),),
        "vegetables": (Variant(planting_doy=90, planting_sd=25),),
        "barley": (
            Variant(name="winter", planting_doy=40, planting_sd=10, trajectory=WINTER_BARLEY),
        ),
        "fallow": (
            Variant(name="dry", weight=0.6, planting_doy=100, planting_sd=20),
            Variant(
                name="flooded",
                weight=0.4,
                planting_doy=130,
                planting_sd=15,
                trajectory=FLOODED_FALLOW,
            ),
        ),
        "wetland": (Variant(planting_doy=120, planting_sd=15),),
    },
    gain_sd_db=0.8,
    heterogeneity_sd=0.25,
)

FRANCE = RegionSpec(
    name="france",
    epsg=32631,
    origin=(618000.0, 4830000.0),
    target="rice",
    calendar="france-rice",
    season=("04-01", "10-31"),
    orbits=(
        Orbit(relative_orbit=88, direction="ascending", incidence_deg=33.0, phase_days=2),
        Orbit(
            relative_orbit=139,
            direction="descending",
            incidence_deg=36.0,
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
            mix={
                "grassland": 0.4,
                "wetland": 0.2,
                "water": 0.08,
                "fallow": 0.1,
                "forest": 0.07,
                "rice": 0.05,
            },
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
        "fallow": (
            Variant(name="dry", weight=0.6, planting_doy=100, planting_sd=20),
            Variant(
                name="flooded",
                weight=0.4,
                planting_doy=135,
                planting_sd=15,
                trajectory=FLOODED_FALLOW,
            ),
        ),
        "wetland": (Variant(planting_doy=130, planting_sd=20),),
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
    heterogeneity_sd=0.2,
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
                "wheat": 0.28,
                "grassland": 0.14,
                "maize": 0.13,
                "vegetables": 0.22,
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
            Variant(name="spring", weight=0.75, planting_doy=85, planting_sd=18),
            Variant(
                name="winter",
                weight=0.25,
                planting_doy=90,
                planting_sd=10,
                trajectory=WINTER_BARLEY,
            ),
        ),
        "vegetables": (
            Variant(name="root", weight=0.6, planting_doy=110, planting_sd=12),
            Variant(
                name="early", weight=0.4, planting_doy=88, planting_sd=14, trajectory=EARLY_VEG
            ),
        ),
        "wheat": (
            Variant(name="winter", weight=0.4, planting_doy=80, planting_sd=10),
            Variant(
                name="spring",
                weight=0.6,
                planting_doy=90,
                planting_sd=12,
                trajectory=SPRING_WHEAT,
            ),
        ),
        "maize": (Variant(planting_doy=125, planting_sd=8),),
        "soybean": (Variant(planting_doy=135, planting_sd=8),),
        "fallow": (Variant(planting_doy=90, planting_sd=20),),
    },
    gain_sd_db=1.0,
    jitter_db=0.5,
    heterogeneity_sd=0.35,
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
