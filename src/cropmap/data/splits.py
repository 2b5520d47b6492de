"""Train/val/test splits of patches: spatial (disjoint blocks, default) or random.

A spatial split groups patches into square blocks of ``block`` x ``block`` patch sizes
and gives whole blocks to one split, so neighbouring (spatially autocorrelated) patches
rarely land in different splits. When patches overlap (stride < size), patches that
would share pixels with a patch of another split are dropped (:func:`drop_overlaps`), so
no pixel is ever in two splits. The random split is the one the Korean study used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cropmap.errors import ConfigError

SPLITS: tuple[str, ...] = ("train", "val", "test")

#: Order in which splits claim pixels when resolving overlaps: small splits first.
CLAIM_ORDER: tuple[str, ...] = ("test", "val", "train")


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Validate ``(train, val, test)`` fractions: three non-negative numbers summing to 1."""
    f = tuple(float(x) for x in fractions)
    if len(f) != 3 or any(x < 0 for x in f) or abs(sum(f) - 1.0) > 1e-6:
        raise ConfigError(
            f"split fractions must be three non-negative numbers (train, val, test) "
            f"summing to 1, got {fractions}"
        )
    return f


def _allocate(sizes: Sequence[int], order: np.ndarray, fractions: Sequence[float]) -> list[str]:
    """Give groups (in ``order``) to the split furthest below its target share."""
    total = float(sum(sizes))
    have = dict.fromkeys(SPLITS, 0)
    out = [""] * len(sizes)
    active = [s for s, f in zip(SPLITS, fractions, strict=True) if f > 0]
    target = dict(zip(SPLITS, fractions, strict=True))
    # every split with a share gets one group first (when there are enough groups)
    for k, g in enumerate(order):
        if k < len(active):
            s = active[k]
        else:
            s = max(active, key=lambda name: target[name] * total - have[name])
        out[g] = s
        have[s] += sizes[g]
    return out


def random_split(
    rows: Sequence[int],
    cols: Sequence[int],
    size: int,
    fractions: Sequence[float],
    seed: int,
    block: int = 1,
) -> list[str]:
    """Assign each patch to a split at random, in the given proportions."""
    f = check_fractions(fractions)
    rng = np.random.default_rng(seed)
    return _allocate([1] * len(rows), rng.permutation(len(rows)), f)


def spatial_block(
    rows: Sequence[int], cols: Sequence[int], size: int, fractions: Sequence[float], block: int
) -> int:
    """The block side (in patch sizes) a spatial split uses: ``block``, halved (down to
    one patch) until there are at least as many blocks as splits with a non-zero share.
    """
    need = sum(x > 0 for x in check_fractions(fractions))
    b = max(1, int(block))
    while b > 1 and len(_block_keys(rows, cols, b * size)) < need:
        b = max(1, b // 2)
    return b


def _block_keys(rows: Sequence[int], cols: Sequence[int], px: int) -> set[tuple[int, int]]:
    return {(r // px, c // px) for r, c in zip(rows, cols, strict=True)}


def block_split(
    rows: Sequence[int],
    cols: Sequence[int],
    size: int,
    fractions: Sequence[float],
    seed: int,
    block: int = 4,
) -> list[str]:
    """Assign whole blocks of ``block * size`` pixels to splits (by patch origin).

    The block shrinks (see :func:`spatial_block`) until there are at least as many
    blocks as splits with a non-zero share.
    """
    f = check_fractions(fractions)
    px = spatial_block(rows, cols, size, f, block) * size
    keys = [(r // px, c // px) for r, c in zip(rows, cols, strict=True)]
    uniq = sorted(set(keys))
    ids = {k: i for i, k in enumerate(uniq)}
    member = [ids[k] for k in keys]
    sizes = np.bincount(member, minlength=len(uniq)).tolist()
    rng = np.random.default_rng(seed)
    per_block = _allocate(sizes, rng.permutation(len(uniq)), f)
    return [per_block[m] for m in member]


def drop_overlaps(
    rows: Sequence[int], cols: Sequence[int], size: int, splits: Sequence[str]
) -> list[str | None]:
    """Return ``splits`` with ``None`` for patches sharing pixels with another split.

    Splits claim pixels in :data:`CLAIM_ORDER` (test, val, train), so the small splits
    stay whole and train loses its border patches.
    """
    out: list[str | None] = list(splits)
    kept: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for name in CLAIM_ORDER:
        for i, (r, c, s) in enumerate(zip(rows, cols, splits, strict=True)):
            if s != name:
                continue
            cell = (r // size, c // size)
            clash = False
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    for r2, c2, s2 in kept.get((cell[0] + dr, cell[1] + dc), ()):
                        if s2 != s and abs(r - r2) < size and abs(c - c2) < size:
                            clash = True
                            break
            if clash:
                out[i] = None
            else:
                kept.setdefault(cell, []).append((r, c, s))
    return out


Splitter = Callable[..., list[str]]

#: Split methods: name -> function(rows, cols, size, fractions, seed, block).
SPLITTERS: dict[str, Splitter] = {"blocks": block_split, "random": random_split}


def split_patches(
    method: str,
    rows: Sequence[int],
    cols: Sequence[int],
    size: int,
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    block: int = 4,
) -> list[str]:
    """Split patches with the method ``method`` (``blocks`` or ``random``).

    Raises:
        ConfigError: unknown method (the message lists them) or bad fractions.
    """
    try:
        fn = SPLITTERS[method]
    except KeyError:
        raise ConfigError(f"unknown split {method!r}; use one of: {', '.join(SPLITTERS)}") from None
    if not rows:
        return []
    return fn(rows, cols, size, fractions, seed, block=block)
