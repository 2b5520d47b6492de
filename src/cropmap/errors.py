"""Exceptions and warnings of cropmap.

Every error raised for bad user input derives from :class:`CropmapError` and also
from the builtin exception a caller would expect (``OSError`` for files,
``ValueError`` for values), so both ``except CropmapError`` and ``except ValueError``
work. Messages name the file, band, period, column or value at fault and, where
possible, say what to do next. The CLI prints them on one line and exits with 2.
"""

from __future__ import annotations


class CropmapError(Exception):
    """Root of every error cropmap raises on bad input."""


class RasterReadError(CropmapError, OSError):
    """A raster is missing, corrupt, not a raster, or lacks an expected band."""


class RasterWriteError(CropmapError, OSError):
    """An output raster or file could not be written (nothing partial is left)."""


class GridMismatchError(CropmapError, ValueError):
    """Rasters that must share one grid differ in CRS, resolution or extent."""


class DateParseError(CropmapError, ValueError):
    """An acquisition date is missing, unparseable or duplicated."""


class UnitsError(CropmapError, ValueError):
    """Values do not match the declared units (linear sigma0 versus dB)."""


class CalendarError(CropmapError, ValueError):
    """A compositing calendar is invalid (overlaps, unknown reducer, bad dates)."""


class VectorError(CropmapError, ValueError):
    """A parcel vector file is empty, lacks a CRS or column, or misses the raster."""


class PatchStoreError(CropmapError, ValueError):
    """A patch store is missing, inconsistent or lacks a requested split or band."""


class ModelFileError(CropmapError, ValueError):
    """A model file is missing, tampered with, or does not fit the input."""


class ConfigError(CropmapError, ValueError):
    """A configuration file or option is invalid."""


class EmptyInputError(CropmapError, ValueError):
    """An input yields nothing to map: every calendar period is empty, or the target
    class is in no parcel. Failing beats writing an all-nodata or all-background result."""


class CrsError(CropmapError, ValueError):
    """A raster's CRS does not fit the operation (e.g. degrees where metres are needed)."""


class OptionError(ConfigError):
    """A command-line option has an invalid value (the CLI names option, value, accepted)."""


class StacError(CropmapError, ValueError):
    """A STAC catalogue, search or item is unusable: unreadable catalogue, unknown
    collection, no item found, bbox outside every item, missing polarisation asset."""


class CropmapWarning(UserWarning):
    """Root of cropmap's warnings."""


class UnitsGuessWarning(CropmapWarning):
    """Units were not declared and were guessed from the value range."""


class EmptyPeriodWarning(CropmapWarning):
    """A calendar period has no acquisition: its composite is all nodata."""


class SplitAdaptedWarning(CropmapWarning):
    """A split was adapted to the scene (e.g. a smaller spatial block) so none is empty."""


class RenamedKeyWarning(CropmapWarning):
    """A configuration key was given by its deprecated name (e.g. ``features``: ``bands``)."""


class DroppedParcelsWarning(CropmapWarning):
    """Some parcels were repaired, skipped or fell outside the raster grid."""
