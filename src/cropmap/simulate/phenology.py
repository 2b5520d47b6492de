"""Per-class backscatter trajectories (dB) as smooth functions of day of year.

A trajectory is a base level (VV, VH in dB) plus a sum of logistic steps placed at
offsets (days) from the parcel's planting date: flooding, canopy growth, heading,
senescence, harvest. Static covers (water, urban, forest, road) have no steps.
Values and their sources are explained in ``docs/simulator.md``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

#: Every land-cover class the simulator draws, in a fixed order (index = class code).
CLASSES: tuple[str, ...] = (
    "rice",
    "barley",
    "maize",
    "soybean",
    "vegetables",
    "fallow",
    "grassland",
    "water",
    "urban",
    "forest",
    "road",
    "wheat",
    "wetland",
)
CLASS_CODE: dict[str, int] = {name: i for i, name in enumerate(CLASSES)}


class Step(BaseModel):
    """One smooth change of level: ``d * sigmoid((doy - planting - offset) / width)``.

    Attributes:
        offset: centre of the change, days after planting (negative: before).
        width: logistic scale in days (about a quarter of the 10-90 % rise time).
        dvv: change of VV in dB.
        dvh: change of VH in dB.
    """

    model_config = ConfigDict(frozen=True)
    offset: float
    width: float
    dvv: float
    dvh: float


class Trajectory(BaseModel):
    """Backscatter model of one class (or one variant of a class).

    Attributes:
        vv: level of VV before the first step, dB.
        vh: level of VH before the first step, dB.
        steps: logistic changes relative to the planting date.
        slope_vv: incidence-angle slope of VV, dB per degree (relative to 38 deg).
        slope_vh: incidence-angle slope of VH, dB per degree.
        texture_db: standard deviation of the static, spatially correlated texture, dB.
        moisture: sensitivity to scene-wide soil-moisture anomalies (0 none, 1 bare soil).
        mowing: number of grass cuts per season (short dips of VH/VV).
        wind: wind roughening of open water (mean dB added to VV, a third to VH).
    """

    model_config = ConfigDict(frozen=True)
    vv: float
    vh: float
    steps: tuple[Step, ...] = ()
    slope_vv: float = -0.15
    slope_vh: float = -0.12
    texture_db: float = 0.6
    moisture: float = 0.5
    mowing: int = 0
    wind: float = 0.0


def _s(offset: float, width: float, dvv: float, dvh: float) -> Step:
    return Step(offset=offset, width=width, dvv=dvv, dvh=dvh)


#: Default trajectories (Korea-like transplanted rice; other classes generic).
#: Rice: moist puddled soil -> flooded (specular, VH about -25) -> canopy growth (VH up
#: to about -14.5 at booting/heading, VV first rising by double bounce then attenuated
#: at heading) -> harvest to moist stubble.
DEFAULT_TRAJECTORIES: dict[str, Trajectory] = {
    "rice": Trajectory(
        vv=-12.0,
        vh=-19.5,
        steps=(
            _s(-12, 3, -6.5, -6.0),  # flooding/puddling before transplanting
            _s(32, 7, 10.5, 11.0),  # tillering to booting: canopy volume + double bounce
            _s(70, 8, -1.5, -0.5),  # heading: VV attenuated by vertical stems/panicles
            _s(128, 4, -1.5, -4.5),  # harvest (fields drained before)
        ),
        moisture=0.3,
    ),
    # Spring barley: bare soil, emergence, stem elongation (VV down, VH up), ripening
    # (dry canopy), harvest to stubble.
    "barley": Trajectory(
        vv=-11.0,
        vh=-19.5,
        steps=(
            _s(35, 9, -1.0, 3.5),
            _s(60, 8, -1.5, 1.0),
            _s(105, 7, 1.5, -1.5),
            _s(125, 3, 0.5, -2.5),
        ),
        moisture=0.8,
    ),
    "maize": Trajectory(
        vv=-11.5,
        vh=-20.0,
        steps=(_s(55, 9, 3.0, 7.0), _s(150, 5, -2.5, -5.5)),
        moisture=0.8,
    ),
    "soybean": Trajectory(
        vv=-11.5,
        vh=-20.0,
        steps=(_s(45, 8, 2.0, 5.5), _s(125, 5, -2.0, -4.5)),
        moisture=0.8,
    ),
    # Root vegetables / potato / sugar beet type: late, dense canopy.
    "vegetables": Trajectory(
        vv=-11.0,
        vh=-19.5,
        steps=(_s(50, 8, 1.5, 5.0), _s(140, 5, -1.5, -4.0)),
        moisture=0.9,
    ),
    "fallow": Trajectory(
        vv=-11.5,
        vh=-20.5,
        steps=(_s(60, 25, 0.5, 1.5),),
        moisture=1.0,
    ),
    "grassland": Trajectory(vv=-10.0, vh=-16.5, mowing=3, texture_db=0.8, moisture=0.5),
    "water": Trajectory(
        vv=-21.0,
        vh=-27.5,
        slope_vv=-0.35,
        slope_vh=-0.15,
        texture_db=0.0,
        moisture=0.0,
        wind=1.2,
    ),
    "urban": Trajectory(
        vv=1.5, vh=-8.0, slope_vv=-0.05, slope_vh=-0.05, texture_db=3.0, moisture=0.0
    ),
    "forest": Trajectory(
        vv=-7.5, vh=-13.0, slope_vv=-0.05, slope_vh=-0.05, texture_db=1.0, moisture=0.1
    ),
    "road": Trajectory(vv=-16.0, vh=-23.5, texture_db=0.5, moisture=0.2),
    # Winter wheat (planting = the date of spring regrowth, not autumn sowing): green in
    # spring, stem elongation (VV attenuated by vertical stems, VH up), a denser and
    # later canopy than barley, upright ears keep VV low, ripening and harvest ~20
    # days after barley's (Veloso et al. 2017; Vreugdenhil et al. 2018).
    "wheat": Trajectory(
        vv=-11.5,
        vh=-17.5,
        steps=(
            _s(30, 8, -2.0, 2.0),
            _s(100, 7, 2.0, -1.5),
            _s(128, 3, 0.5, -2.5),
        ),
        moisture=0.6,
    ),
    # Managed marsh with emergent vegetation (reeds, club-rush): water raised in spring
    # (specular, dark), stems emerge through the water from about 5 weeks later (VH up
    # like a rice canopy), double bounce stem-water keeps VV high all summer, no harvest.
    "wetland": Trajectory(
        vv=-17.0,
        vh=-23.5,
        steps=(
            _s(-15, 4, -1.5, -1.0),
            _s(40, 10, 12.0, 8.5),
            _s(150, 15, -2.0, -2.5),
        ),
        texture_db=1.0,
        moisture=0.2,
    ),
}


# Variants used by some regions (see regions.py).

WINTER_BARLEY = Trajectory(
    vv=-11.5,
    vh=-17.5,
    steps=(_s(30, 8, -1.0, 1.0), _s(75, 7, 1.5, -1.5), _s(95, 3, 0.5, -2.5)),
    moisture=0.6,
)

# Water-seeded (direct-seeded) European rice: fields flooded ~3 weeks before sowing and
# kept flooded while seedlings emerge; the canopy appears later than transplanted rice.
EU_RICE = Trajectory(
    vv=-12.0,
    vh=-19.5,
    steps=(
        _s(-18, 3, -7.0, -6.5),
        _s(55, 8, 10.5, 11.0),
        _s(90, 8, -1.5, -0.5),
        _s(140, 4, -1.5, -4.5),
    ),
    moisture=0.3,
)

# Paddy left fallow: still puddled/flooded in spring, then weeds (no rice canopy).
PADDY_FALLOW = Trajectory(
    vv=-12.0,
    vh=-20.0,
    steps=(_s(-10, 4, -5.0, -4.5), _s(30, 10, 5.5, 7.0)),
    moisture=0.6,
)

# Wet meadow (Camargue marshes): flooded in winter and spring, drained, then grass.
WET_MEADOW = Trajectory(
    vv=-17.5,
    vh=-24.5,
    steps=(_s(0, 6, 6.0, 5.5), _s(35, 10, 1.5, 2.5)),
    texture_db=0.8,
    moisture=0.4,
)

# Ebro delta: large water-seeded basins, wind-roughened flood water (brighter, shallower
# dip) and a slightly lower, later canopy peak than transplanted rice.
EBRO_RICE = Trajectory(
    vv=-12.0,
    vh=-19.5,
    steps=(
        _s(-18, 3, -5.5, -5.3),
        _s(58, 9, 9.0, 9.8),
        _s(92, 8, -1.5, -0.5),
        _s(140, 4, -1.0, -4.0),
    ),
    moisture=0.3,
)

# Dry-seeded rice (Ebro delta, a share of growers since the apple-snail invasion and to
# save water): sown into dry soil, flooded only ~25 days later when seedlings stand
# above the water, so the flood dip is late and shallow and the canopy follows sooner.
DRY_SEEDED_RICE = Trajectory(
    vv=-11.5,
    vh=-19.5,
    steps=(
        _s(25, 3, -3.5, -3.0),
        _s(50, 8, 8.5, 8.8),
        _s(88, 8, -1.5, -0.5),
        _s(135, 4, -1.0, -4.0),
    ),
    moisture=0.6,
)

# Fallow field flooded in spring and summer (Camargue: flooding to wash salt out of the
# soil between crops; Ebro: flooded set-aside for birds), then weeds: a rice-like dip
# and a weaker, slower rise with no harvest.
FLOODED_FALLOW = Trajectory(
    vv=-12.0,
    vh=-20.0,
    steps=(_s(-15, 4, -6.0, -5.5), _s(45, 15, 6.5, 7.0)),
    moisture=0.6,
)

# Spring wheat: VH follows spring barley (both cereals, sown within days), but upright
# ears attenuate VV more through heading, and ripening brightens VV less than barley's
# drooping heads (Veloso et al. 2017: cereals are told apart mainly in VV and VH/VV).
SPRING_WHEAT = Trajectory(
    vv=-11.0,
    vh=-19.5,
    steps=(
        _s(35, 9, -2.0, 3.5),
        _s(62, 8, -3.0, 1.0),
        _s(110, 7, 0.5, -1.5),
        _s(132, 3, 0.5, -2.5),
    ),
    moisture=0.8,
)

# Peas / early potatoes: a cereal-like spring cycle harvested in early July.
EARLY_VEG = Trajectory(
    vv=-11.0,
    vh=-19.5,
    steps=(_s(35, 9, -0.5, 3.8), _s(60, 8, -1.0, 0.7), _s(95, 6, 1.0, -1.5), _s(108, 3, 0.5, -2.5)),
    moisture=0.8,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def trajectory_db(
    traj: Trajectory,
    doy: np.ndarray,
    planting: np.ndarray,
    vigor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a trajectory for many parcels and dates.

    Args:
        traj: the class (variant) model.
        doy: ``(T,)`` day of year of each acquisition (1 = 1 January).
        planting: ``(N,)`` planting day of year per parcel (may be < 1 for the year before).
        vigor: ``(N,)`` factor scaling every step of a parcel (crop vigour, water depth);
            None means 1.

    Returns:
        ``(vv, vh)``, each ``(N, T)`` float64 in dB (no gain, noise or incidence yet).
    """
    t = np.asarray(doy, dtype=np.float64)[None, :] - np.asarray(planting, np.float64)[:, None]
    vv = np.full(t.shape, traj.vv)
    vh = np.full(t.shape, traj.vh)
    amp = np.ones((t.shape[0], 1)) if vigor is None else np.asarray(vigor, np.float64)[:, None]
    for st in traj.steps:
        w = amp * _sigmoid((t - st.offset) / st.width)
        vv += st.dvv * w
        vh += st.dvh * w
    return vv, vh


def mowing_db(
    doy: np.ndarray, cuts: np.ndarray, depth_vv: float = 1.0, depth_vh: float = 1.8
) -> tuple[np.ndarray, np.ndarray]:
    """Dips of grass backscatter after each cut, recovering over about two weeks.

    Args:
        doy: ``(T,)`` day of year.
        cuts: ``(N, K)`` day of year of each cut per parcel.

    Returns:
        ``(dvv, dvh)``, each ``(N, T)`` dB (negative or zero).
    """
    dt = np.asarray(doy, np.float64)[None, None, :] - cuts[:, :, None]
    shape = np.where(dt >= 0, np.exp(-np.clip(dt, 0, None) / 10.0), 0.0).sum(axis=1)
    return -depth_vv * shape, -depth_vh * shape
