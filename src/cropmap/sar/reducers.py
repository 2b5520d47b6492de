"""Per-period reducers over a time series, streamed one acquisition at a time.

Each reducer is a small accumulator class in :data:`REDUCERS` (name -> class): ``add``
takes one acquisition's dB values ``(C, h, w)`` with NaN nodata, ``result`` returns the
``(C, h, w)`` composite with NaN where no valid value arrived. NaN never enters a result.
``min``, ``max`` and ``mean`` keep O(1) acquisitions in memory; ``median`` keeps the
period's acquisitions of one window.
"""

from __future__ import annotations

import warnings
from typing import Literal, Protocol

import numpy as np

from cropmap.errors import CalendarError
from cropmap.sar.db import db_to_linear, linear_to_db

Average = Literal["linear", "db"]


class Reducer(Protocol):
    """Accumulates acquisitions of one period for one window.

    ``domain`` says whether ``add`` takes dB or linear power values.
    """

    domain: str

    def add(self, values: np.ndarray) -> None: ...

    def result(self) -> np.ndarray: ...


class _Extreme:
    domain = "db"

    def __init__(self, shape: tuple[int, ...], average: Average, op: np.ufunc) -> None:
        self.acc = np.full(shape, np.nan, dtype=np.float32)
        self.op = op

    def add(self, values: np.ndarray) -> None:
        self.op(self.acc, values, out=self.acc)  # fmin/fmax ignore NaN

    def result(self) -> np.ndarray:
        return self.acc


class MinReducer(_Extreme):
    """Per-pixel minimum (dB), NaN-ignoring."""

    def __init__(self, shape: tuple[int, ...], average: Average = "linear") -> None:
        super().__init__(shape, average, np.fmin)


class MaxReducer(_Extreme):
    """Per-pixel maximum (dB), NaN-ignoring."""

    def __init__(self, shape: tuple[int, ...], average: Average = "linear") -> None:
        super().__init__(shape, average, np.fmax)


class MeanReducer:
    """Per-pixel mean of valid values, in linear power (default) or in dB, returned in dB."""

    def __init__(self, shape: tuple[int, ...], average: Average = "linear") -> None:
        # float32 sums: a period holds tens of acquisitions at most, so the relative
        # rounding error stays below 1e-5 (under 1e-4 dB), and float32 halves the cost
        # of this, the busiest reducer (benchmarks/composite.py prints the stages)
        self.sum = np.zeros(shape, dtype=np.float32)
        self.n = np.zeros(shape, dtype=np.uint16)
        self.linear = average == "linear"
        #: units ``add`` expects: linear power when averaging in linear (saves two
        #: conversions per value when the input is linear already).
        self.domain = "linear" if self.linear else "db"

    def add(self, values: np.ndarray) -> None:
        """Add one acquisition, in :attr:`domain` units (NaN = nodata)."""
        valid = np.isfinite(values)
        np.add(self.sum, values, out=self.sum, where=valid)
        self.n += valid

    def result(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.divide(self.sum, self.n, dtype=np.float32)
        mean[self.n == 0] = np.nan
        return linear_to_db(mean) if self.linear else mean


class MedianReducer:
    """Per-pixel median (dB) of valid values."""

    domain = "db"

    def __init__(self, shape: tuple[int, ...], average: Average = "linear") -> None:
        self.shape = shape
        self.items: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        self.items.append(values)

    def result(self) -> np.ndarray:
        if not self.items:
            return np.full(self.shape, np.nan, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels stay NaN
            return np.nanmedian(np.stack(self.items), axis=0).astype(np.float32)


#: Reducer registry: name -> accumulator class.
REDUCERS: dict[str, type] = {
    "min": MinReducer,
    "mean": MeanReducer,
    "max": MaxReducer,
    "median": MedianReducer,
}


def make_reducer(name: str, shape: tuple[int, ...], average: Average = "linear") -> Reducer:
    """Create the reducer ``name`` for windows of ``shape`` = ``(C, h, w)``.

    Raises:
        CalendarError: unknown reducer; the message lists the valid ones.
    """
    if average not in ("linear", "db"):
        raise CalendarError(f"unknown average domain {average!r}; use 'linear' or 'db'")
    try:
        cls = REDUCERS[name]
    except KeyError:
        raise CalendarError(
            f"unknown reducer {name!r}; use one of: {', '.join(REDUCERS)}"
        ) from None
    return cls(shape, average)


def reduce_stack(values: np.ndarray, name: str, average: Average = "linear") -> np.ndarray:
    """Reduce a ``(N, C, h, w)`` dB stack over N with reducer ``name`` -> ``(C, h, w)`` dB."""
    r = make_reducer(name, tuple(values.shape[1:]), average)
    for v in values:
        r.add(db_to_linear(v) if r.domain == "linear" else v)
    return r.result()
