"""Sentinel-1 reading and compositing by phenology calendar.

Public API (see docs/data.md and docs/architecture.md):

- :func:`load_calendar`, :class:`Calendar`, :class:`Period`, :func:`preset_names`
- :func:`open_stack` (discover a folder of per-date GeoTIFFs or a stack)
- :func:`composite_folder`, :func:`read_composite`, :func:`composite_layout`
- :func:`linear_to_db`, :func:`db_to_linear`, :func:`guess_units`
"""

from cropmap.sar.calendars import Calendar, Period, load_calendar, preset_names
from cropmap.sar.composite import (
    band_names,
    composite_folder,
    composite_layout,
    count_path,
    plan_composite,
    read_composite,
)
from cropmap.sar.db import db_to_linear, guess_units, linear_to_db
from cropmap.sar.reducers import REDUCERS
from cropmap.sar.stack import Grid, S1Stack, StackReader, open_stack

__all__ = [
    "REDUCERS",
    "Calendar",
    "Grid",
    "Period",
    "S1Stack",
    "StackReader",
    "band_names",
    "composite_folder",
    "composite_layout",
    "count_path",
    "db_to_linear",
    "guess_units",
    "linear_to_db",
    "load_calendar",
    "open_stack",
    "plan_composite",
    "preset_names",
    "read_composite",
]
