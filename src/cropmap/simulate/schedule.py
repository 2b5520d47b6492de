"""Acquisition schedule: relative orbits on a 12-day cycle, S1B's 6-day years, a gap.

Sentinel-1 repeats each relative orbit every 12 days per satellite; with S1A and S1B
(2017 to 2021, S1B failed in December 2021) each orbit was seen every 6 days. Each
acquisition carries its orbit's incidence angle and, for the orbit whose swath edge
crosses the scene, a missing strip.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import BaseModel, ConfigDict

from cropmap.errors import ConfigError
from cropmap.simulate.region_spec import RegionSpec

#: Reference date of the 12-day cycle (phases of the orbits count from it).
CYCLE_EPOCH = dt.date(2016, 1, 1)


class Acquisition(BaseModel):
    """One simulated acquisition.

    Attributes:
        date: acquisition date.
        orbit: index of the orbit in the region's ``orbits``.
        relative_orbit: track number.
        direction: ascending or descending.
        incidence_deg: incidence angle at the scene centre, degrees.
        edge_side: side of the missing swath strip (none, west, east).
        edge_fraction: width of the strip at the scene centre row, fraction of the width.
    """

    model_config = ConfigDict(frozen=True)
    date: dt.date
    orbit: int
    relative_orbit: int
    direction: str
    incidence_deg: float
    edge_side: str = "none"
    edge_fraction: float = 0.0


def default_revisit(year: int) -> int:
    """Days between two passes of one orbit: 6 with S1A+S1B (2017-2021), else 12."""
    return 6 if 2017 <= year <= 2021 else 12


def acquisitions(
    region: RegionSpec,
    year: int,
    rng: np.random.Generator,
    revisit_days: int | None = None,
    defects: bool = True,
) -> tuple[list[Acquisition], tuple[dt.date, dt.date] | None]:
    """List the acquisitions of a season, sorted by date.

    Args:
        region: the region (season, orbits, gap length).
        year: the year of the season.
        rng: random generator (gap position, swath-edge jitter).
        revisit_days: 6 or 12; None picks :func:`default_revisit`.
        defects: drop the acquisitions of one window of ``region.gap_days`` days and
            cut the swath-edge strip of the orbit that has one.

    Returns:
        ``(acquisitions, gap_window)``; ``gap_window`` is ``(first, last)`` day or None.

    Raises:
        ConfigError: a bad revisit or year.
    """
    if not 1990 <= year <= 2100:
        raise ConfigError(f"year {year} is out of range; use e.g. --year 2022")
    revisit = default_revisit(year) if revisit_days is None else int(revisit_days)
    if revisit not in (6, 12):
        raise ConfigError(f"revisit_days must be 6 or 12, got {revisit_days}")
    start = dt.date.fromisoformat(f"{year}-{region.season[0]}")
    end = dt.date.fromisoformat(f"{year}-{region.season[1]}")
    out: list[Acquisition] = []
    for k, orb in enumerate(region.orbits):
        first = CYCLE_EPOCH + dt.timedelta(days=orb.phase_days)
        offset = (start - first).days % revisit
        day = start + dt.timedelta(days=(revisit - offset) % revisit)
        while day <= end:
            frac = 0.0
            side = orb.swath_edge if defects else "none"
            if side != "none":
                frac = float(orb.edge_fraction * (1.0 + rng.uniform(-0.15, 0.15)))
            out.append(
                Acquisition(
                    date=day,
                    orbit=k,
                    relative_orbit=orb.relative_orbit,
                    direction=orb.direction,
                    incidence_deg=orb.incidence_deg,
                    edge_side=side,
                    edge_fraction=round(frac, 4),
                )
            )
            day += dt.timedelta(days=revisit)
    out.sort(key=lambda a: (a.date, a.orbit))
    window = None
    if defects and region.gap_days > 0:
        span = (end - start).days - 60 - region.gap_days
        g0 = start + dt.timedelta(days=30 + int(rng.integers(0, max(span, 1))))
        g1 = g0 + dt.timedelta(days=region.gap_days - 1)
        out = [a for a in out if not g0 <= a.date <= g1]
        window = (g0, g1)
    # two orbits on one day cannot share a file name: keep the first
    seen: set[dt.date] = set()
    unique = []
    for a in out:
        if a.date not in seen:
            seen.add(a.date)
            unique.append(a)
    return unique, window
