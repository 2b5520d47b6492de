"""PyTorch Dataset over a patch store: lazy per-patch reads, normalization, band selection."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from cropmap.data.patches import PatchStore
from cropmap.errors import PatchStoreError

Augment = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class PatchDataset(Dataset):
    """Patches of one split as ``(x, y)`` tensors.

    ``x`` is float32 ``(T, C, H, W)``: dB values normalized per band as
    ``(x - mean[band]) / std[band]``, then NaN (nodata) set to 0. ``y`` is int64
    ``(H, W)``: 0 other, 1 target, 255 ignore.

    Args:
        store_or_path: a :class:`PatchStore` or its folder.
        split: ``train``, ``val``, ``test`` or None for all patches.
        bands: band names to keep, in this order (e.g. ``["VH"]``); default all.
        norm: ``{"mean": {band: dB}, "std": {band: dB}}``; default the store's (train
            split statistics). Pass a model's own when fine-tuning.
        augment: ``augment(x, y) -> (x, y)`` on numpy arrays (after normalization, before
            tensor conversion), e.g. flips or temporal shifts from ``cropmap.train``.
    """

    def __init__(
        self,
        store_or_path: PatchStore | str | os.PathLike,
        split: str | None = "train",
        bands: Sequence[str] | None = None,
        norm: Mapping[str, Mapping[str, float]] | None = None,
        augment: Augment | None = None,
    ) -> None:
        self.store = (
            store_or_path if isinstance(store_or_path, PatchStore) else PatchStore(store_or_path)
        )
        m = self.store.manifest
        self.ids = self.store.ids(split)
        self.split = split
        have = [b.upper() for b in m.bands]
        self.bands = [b.upper() for b in bands] if bands else list(have)
        for b in self.bands:
            if b not in have:
                raise PatchStoreError(
                    f"band {b!r} not in patch store {self.store.path} (bands: {', '.join(have)})"
                )
        self._band_idx = [have.index(b) for b in self.bands]
        self.norm = norm if norm is not None else m.norm
        try:
            mean = {k.upper(): float(v) for k, v in self.norm["mean"].items()}
            std = {k.upper(): float(v) for k, v in self.norm["std"].items()}
            self._mean = np.array([mean[b] for b in self.bands], np.float32)[:, None, None]
            self._std = np.array([std[b] for b in self.bands], np.float32)[:, None, None]
        except KeyError as exc:
            raise PatchStoreError(
                f"normalization statistics lack band {exc}; they need 'mean' and 'std' "
                f"for each of {', '.join(self.bands)}"
            ) from None
        self.augment = augment
        self.periods = list(m.periods)

    def __len__(self) -> int:
        return len(self.ids)

    def arrays(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Normalized (and augmented) numpy arrays of item ``i``: float32 x, uint8 y."""
        x, y = self.store.read(self.ids[i])
        x = x[:, self._band_idx]
        x = (x - self._mean) / self._std
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32, copy=False)
        if self.augment is not None:
            x, y = self.augment(x, y)
        return x, y

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.arrays(i)
        return (
            torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(y).astype(np.int64)),
        )
