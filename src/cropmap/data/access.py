"""Store access shared by training and evaluation: open a patch store, pick bands."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from cropmap.data.patches import PatchStore
from cropmap.errors import PatchStoreError


def open_store(patches: PatchStore | str | os.PathLike[str]) -> PatchStore:
    """A :class:`PatchStore` from its folder (or the store itself, unchanged)."""
    return patches if isinstance(patches, PatchStore) else PatchStore(patches)


def select_bands(x: np.ndarray, store_bands: Sequence[str], bands: Sequence[str]) -> np.ndarray:
    """Channels ``bands`` of ``x`` ``(T, C, H, W)`` whose channels are ``store_bands``.

    Raises:
        PatchStoreError: a band of ``bands`` is not among ``store_bands``.
    """
    missing = [b for b in bands if b not in store_bands]
    if missing:
        raise PatchStoreError(
            f"band(s) {missing} not in the patch store (bands: {list(store_bands)}); "
            f"pass --bands {','.join(store_bands)}"
        )
    return x[:, [list(store_bands).index(b) for b in bands]]
