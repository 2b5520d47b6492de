"""A raster grid (CRS, transform, size) that can be compared, pickled and described."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from affine import Affine
from rasterio.crs import CRS


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS (WKT), affine transform (6 numbers), width and height in pixels."""

    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int

    @classmethod
    def of(cls, ds: Any) -> Grid:
        """Grid of an open rasterio dataset."""
        t = ds.transform
        return cls(
            crs=ds.crs.to_wkt() if ds.crs else "",
            transform=(t.a, t.b, t.c, t.d, t.e, t.f),
            width=int(ds.width),
            height=int(ds.height),
        )

    @property
    def affine(self) -> Affine:
        """The transform as an :class:`affine.Affine`."""
        return Affine(*self.transform)

    @property
    def rio_crs(self) -> CRS | None:
        """The CRS as a rasterio CRS (None when the raster has none)."""
        return CRS.from_wkt(self.crs) if self.crs else None

    def difference(self, other: Grid) -> str | None:
        """Describe how ``other`` differs from this grid, or None when they match."""
        if (self.width, self.height) != (other.width, other.height):
            return f"size {other.width}x{other.height} instead of {self.width}x{self.height}"
        a, b = self.rio_crs, other.rio_crs
        if (a is None) != (b is None) or (a is not None and a != b):
            name = b.to_string() if b else "none"
            return f"CRS {name} instead of {a.to_string() if a else 'none'}"
        tol = 1e-6 * max(abs(self.transform[0]), abs(self.transform[4]), 1e-9)
        if any(abs(x - y) > tol for x, y in zip(self.transform, other.transform, strict=True)):
            return f"transform {other.transform} instead of {self.transform}"
        return None
