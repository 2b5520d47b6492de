"""Acquisition dates: from an ISO date in a file name, a TIFF tag, or a sidecar file."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path

from cropmap.errors import DateParseError

# YYYY-MM-DD, YYYY_MM_DD or YYYYMMDD not glued to other digits (Sentinel-1 product names
# such as S1A_IW_GRDH_1SDV_20210603T092512_... match on their first date).
_DATE_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_]?(\d{2})[-_]?(\d{2})(?!\d)")
_DATE_IN_TAG = re.compile(r"((?:19|20)\d{2})[-:/_]?(\d{2})[-:/_]?(\d{2})")

#: Dataset tags searched for a date, in order.
DATE_TAGS: tuple[str, ...] = (
    "ACQUISITION_DATE",
    "ACQUISITION_START",
    "DATE",
    "TIFFTAG_DATETIME",
)


def date_from_name(name: str) -> dt.date | None:
    """First valid calendar date written as ``YYYY-MM-DD`` / ``YYYYMMDD`` in ``name``."""
    for m in _DATE_IN_NAME.finditer(name):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def date_from_tags(tags: Mapping[str, str]) -> dt.date | None:
    """Date from the first of :data:`DATE_TAGS` present (``TIFFTAG_DATETIME`` is ``YYYY:MM:DD``)."""
    upper = {k.upper(): v for k, v in tags.items()}
    for key in DATE_TAGS:
        value = upper.get(key)
        if not value:
            continue
        m = _DATE_IN_TAG.search(str(value))
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def acquisition_date(path: str | os.PathLike, tags: Mapping[str, str] | None = None) -> dt.date:
    """Date of a single-date file: from its name, else from its tags.

    Raises:
        DateParseError: neither holds a valid date; the message says how to fix it.
    """
    path = Path(path)
    day = date_from_name(path.stem)
    if day is None and tags is not None:
        day = date_from_tags(tags)
    if day is None:
        raise DateParseError(
            f"no acquisition date in {path}: put an ISO date in the file name "
            "(e.g. 2021-06-03.tif or S1A_..._20210603T...) or set the TIFF tag "
            "ACQUISITION_DATE or TIFFTAG_DATETIME"
        )
    return day


def read_dates_sidecar(path: str | os.PathLike) -> list[dt.date]:
    """Read a dates sidecar: one ISO date (``YYYY-MM-DD``) per line, ``#`` comments allowed.

    Raises:
        DateParseError: the file is missing, empty, or a line is not a date.
    """
    path = Path(path)
    if not path.is_file():
        raise DateParseError(f"dates sidecar not found: {path}")
    out: list[dt.date] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip().strip(",")
        if not text:
            continue
        try:
            out.append(dt.date.fromisoformat(text[:10]))
        except ValueError as exc:
            raise DateParseError(f"{path}, line {n}: {text!r} is not a YYYY-MM-DD date") from exc
    if not out:
        raise DateParseError(f"dates sidecar {path} lists no dates")
    return out


def find_sidecar(stack_path: str | os.PathLike) -> Path | None:
    """Dates sidecar beside a stack: ``<stem>.dates.txt``, ``<stem>.dates`` or ``<stem>.txt``."""
    p = Path(stack_path)
    for cand in (
        p.with_name(p.stem + ".dates.txt"),
        p.with_name(p.stem + ".dates"),
        p.with_name(p.stem + ".txt"),
    ):
        if cand.is_file():
            return cand
    return None
