"""The patch store on disk: its manifest types, reading, and staged (all-or-nothing) writes.

Layout (docs/architecture.md): ``manifest.json`` (:class:`PatchManifest`) and
``patches/<id>.npz`` with ``x`` float32 ``(T, C, H, W)`` dB (NaN nodata) and ``y`` uint8
``(H, W)`` (0 other, 1 target, 255 ignore). Reading keeps only the manifest in memory;
each patch is read from its own file on demand.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from cropmap.data.patch_writer import IGNORE
from cropmap.data.splits import SPLITS
from cropmap.errors import PatchStoreError

FORMAT = "cropmap-patches/1"


class PatchInfo(BaseModel):
    """One patch: where it lies in the source grid and what it holds."""

    id: str
    file: str
    split: str
    row: int
    col: int
    transform: list[float]
    valid_fraction: float  # share of pixels with a label other than ignore
    target_fraction: float  # share of valid pixels labelled target (1)


class PatchManifest(BaseModel):
    """The manifest of a patch store (``manifest.json``)."""

    format: str = FORMAT
    region: str = ""
    calendar: dict[str, Any] = Field(default_factory=dict)
    periods: list[str]
    bands: list[str]
    crs: str
    patch_size: int
    stride: int
    classes: list[str] = Field(default_factory=lambda: ["other", "rice"])
    target: str = "rice"
    ignore_index: int = IGNORE
    norm: dict[str, dict[str, float]] = Field(default_factory=dict)
    norm_split: str = "train"
    split_method: str = "blocks"
    block: int | None = None  # effective spatial block side, in patch sizes (None: random)
    block_requested: int | None = None  # the block side asked for
    split_fractions: list[float] = Field(default_factory=lambda: [0.7, 0.15, 0.15])
    seed: int = 0
    source: dict[str, str] = Field(default_factory=dict)
    dropped: dict[str, int] = Field(default_factory=dict)
    patches: list[PatchInfo]

    def counts(self) -> dict[str, int]:
        """Number of patches per split."""
        out = dict.fromkeys(SPLITS, 0)
        for p in self.patches:
            out[p.split] = out.get(p.split, 0) + 1
        return out


@contextlib.contextmanager
def staged_store(out: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a hidden folder beside ``out`` to build in; move it in place on success.

    On any error the hidden folder is removed and an earlier store in ``out`` is kept.
    """
    if (out / "manifest.json").exists() and not overwrite:
        raise PatchStoreError(f"a patch store exists in {out}; pass overwrite=True (--force)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        (tmp / "patches").mkdir()
        yield tmp
        if not out.exists():
            os.replace(tmp, out)
            return
        if (out / "patches").exists():
            os.replace(out / "patches", tmp / "old-patches")
        os.replace(tmp / "patches", out / "patches")
        os.replace(tmp / "manifest.json", out / "manifest.json")
        shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class PatchStore:
    """A patch store on disk; the manifest is in memory, patches are read on demand."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        mpath = self.path / "manifest.json"
        if not mpath.is_file():
            raise PatchStoreError(f"no patch store at {self.path} (missing manifest.json)")
        try:
            self.manifest = PatchManifest.model_validate_json(mpath.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise PatchStoreError(f"{mpath} is not a valid patch manifest: {exc}") from exc
        if self.manifest.format != FORMAT:
            raise PatchStoreError(
                f"{mpath}: unsupported format {self.manifest.format!r} (expected {FORMAT!r})"
            )
        self._by_id = {p.id: p for p in self.manifest.patches}

    def __len__(self) -> int:
        return len(self.manifest.patches)

    def ids(self, split: str | None = None) -> list[str]:
        """Patch ids of one split (all when None), in manifest order.

        Raises:
            PatchStoreError: unknown split name.
        """
        if split is None:
            return [p.id for p in self.manifest.patches]
        if split not in SPLITS:
            raise PatchStoreError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
        return [p.id for p in self.manifest.patches if p.split == split]

    def info(self, pid: str) -> PatchInfo:
        """Manifest entry of one patch."""
        try:
            return self._by_id[pid]
        except KeyError:
            raise PatchStoreError(f"no patch {pid!r} in {self.path}") from None

    def read(self, pid: str) -> tuple[np.ndarray, np.ndarray]:
        """Read one patch: ``x`` float32 ``(T, C, H, W)`` dB (NaN nodata), ``y`` uint8 ``(H, W)``.

        Raises:
            PatchStoreError: unknown id, or a missing or corrupt patch file.
        """
        path = self.path / self.info(pid).file
        try:
            with np.load(path, allow_pickle=False) as z:
                return z["x"], z["y"]
        except (OSError, KeyError, ValueError) as exc:
            raise PatchStoreError(f"cannot read patch {pid} from {path}: {exc}") from exc
