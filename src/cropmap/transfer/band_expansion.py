"""Band expansion: adapt a pretrained first convolution to another list of input bands.

A model pretrained on ``["VH"]`` has a first-conv weight of shape ``(16, 1, 3, 3)``;
fine-tuning it with ``["VV", "VH"]`` needs ``(16, 2, 3, 3)``. Kernels are matched by
**band name** (never by position): a band present in both lists keeps its pretrained
kernel, and each new band gets a kernel from one of three methods:

- ``zero`` (**default**): the new band's kernel is all zeros. The expanded model then
  computes exactly the pretrained function (its outputs on the old bands are unchanged
  whatever the new band holds), so fine-tuning starts from the pretrained solution and
  the gradient alone decides how much the new band is used. ``copy`` and ``mean`` change
  the first layer's response at step 0 (the new band's normalized values are added to the
  old ones), which perturbs every downstream activation the pretrained layers expect.
- ``copy``: the kernel of a named source band (``sources={"VV": "VH"}``), optionally
  scaled; for VV <- VH both are normalized backscatter with similar temporal texture.
- ``mean``: the mean of the existing kernels.

Bands dropped from the old list simply lose their kernels. Biases of the first conv are
per output channel and need no change.

A zero kernel stays nearly unused after a short fine-tune (its gradient is small next
to the pretrained kernels'), so :class:`ExpansionConfig` offers two ways to let the new
band in while keeping a start of choice: ``lr_factor`` multiplies the learning rate of
the first layer (which holds the new kernels), and ``warmup_fraction`` adds a short first
phase in which only the first layer trains (the rest of the network stays as
pretrained), before the strategy's own phases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, cast, overload

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cropmap.errors import ModelFileError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Default method for bands the pretrained model has never seen (see module docstring).
DEFAULT_METHOD = "zero"


class ExpansionConfig(BaseModel):
    """How new input bands enter a pretrained model (one source of these defaults for
    the API, the CLI and experiment configs).

    Attributes:
        method: kernel of a new band: ``zero`` (function-preserving), ``copy`` or ``mean``.
        sources: for ``copy``: new band -> pretrained band, e.g. ``{"VV": "VH"}``.
        scale: factor of new kernels made by ``copy``/``mean`` (e.g. 0.5: a scaled copy).
        lr_factor: learning-rate factor of the first layer (new and old kernels alike,
            since Adam's step does not depend on the gradient's scale).
        warmup_fraction: extra first phase, this share of the budget, training only the
            first layer (0: none).
    """

    model_config = ConfigDict(extra="forbid")

    method: str = DEFAULT_METHOD
    sources: dict[str, str] = Field(default_factory=dict)
    scale: float = 1.0
    lr_factor: float = Field(1.0, gt=0)
    warmup_fraction: float = Field(0.0, ge=0, le=1)


def _kernel_zero(weight: np.ndarray, old: list[str], band: str, source: str | None) -> np.ndarray:
    return np.zeros_like(weight[:, 0])


def _kernel_mean(weight: np.ndarray, old: list[str], band: str, source: str | None) -> np.ndarray:
    return weight.mean(axis=1)


def _kernel_copy(weight: np.ndarray, old: list[str], band: str, source: str | None) -> np.ndarray:
    if source is None:
        raise ModelFileError(
            f"band expansion method 'copy' needs a source band for new band {band!r} "
            f"(pretrained bands: {', '.join(old)}); pass sources={{{band!r}: {old[-1]!r}}} "
            f"or use method 'zero' or 'mean'"
        )
    if source not in old:
        raise ModelFileError(
            f"cannot copy kernel for new band {band!r} from {source!r}: the pretrained model "
            f"has no band {source!r} (pretrained bands: {', '.join(old)})"
        )
    return weight[:, old.index(source)].copy()


#: Registry of methods: name -> ``f(weight, old_bands, new_band, source) -> (O, kh, kw)``.
METHODS: dict[str, Callable[[np.ndarray, list[str], str, str | None], np.ndarray]] = {
    "zero": _kernel_zero,
    "copy": _kernel_copy,
    "mean": _kernel_mean,
}


@overload
def expand_first_conv(
    weight: np.ndarray,
    old_bands: Sequence[str],
    new_bands: Sequence[str],
    *,
    method: str = DEFAULT_METHOD,
    sources: Mapping[str, str] | None = None,
    scale: float = 1.0,
) -> np.ndarray: ...


@overload
def expand_first_conv(
    weight: torch.Tensor,
    old_bands: Sequence[str],
    new_bands: Sequence[str],
    *,
    method: str = DEFAULT_METHOD,
    sources: Mapping[str, str] | None = None,
    scale: float = 1.0,
) -> torch.Tensor: ...


def expand_first_conv(
    weight: np.ndarray | torch.Tensor,
    old_bands: Sequence[str],
    new_bands: Sequence[str],
    *,
    method: str = DEFAULT_METHOD,
    sources: Mapping[str, str] | None = None,
    scale: float = 1.0,
) -> np.ndarray | torch.Tensor:
    """Build a first-conv weight for ``new_bands`` from one trained on ``old_bands``.

    Args:
        weight: pretrained weight ``(O, C_old, kh, kw)`` (numpy array or torch tensor).
        old_bands: band names of the pretrained input channels, ``len == C_old``.
        new_bands: band names of the new input channels, in the new channel order.
        method: how to initialise bands absent from ``old_bands``: ``zero``, ``copy``
            or ``mean`` (see :data:`METHODS`).
        sources: for ``copy``: new band -> pretrained band whose kernel it copies, e.g.
            ``{"VV": "VH"}``. Required for every new band (no silent guess).
        scale: factor applied to kernels made for new bands (``copy``/``mean``).

    Returns:
        float32 array ``(O, C_new, kh, kw)`` (a tensor for a tensor input); kernels of
        shared bands are identical.

    Raises:
        ModelFileError: shapes or band lists disagree, a band name repeats, the method
            is unknown, or ``copy`` has no usable source band.
    """
    is_torch = type(weight).__module__.startswith("torch")
    w = cast("torch.Tensor", weight).detach().cpu().numpy() if is_torch else np.asarray(weight)
    old, new = list(old_bands), list(new_bands)
    if w.ndim != 4:
        raise ModelFileError(f"first-conv weight must be (O, C, kh, kw), got shape {w.shape}")
    if w.shape[1] != len(old):
        raise ModelFileError(
            f"first-conv weight has {w.shape[1]} input channels but the model file names "
            f"{len(old)} bands ({', '.join(old)})"
        )
    for name, bands in (("pretrained", old), ("new", new)):
        if len(set(bands)) != len(bands) or not bands:
            raise ModelFileError(f"{name} band list must be non-empty and unique, got {bands}")
    if method not in METHODS:
        raise ModelFileError(
            f"unknown band expansion method {method!r}; valid: {', '.join(sorted(METHODS))}"
        )
    sources = dict(sources or {})
    unknown = [b for b in new if b not in old]
    if not any(b in old for b in new):
        log.warning("no band in %s was pretrained (%s): first layer is re-initialised", new, old)
    out = np.empty((w.shape[0], len(new), *w.shape[2:]), dtype=np.float32)
    for i, band in enumerate(new):
        if band in old:
            out[:, i] = w[:, old.index(band)]
            continue
        source = sources.get(band)
        out[:, i] = METHODS[method](w, old, band, source) * scale
    if unknown:
        dropped = [b for b in old if b not in new]
        log.info(
            "band expansion %s -> %s: new %s by %r%s",
            old,
            new,
            unknown,
            method,
            f", dropped {dropped}" if dropped else "",
        )
    if is_torch:
        import torch

        return torch.from_numpy(out).to(dtype=cast("torch.Tensor", weight).dtype)
    return out


def expand_state_dict(
    state: Mapping[str, object],
    key: str,
    old_bands: Sequence[str],
    new_bands: Sequence[str],
    *,
    method: str = DEFAULT_METHOD,
    sources: Mapping[str, str] | None = None,
    scale: float = 1.0,
) -> dict[str, object]:
    """Return a copy of ``state`` whose ``key`` weight is expanded to ``new_bands``.

    Args:
        state: a model state dict (tensor values).
        key: name of the first conv's weight (``RecurrentUNet.FIRST_CONV``).
        old_bands, new_bands, method, sources, scale: as :func:`expand_first_conv`.

    Raises:
        ModelFileError: ``key`` is missing, or as :func:`expand_first_conv`.
    """
    if key not in state:
        raise ModelFileError(
            f"state dict has no first-conv weight {key!r}; keys start with "
            f"{sorted({k.split('.')[0] for k in state})}"
        )
    out = dict(state)
    out[key] = expand_first_conv(
        cast("np.ndarray | torch.Tensor", state[key]),
        old_bands,
        new_bands,
        method=method,
        sources=sources,
        scale=scale,
    )
    return out
