"""Finding Sentinel-1 items in a STAC catalogue: an API (pystac-client) or a static file.

A STAC API is searched with :mod:`pystac_client` (collection, bbox, datetime). A static
catalogue (a local ``catalog.json`` / ``collection.json``, or a URL of one that offers
no item search) is walked with :mod:`pystac` and filtered the same way. Items may then
be filtered by orbit direction, signed by a pluggable hook (e.g. Planetary Computer's
``planetary_computer.sign``), and their polarisation assets found by key or band name.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from cropmap.errors import ConfigError, StacError

#: Orbit selections: ``any`` mixes every pass of a day into one acquisition; the others
#: keep relative orbits apart (``both``: ascending and descending as separate acquisitions).
Orbit = Literal["any", "ascending", "descending", "both"]
ORBITS: tuple[str, ...] = ("any", "ascending", "descending", "both")

#: Short names of known signing hooks (``module:function``).
SIGNERS: dict[str, str] = {"planetary-computer": "planetary_computer:sign"}

Signer = Callable[[Any], Any]


def load_signer(name: str | Signer | None) -> Signer | None:
    """Resolve a signing hook: a callable, a name from :data:`SIGNERS` or ``module:function``.

    The hook receives a ``pystac.Item`` and returns the signed item (or ``None`` after
    signing it in place). Credentials stay with the hook's own package (environment
    variables or its config); cropmap never stores them.

    Raises:
        ConfigError: the name is malformed or its package is not installed.
    """
    if name is None or callable(name):
        return name
    target = SIGNERS.get(name.strip().lower(), name.strip())
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ConfigError(
            f"unknown signer {name!r}; use one of: {', '.join(SIGNERS)} or module:function"
        )
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"signer {name!r} needs {target} importable ({exc}); install its package "
            f"(e.g. pip install {module.replace('_', '-')}) or drop --sign"
        ) from exc
    if not callable(fn):
        raise ConfigError(f"signer {name!r}: {target} is not callable")
    return fn


def _is_static(source: str) -> bool:
    return "://" not in source or source.startswith("file://") or source.endswith(".json")


def _static_root(source: str) -> str:
    path = Path(source.removeprefix("file://"))
    if path.is_dir():
        for name in ("catalog.json", "collection.json"):
            if (path / name).is_file():
                return str(path / name)
        raise StacError(f"no catalog.json or collection.json in folder {path}")
    if "://" not in source and not path.is_file():
        raise StacError(f"STAC catalogue not found: {source} (give a catalog.json or an API URL)")
    return str(path) if "://" not in source or source.startswith("file://") else source


def _item_range(item: Any) -> tuple[dt.datetime, dt.datetime]:
    props = item.properties
    if item.datetime is not None:
        return item.datetime, item.datetime
    start, end = props.get("start_datetime"), props.get("end_datetime")
    if not start or not end:
        raise StacError(f"item {item.id} has neither datetime nor start/end_datetime")
    return dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    utc = dt.UTC
    a = dt.datetime.combine(start, dt.time.min, utc)
    b = dt.datetime.combine(end, dt.time.max, utc)
    return a, b


def _search_static(
    root: str, collection: str | None, bbox: Sequence[float], start: dt.date, end: dt.date
) -> list[Any]:
    import pystac
    from shapely.geometry import box, shape

    try:
        cat = pystac.read_file(root)
    except Exception as exc:  # pystac raises several unrelated types for bad files
        raise StacError(f"cannot read STAC catalogue {root}: {exc}") from exc
    if not isinstance(cat, pystac.Catalog):
        raise StacError(f"{root} is a STAC {type(cat).__name__}, not a catalogue or collection")
    area = box(*bbox)
    t0, t1 = _day_bounds(start, end)
    out, ids = [], set()
    for item in cat.get_items(recursive=True):
        ids.add(item.collection_id)
        if (collection and item.collection_id != collection) or item.geometry is None:
            continue
        a, b = _item_range(item)
        a = a if a.tzinfo else a.replace(tzinfo=dt.UTC)
        b = b if b.tzinfo else b.replace(tzinfo=dt.UTC)
        if b < t0 or a > t1 or not shape(item.geometry).intersects(area):
            continue
        out.append(item)
    if collection and collection not in ids:
        have = ", ".join(sorted(str(i) for i in ids)) or "none"
        raise StacError(f"collection {collection!r} not in {root} (collections: {have})")
    return out


def _search_api(
    url: str,
    collection: str | None,
    bbox: Sequence[float],
    start: dt.date,
    end: dt.date,
    max_items: int | None,
) -> list[Any] | None:
    """Items from a STAC API, or None when ``url`` offers no item search (a static file)."""
    import pystac_client
    from pystac_client.exceptions import APIError
    from pystac_client.warnings import DoesNotConformTo

    # requests' connection errors are OSErrors; a page that is not JSON a ValueError
    try:
        client = pystac_client.Client.open(url)
    except (APIError, OSError, ValueError) as exc:
        raise StacError(
            f"cannot open STAC API {url}: {exc}; check the URL and the connection "
            "(or give a static catalog.json)"
        ) from exc
    try:
        search = client.search(
            collections=[collection] if collection else None,
            bbox=list(bbox),
            datetime=f"{start.isoformat()}/{end.isoformat()}",
            max_items=max_items,
        )
        return list(search.items())
    except DoesNotConformTo:
        return None
    except (APIError, OSError, ValueError) as exc:
        raise StacError(f"STAC search of {collection!r} at {url} failed: {exc}") from exc


def search_items(
    source: str | Path,
    collection: str | None,
    bbox: Sequence[float],
    start: dt.date,
    end: dt.date,
    *,
    orbit: Orbit = "any",
    sign: str | Signer | None = None,
    max_items: int | None = None,
) -> list[Any]:
    """Items of ``collection`` over ``bbox`` (lon/lat, EPSG:4326) between two dates (inclusive).

    Args:
        source: STAC API URL, or a static ``catalog.json`` / ``collection.json`` (path,
            folder or URL).
        collection: collection id (e.g. ``sentinel-1-rtc``); None: any (for static
            catalogues whose items name no collection).
        bbox: ``(west, south, east, north)`` in degrees.
        start: first day of the season.
        end: last day of the season.
        orbit: keep ``ascending`` or ``descending`` passes only (``sat:orbit_state``);
            ``any`` and ``both`` keep all.
        sign: signing hook (see :func:`load_signer`), applied to every item found.
        max_items: stop an API search after this many items.

    Raises:
        StacError: the catalogue cannot be read, the collection is absent, or no item
            matches (the message says which filter emptied the result).
        ConfigError: unknown ``orbit`` or signer.
    """
    if orbit not in ORBITS:
        raise ConfigError(f"unknown orbit {orbit!r}; use one of: {', '.join(ORBITS)}")
    signer = load_signer(sign)
    src = str(source)
    items: list[Any] | None = None
    if not _is_static(src):
        items = _search_api(src, collection, bbox, start, end, max_items)
    if items is None:
        items = _search_static(_static_root(src), collection, bbox, start, end)
    what = f"collection {collection!r}" if collection else "any collection"
    where = (
        f"{what} of {src} over bbox "
        f"{', '.join(f'{v:.5f}' for v in bbox)} (lon/lat) from {start} to {end}"
    )
    if not items:
        raise StacError(
            f"no item in {where}; check the collection, the bbox (and --bbox-crs) and the year"
        )
    if orbit in ("ascending", "descending"):
        kept = [i for i in items if orbit_state(i) == orbit]
        if not kept:
            found = sorted({orbit_state(i) or "unknown" for i in items})
            raise StacError(
                f"{len(items)} items in {where}, none {orbit} (sat:orbit_state: "
                f"{', '.join(found)}); use --orbit {found[0] if found else 'any'} or any"
            )
        items = kept
    if signer is not None:
        items = [signer(i) or i for i in items]
    return items


def orbit_state(item: Any) -> str | None:
    """``sat:orbit_state`` of an item, lower case (``ascending`` / ``descending``), or None."""
    v = item.properties.get("sat:orbit_state")
    return str(v).lower() if v else None


def relative_orbit(item: Any) -> int | None:
    """``sat:relative_orbit`` of an item, or None."""
    v = item.properties.get("sat:relative_orbit")
    return int(v) if v is not None else None


def _token(text: str, pol: str) -> bool:
    return re.search(rf"(?<![A-Za-z]){re.escape(pol)}(?![A-Za-z])", text, re.IGNORECASE) is not None


def _is_data(asset: Any) -> bool:
    roles = set(asset.roles or [])
    if roles & {"thumbnail", "overview", "visual", "metadata"}:
        return False
    if "data" in roles:
        return True
    media = (asset.media_type or "").lower()
    return "tiff" in media or asset.href.lower().split("?")[0].endswith((".tif", ".tiff"))


def _band_names(asset: Any) -> list[str]:
    names = []
    for key in ("eo:bands", "raster:bands", "bands"):
        for b in asset.extra_fields.get(key, []) or []:
            if isinstance(b, dict) and b.get("name"):
                names.append(str(b["name"]))
    return names


def polarisation_asset(item: Any, pol: str) -> str:
    """Key of the asset of ``item`` holding polarisation ``pol`` (``VV``, ``VH``, ...).

    Tried in order: asset key equal to ``pol`` (any case), band name (``eo:bands`` /
    ``raster:bands`` / ``bands``) equal to it, then ``pol`` as a token of the asset key
    or title (``sigma0_vv``, ``VV: vertical transmit...``). Only data assets count.

    Raises:
        StacError: no asset, or several equally good ones, hold ``pol``.
    """
    assets = {k: a for k, a in item.assets.items() if _is_data(a)}
    rules: tuple[Callable[[str, Any], bool], ...] = (
        lambda k, a: k.lower() == pol.lower(),
        lambda k, a: any(n.lower() == pol.lower() for n in _band_names(a)),
        lambda k, a: _token(k, pol) or _token(a.title or "", pol),
    )
    for rule in rules:
        hits = [k for k, a in assets.items() if rule(k, a)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise StacError(
                f"item {item.id}: several assets could hold {pol} ({', '.join(hits)}); "
                "rename them or choose bands with --bands"
            )
    raise StacError(
        f"item {item.id} has no {pol} asset (data assets: {', '.join(assets) or 'none'}); "
        f"use only the polarisations every item has (--bands) or another collection"
    )


def asset_keys(items: Sequence[Any], bands: Sequence[str]) -> list[str]:
    """The asset key of every band, the same for all items.

    Raises:
        StacError: an item lacks a band, or items name one band with different keys.
    """
    keys: list[str] = []
    for pol in bands:
        found: dict[str, str] = {}
        for item in items:
            found.setdefault(polarisation_asset(item, pol), item.id)
        if len(found) > 1:
            raise StacError(
                f"items store {pol} under different asset keys "
                f"({', '.join(f'{k} in {i}' for k, i in found.items())}); "
                "search one collection at a time"
            )
        keys.append(next(iter(found)))
    return keys
