"""The poster's result table (real Sentinel-1 data), as data to compare runs with.

IoU of the target class (rice; barley in the Netherlands) from the poster's table
(``shared/method.md``): one value per (strategy, fine-tune region, test region,
features). The poster's RI on Dutch barley with VV,VH is 0 (reported as such).
"""

from __future__ import annotations

#: The poster's columns: (fine-tune region, test region, features), in its order.
POSTER_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (ft, te, feat)
    for ft, te in (
        ("spain", "spain"),
        ("spain", "france"),
        ("france", "france"),
        ("france", "spain"),
        ("netherlands", "netherlands"),
    )
    for feat in ("VH", "VV,VH")
)

_ROWS: dict[str, tuple[float, ...]] = {
    "RF": (0.87, 0.90, 0.63, 0.66, 0.76, 0.84, 0.77, 0.78, 0.26, 0.40),
    "RI": (0.86, 0.69, 0.52, 0.36, 0.76, 0.74, 0.70, 0.73, 0.31, 0.0),
    "FT": (0.89, 0.90, 0.57, 0.63, 0.82, 0.83, 0.82, 0.83, 0.40, 0.45),
    "FT_E": (0.90, 0.90, 0.63, 0.66, 0.86, 0.86, 0.79, 0.84, 0.42, 0.54),
}

#: The poster's IoU: (strategy, fine-tune region, test region, features) -> IoU.
POSTER_IOU: dict[tuple[str, str, str, str], float] = {
    (strategy, *column): value
    for strategy, values in _ROWS.items()
    for column, value in zip(POSTER_COLUMNS, values, strict=True)
}
