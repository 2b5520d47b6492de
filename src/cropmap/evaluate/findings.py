"""The poster's findings as seed-wise paired differences of a results table.

A finding such as "FT_E >= RF" is checked per column of the poster's table: for every
seed that has both cells, the difference ``IoU(FT_E) - IoU(RF)``. The table shows the
mean ± std of those differences and how many seeds favour the first strategy, so a
reader sees both the effect and whether it is consistent across seeds. Pairing by seed
removes what the two cells share (the seed's training subset and data draw).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from cropmap.evaluate.tables import Row, column_header, mean_std, region_title

#: (better, worse) strategy pairs the poster claims, in the order the docs discuss them.
POSTER_STRATEGY_CLAIMS: tuple[tuple[str, str], ...] = (
    ("FT_E", "RF"),
    ("FT", "RF"),
    ("FT", "RI"),
    ("FT_E", "RI"),
)

Cell = tuple[str, str, str, str]  # strategy, finetune, test, features


def _cells(rows: Iterable[Row], metric: str) -> dict[Cell, dict[int, float]]:
    """``{(strategy, finetune, test, features): {seed: value}}`` of the full-budget rows."""
    out: dict[Cell, dict[int, float]] = defaultdict(dict)
    for r in rows:
        if str(r.get("patches", "all")) != "all":
            continue
        key = (str(r["strategy"]), str(r["finetune"]), str(r["test"]), str(r["features"]))
        out[key][int(r["seed"])] = float(r[metric])
    return out


def paired(a: dict[int, float], b: dict[int, float]) -> list[float]:
    """``a[seed] - b[seed]`` for every seed present in both, in seed order."""
    return [a[s] - b[s] for s in sorted(set(a) & set(b))]


def format_paired(diffs: Sequence[float], digits: int = 2) -> str:
    """``+0.03 ± 0.02 (3/3)``: mean ± sample std of the differences, then how many
    seeds have a difference >= 0 out of the paired seeds (``–`` when none)."""
    m, s, n = mean_std(diffs)
    if n == 0:
        return "–"
    wins = sum(d >= 0 for d in diffs)
    spread = f" ± {s:.{digits}f}" if n > 1 else ""
    return f"{m:+.{digits}f}{spread} ({wins}/{n})"


def strategy_differences(
    rows: Iterable[Row],
    claims: Sequence[tuple[str, str]] = POSTER_STRATEGY_CLAIMS,
    *,
    columns: Sequence[tuple[str, str, str]],
    metric: str = "iou",
    digits: int = 2,
) -> str:
    """Markdown table: one row per claim ``A >= B``, one column per (finetune, test,
    features) of the poster's table, each cell :func:`format_paired` of A - B."""
    cells = _cells(rows, metric)
    lines = column_header(columns, "claim")
    for a, b in claims:
        vals = [format_paired(paired(cells[(a, *c)], cells[(b, *c)]), digits) for c in columns]
        lines.append(f"| {a} − {b} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def band_differences(
    rows: Iterable[Row],
    strategies: Sequence[str],
    *,
    pairs: Sequence[tuple[str, str]],
    more: str = "VV,VH",
    less: str = "VH",
    metric: str = "iou",
    digits: int = 2,
) -> str:
    """Markdown table: what the extra band adds, ``IoU(more) - IoU(less)`` per seed,
    one row per strategy, one column per (finetune, test) pair."""
    cells = _cells(rows, metric)
    lines = [
        f"| {more} − {less} | " + " | ".join(region_title(f) for f, _ in pairs) + " |",
        "|---|" + "---|" * len(pairs),
        "| test in | " + " | ".join(region_title(t) for _, t in pairs) + " |",
    ]
    for s in strategies:
        vals = [
            format_paired(paired(cells[(s, f, t, more)], cells[(s, f, t, less)]), digits)
            for f, t in pairs
        ]
        lines.append(f"| {s} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def run_differences(
    new: Iterable[Row],
    old: Iterable[Row],
    strategies: Sequence[str] | None = None,
    *,
    metric: str = "iou",
    digits: int = 2,
) -> str:
    """Markdown table: what a second run changes, ``metric(new) - metric(old)`` paired by
    seed, one row per strategy, one column per (finetune, test, features) both runs have.

    For two runs of the same study that differ in one recipe setting (same data, seeds
    and source model), so each pair shares everything but that setting.

    Args:
        new, old: result rows of the two runs (``results.csv``).
        strategies: rows (default: the strategies both runs have, in ``new``'s order).
        metric: ``iou``, ``f1``, ``kappa`` or ``oa``.
        digits: decimals.
    """
    a, b = _cells(new, metric), _cells(old, metric)
    shared = [k for k in a if k in b]
    if strategies is None:
        strategies = list(dict.fromkeys(k[0] for k in shared))
    columns = list(dict.fromkeys(k[1:] for k in shared if k[0] in strategies))
    if not columns:
        raise ValueError(
            f"the two runs share no cell of strategies {list(strategies)} "
            "(same strategy, finetune, test and features)"
        )
    lines = column_header(columns, "new − old")
    for s in strategies:
        vals = [format_paired(paired(a[(s, *c)], b[(s, *c)]), digits) for c in columns]
        lines.append(f"| {s} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"
