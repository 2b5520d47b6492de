"""Backscatter units: linear sigma0 <-> dB, nodata masking and unit detection.

Inside cropmap backscatter is dB (``10 * log10(sigma0)``), float32, nodata NaN.
Input files may hold linear sigma0 (roughly 0.0005..1) or dB (roughly -30..+5), with
nodata written as NaN, 0, -32768 or the file's own nodata value.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from cropmap.errors import UnitsError, UnitsGuessWarning

Units = Literal["auto", "linear", "db"]

#: Values treated as nodata in every input file, besides NaN and the file's nodata.
NODATA_VALUES: tuple[float, ...] = (0.0, -32768.0)

#: Share of negative valid values above which a sample is taken to be dB.
DB_NEGATIVE_SHARE = 0.05


def normalize_units(units: str) -> Units:
    """Return ``units`` as ``"auto"``, ``"linear"`` or ``"db"`` (case-insensitive).

    Raises:
        UnitsError: any other value; the message lists the valid ones.
    """
    u = str(units).strip().lower()
    if u in {"auto", "linear", "db"}:
        return u  # type: ignore[return-value]
    raise UnitsError(f"unknown units {units!r}; use one of: auto, linear, db")


def mask_nodata(values: np.ndarray, nodata: float | None = None) -> np.ndarray:
    """Return ``values`` as float32 with NaN, 0, -32768 and ``nodata`` set to NaN.

    Args:
        values: any-shaped array as read from a file.
        nodata: the file's declared nodata value, if any.
    """
    out = np.asarray(values, dtype=np.float32).copy()
    bad = ~np.isfinite(out)
    for v in NODATA_VALUES:
        bad |= out == v
    if nodata is not None and np.isfinite(nodata):
        bad |= out == np.float32(nodata)
    out[bad] = np.nan
    return out


def linear_to_db(values: np.ndarray) -> np.ndarray:
    """``10 * log10(values)`` as float32; zero, negative and NaN inputs give NaN."""
    v = np.asarray(values, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(v)
    out *= np.float32(10.0)
    out[~(v > 0) | ~np.isfinite(out)] = np.nan  # zero, negative, NaN or inf inputs
    return out


def db_to_linear(values: np.ndarray) -> np.ndarray:
    """``10 ** (values / 10)`` as float32; NaN stays NaN."""
    return np.power(np.float32(10.0), np.asarray(values, dtype=np.float32) / np.float32(10.0))


def guess_units(sample: np.ndarray) -> Literal["linear", "db"]:
    """Guess the units of a sample of valid (already masked) values.

    Linear sigma0 is never negative; dB backscatter of land is mostly negative. A sample
    whose share of negative values exceeds :data:`DB_NEGATIVE_SHARE` is dB, otherwise
    linear. A sample of only non-negative values above 5 cannot be sigma0 in either unit
    and is rejected.

    Raises:
        UnitsError: the sample is empty or fits neither unit.
    """
    v = np.asarray(sample, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise UnitsError("cannot detect units: no valid values; declare them with units=")
    if np.mean(v < 0) > DB_NEGATIVE_SHARE:
        return "db"
    if np.percentile(v, 50) > 5.0:
        raise UnitsError(
            f"values (median {np.median(v):.3g}) fit neither linear sigma0 (about 0.0005..1) "
            "nor dB (about -30..+5); check the input or declare units="
        )
    return "linear"


def check_units(sample: np.ndarray, declared: Literal["linear", "db"], source: str) -> None:
    """Raise when a sample clearly contradicts the declared units.

    Raises:
        UnitsError: ``linear`` declared but a large share of values is negative, or
            ``db`` declared but (almost) no value is negative and the median lies in
            [0, 1.5] dB: typical of linear sigma0, while dB land backscatter is mostly
            negative (median about -15 dB).
    """
    v = np.asarray(sample, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return
    if declared == "linear" and np.mean(v < 0) > DB_NEGATIVE_SHARE:
        raise UnitsError(
            f"{source}: units declared linear but {np.mean(v < 0):.0%} of values are negative "
            "(dB?); pass units='db' (--units db)"
        )
    if declared == "db" and np.mean(v < 0) < 0.01 and 0 <= np.median(v) <= 1.5:
        raise UnitsError(
            f"{source}: units declared dB but no value is negative and the median is "
            f"{np.median(v):.3g} (linear sigma0?); pass units='linear' (--units linear)"
        )


def resolve_units(sample: np.ndarray, units: str, source: str) -> Literal["linear", "db"]:
    """Return the units of ``sample``: checked when declared, guessed (with a warning) if auto.

    Warns:
        UnitsGuessWarning: the units were guessed from the value range.
    """
    u = normalize_units(units)
    if u == "auto":
        guessed = guess_units(sample)
        warnings.warn(
            f"units of {source} not declared; guessed {guessed} from the value range "
            "(declare them with units= / --units to silence this)",
            UnitsGuessWarning,
            stacklevel=3,
        )
        return guessed
    check_units(sample, u, source)
    return u


def to_db(values: np.ndarray, units: Literal["linear", "db"], nodata: float | None) -> np.ndarray:
    """Mask nodata in raw file values and return dB float32 with NaN nodata."""
    masked = mask_nodata(values, nodata)
    if units == "linear":
        return linear_to_db(masked)
    return masked


def to_linear(
    values: np.ndarray, units: Literal["linear", "db"], nodata: float | None
) -> np.ndarray:
    """Mask nodata in raw file values and return linear power float32 with NaN nodata.

    Zero and negative linear values are nodata too (they have no dB value).
    """
    masked = mask_nodata(values, nodata)
    if units == "db":
        return db_to_linear(masked)
    masked[~(masked > 0)] = np.nan
    return masked
