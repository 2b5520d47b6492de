"""Results tables: one row per cell in, the poster's layout out (mean +- std over seeds).

The poster's table has one column per (fine-tune region, test region, features) and
one row per strategy; each value is the IoU of the target class. Here each value is
the mean over seeds, followed by ``± std`` (sample standard deviation) when there is
more than one seed.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Columns of results.csv, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "strategy",
    "finetune",
    "test",
    "features",
    "seed",
    "patches",
    "iou",
    "f1",
    "kappa",
    "oa",
    "train_seconds",
    "trainable_params",
)

Row = Mapping[str, Any]


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count; NaNs are skipped."""
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not vals:
        return math.nan, math.nan, 0
    m = sum(vals) / len(vals)
    s = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return m, s, len(vals)


def format_mean_std(values: Sequence[float], digits: int = 2) -> str:
    """``0.87 ± 0.02`` (or ``0.87`` for one seed, ``–`` for none)."""
    m, s, n = mean_std(values)
    if n == 0:
        return "–"
    return f"{m:.{digits}f}" if n == 1 else f"{m:.{digits}f} ± {s:.{digits}f}"


def region_title(region: str) -> str:
    """A region's name as table headers show it (``netherlands`` -> ``NL``)."""
    return "NL" if region == "netherlands" else region.capitalize()


def column_header(
    columns: Sequence[tuple[str, str, str]], corner: str = "fine-tune in"
) -> list[str]:
    """The poster's four header lines (fine-tune region, rule, test region, features) of
    a markdown table with one column per (finetune, test, features); ``corner`` is the
    first cell."""
    return [
        f"| {corner} | " + " | ".join(region_title(c[0]) for c in columns) + " |",
        "|---|" + "---|" * len(columns),
        "| test in | " + " | ".join(region_title(c[1]) for c in columns) + " |",
        "| feature | " + " | ".join(c[2] for c in columns) + " |",
    ]


def poster_table(
    rows: Iterable[Row],
    metric: str = "iou",
    *,
    strategies: Sequence[str] | None = None,
    columns: Sequence[tuple[str, str, str]] | None = None,
    digits: int = 2,
    reference: Mapping[tuple[str, str, str, str], float] | None = None,
) -> str:
    """Markdown table in the poster's layout.

    Args:
        rows: result rows (dicts with at least strategy, finetune, test, features,
            seed and ``metric``); rows with ``patches`` other than ``all`` are ignored.
        metric: the value shown (``iou``, ``f1``, ``kappa``, ``oa``).
        strategies: row order (default: order of first appearance).
        columns: (finetune, test, features) column order (default: first appearance).
        digits: decimals.
        reference: values to show after each cell as ``ours / theirs`` (e.g.
            :data:`cropmap.evaluate.poster.POSTER_IOU`), keyed by (strategy, finetune,
            test, features); cells without a reference value show ours alone.

    Returns:
        A markdown table: header rows "fine-tune in", "test in", "feature", then one
        row per strategy.
    """
    cells: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    strat_order: list[str] = []
    col_order: list[tuple[str, str, str]] = []
    for r in rows:
        if str(r.get("patches", "all")) != "all":
            continue
        col = (str(r["finetune"]), str(r["test"]), str(r["features"]))
        cells[(str(r["strategy"]), *col)].append(float(r[metric]))
        if r["strategy"] not in strat_order:
            strat_order.append(str(r["strategy"]))
        if col not in col_order:
            col_order.append(col)
    strategies = list(strategies or strat_order)
    columns = list(columns or col_order)
    lines = column_header(columns)
    for s in strategies:
        vals = [format_mean_std(cells.get((s, *c), []), digits) for c in columns]
        if reference is not None:
            vals = [
                f"{v} / {reference[(s, *c)]:.{digits}f}" if (s, *c) in reference else v
                for v, c in zip(vals, columns, strict=True)
            ]
        lines.append(f"| {s} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def label_efficiency_table(rows: Iterable[Row], metric: str = "iou", *, digits: int = 2) -> str:
    """Markdown table: one row per (strategy, test region), one column per patch budget."""
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    budgets: list[str] = []
    keys: list[tuple[str, str]] = []
    for r in rows:
        b = str(r.get("patches", "all"))
        cells[(str(r["strategy"]), str(r["test"]), b)].append(float(r[metric]))
        if b not in budgets:
            budgets.append(b)
        if (str(r["strategy"]), str(r["test"])) not in keys:
            keys.append((str(r["strategy"]), str(r["test"])))
    budgets.sort(key=lambda b: math.inf if b == "all" else int(b))
    lines = [
        "| strategy | test in | " + " | ".join(budgets) + " |",
        "|---|---|" + "---|" * len(budgets),
    ]
    for s, t in keys:
        vals = [format_mean_std(cells.get((s, t, b), []), digits) for b in budgets]
        lines.append(f"| {s} | {region_title(t)} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def rows_to_csv(rows: Iterable[Row], columns: Sequence[str] = RESULT_COLUMNS) -> str:
    """CSV text with a header and ``columns`` (floats with 4 decimals)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def read_csv_rows(text: str) -> list[dict[str, str]]:
    """Parse results.csv text back into row dicts (values as strings)."""
    return list(csv.DictReader(io.StringIO(text)))
