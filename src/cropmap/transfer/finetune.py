"""Fine-tune a pretrained model directory on a patch store with a named strategy.

``finetune(pretrained_dir, patches, out_dir, strategy="FT_E", bands=["VV", "VH"])``:

1. reads the pretrained model (``model.json`` + weights) and, if the bands differ,
   expands its first convolution by band name (:mod:`cropmap.transfer.band_expansion`);
2. normalizes the target data with the pretrained model's statistics for the bands it
   knows and the target store's (train split) statistics for new bands;
3. freezes per the strategy's phases and trains each phase with :func:`train_model`;
4. writes a normal model directory (usable by ``cropmap evaluate`` / ``cropmap predict``)
   whose ``model.json`` records the strategy and the trainable parameter count.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cropmap.errors import ConfigError
from cropmap.train.config import TrainConfig, train_config_for
from cropmap.transfer.band_expansion import DEFAULT_METHOD, ExpansionConfig, expand_state_dict
from cropmap.transfer.strategies import (
    DEFAULT_STRATEGY,
    Phase,
    apply_phase,
    count_parameters,
    get_strategy,
    prepare_model,
)

log = logging.getLogger(__name__)


@dataclass
class PretrainedModel:
    """A source model in memory: weights and the ``model.json`` fields transfer needs."""

    state: dict[str, Any]
    bands: list[str]
    norm: dict[str, dict[str, float]]
    arch: dict[str, Any]

    @classmethod
    def load(cls, model_dir: str | Path) -> PretrainedModel:
        """Read a Recurrent U-Net model directory (hash-checked, never unpickled)."""
        from cropmap.models import load_model

        model, meta = load_model(model_dir)
        if meta.kind != "recurrent_unet":
            raise ConfigError(f"{model_dir} holds a {meta.kind}; only a U-Net can be fine-tuned")
        return cls(
            {k: v.detach().clone() for k, v in model.state_dict().items()},
            list(meta.bands),
            dict(meta.norm),
            dict(meta.arch),
        )


@dataclass
class FinetuneResult:
    """What :func:`finetune` produced."""

    model: Any
    meta: Any
    model_dir: Path
    trainable_params: int
    total_params: int
    train_seconds: float
    n_train_patches: int
    history: list[dict[str, Any]] = field(default_factory=list)


def train_subset(
    ids: Sequence[str], patches: int | Literal["all"], seed: int, cap: int | None = None
) -> list[int]:
    """Positions of the training patches to use.

    A seeded permutation of the split, cut to ``patches`` (and ``cap``): smaller budgets
    are prefixes of larger ones with the same seed, so a label-efficiency curve adds
    patches rather than redrawing them.
    """
    order = np.random.default_rng(1000 + seed).permutation(len(ids))
    n = len(ids) if patches == "all" else min(int(patches), len(ids))
    if cap is not None:
        n = min(n, cap)
    return sorted(int(i) for i in order[:n])


def merged_norm(
    pretrained: PretrainedModel | Any | None, store_norm: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Pretrained model's statistics for its bands, the target store's for new bands."""
    out = {k: dict(v) for k, v in store_norm.items()}
    if pretrained is not None:
        for stat in ("mean", "std"):
            out.setdefault(stat, {}).update(pretrained.norm.get(stat, {}))
    return out


def phase_config(
    train: Any, fraction: float, lr_factor: float, seed: int, pretrained: bool = False
) -> TrainConfig:
    """``TrainConfig`` of one phase: budget (epochs, seconds) x fraction, lr x factor.

    From pretrained weights the defaults are :class:`FinetuneConfig`'s, which keep batch
    norm's running statistics fixed: re-estimating them on a few batches of the new
    region shifts every layer's input away from what the pretrained weights expect
    (measured on the demo's Spain data: the Korean model's IoU fell from 0.78 to 0.05
    after 4 batches in training mode, with no gradient step at all).
    """
    base = train_config_for(train, pretrained)
    update: dict[str, Any] = {"lr": base.lr * lr_factor, "seed": seed}
    if fraction < 1.0:
        update["max_epochs"] = max(1, math.ceil(base.max_epochs * fraction))
        if base.max_time_s:
            update["max_time_s"] = base.max_time_s * fraction
    return base.model_copy(update=update)


def finetune(
    pretrained: str | Path | PretrainedModel | None,
    patches: str | Path,
    out_dir: str | Path,
    *,
    strategy: str = DEFAULT_STRATEGY,
    bands: Sequence[str] | None = None,
    train: Any = None,
    n_patches: int | Literal["all"] = "all",
    seed: int = 0,
    expansion: str | ExpansionConfig = DEFAULT_METHOD,
    sources: Mapping[str, str] | None = None,
    arch: Mapping[str, Any] | None = None,
    keep_checkpoints: bool = False,
) -> FinetuneResult:
    """Fine-tune (or, for ``RI``, train from scratch) on a patch store.

    Args:
        pretrained: pretrained model directory or :class:`PretrainedModel`; may be None
            only for ``RI`` (then ``arch`` gives the architecture).
        patches: target-region patch store (its ``train`` and ``val`` splits are used).
        out_dir: model directory to write.
        strategy: a neural strategy name of :data:`cropmap.transfer.STRATEGIES`.
        bands: input bands (default: the pretrained model's).
        train: ``TrainConfig`` or dict of its fields (budget of one full run); missing
            fields take :class:`FinetuneConfig`'s defaults (``RI``: ``TrainConfig``'s).
        n_patches: use only this many training patches (label-efficiency studies).
        seed: seed of the patch subset, the initialisation and training.
        expansion: band expansion method name, or an :class:`ExpansionConfig` (method,
            sources, scale, first-layer lr factor, warm-up); used for new bands only.
        sources: copy sources when ``expansion`` is a method name.
        arch: ``UNetConfig`` overrides (e.g. for ``RI`` without a pretrained model).
        keep_checkpoints: keep Lightning checkpoints of each phase (large).

    Returns:
        :class:`FinetuneResult`.

    Raises:
        ConfigError: unknown strategy, random forest, or missing pretrained model.
    """
    import torch

    from cropmap.data import PatchDataset, PatchStore
    from cropmap.models import ModelMeta, RecurrentUNet, UNetConfig, save_model
    from cropmap.train import train_model

    s = get_strategy(strategy)
    exp = (
        expansion
        if isinstance(expansion, ExpansionConfig)
        else ExpansionConfig(method=expansion, sources=dict(sources or {}))
    )
    if s.kind != "recurrent_unet":
        raise ConfigError(f"strategy {s.name} is not a network fine-tuning strategy")
    if isinstance(pretrained, (str, Path)):
        pretrained = PretrainedModel.load(pretrained)
    if s.pretrained and pretrained is None:
        raise ConfigError(f"strategy {s.name} needs a pretrained model directory")
    src = pretrained if s.pretrained else None
    store = PatchStore(patches)
    m = store.manifest
    bands = [b.upper() for b in (bands or (pretrained.bands if pretrained else m.bands))]
    norm = merged_norm(src, m.norm)
    train_ds = PatchDataset(store, "train", bands=bands, norm=norm)
    train_ds.ids = [train_ds.ids[i] for i in train_subset(train_ds.ids, n_patches, seed)]
    val_ds = PatchDataset(store, "val", bands=bands, norm=norm)
    full_arch = {**(pretrained.arch if pretrained else {}), **(arch or {})}
    full_arch["in_channels"] = len(bands)
    torch.manual_seed(seed)
    model = RecurrentUNet(UNetConfig(**full_arch))
    state = None
    if src is not None:
        state = expand_state_dict(
            src.state,
            RecurrentUNet.FIRST_CONV,
            src.bands,
            bands,
            method=exp.method,
            sources=exp.sources,
            scale=exp.scale,
        )
    n_trainable = prepare_model(s, model, state)
    phases = list(s.phases)
    new_bands = src is not None and any(b not in src.bands for b in bands)
    base_train = train_config_for(train, s.pretrained)
    if new_bands and exp.lr_factor != 1.0:
        scale = {**base_train.lr_scale, "encoder.0.conv1.": exp.lr_factor}
        base_train = base_train.model_copy(update={"lr_scale": scale})
    if new_bands and exp.warmup_fraction > 0 and phases:
        phases.insert(0, Phase(("first_conv",), 1.0, exp.warmup_fraction))
        n_trainable = apply_phase(model, phases[0], label=f"{s.name} warm-up")
    meta = ModelMeta(
        bands=bands,
        periods=list(m.periods),
        calendar=m.calendar,
        norm=norm,
        classes=list(m.classes),
        target=m.target,
        region=m.region or None,
    )
    out = Path(out_dir)
    history: list[dict[str, Any]] = []
    seconds = 0.0
    for i, phase in enumerate(phases):
        if i:
            n_trainable = max(n_trainable, apply_phase(model, phase, label=s.name))
        tcfg = phase_config(base_train, phase.budget_fraction, phase.lr_factor, seed)
        res = train_model(model, train_ds, val_ds, tcfg, out / f"phase{i}", meta)
        model, seconds = res.model, seconds + res.elapsed_s
        history += [{**h, "phase": i} for h in res.history]
        if not keep_checkpoints:
            shutil.rmtree(out / f"phase{i}" / "checkpoints", ignore_errors=True)
        for name in ("weights.safetensors", "model.json"):  # the final model lives in out
            (out / f"phase{i}" / name).unlink(missing_ok=True)
    meta = meta.model_copy(
        update={
            "history": history,
            "train_config": {
                **phase_config(base_train, 1.0, 1.0, seed).model_dump(mode="json"),
                "transfer": {
                    "strategy": s.name,
                    "trainable_params": n_trainable,
                    "expansion": exp.model_dump(mode="json"),
                    "n_train_patches": len(train_ds),
                    "seed": seed,
                },
            },
        }
    )
    save_model(out, model, meta)
    return FinetuneResult(
        model=model,
        meta=meta,
        model_dir=out,
        trainable_params=n_trainable,
        total_params=count_parameters(model, trainable_only=False),
        train_seconds=seconds,
        n_train_patches=len(train_ds),
        history=history,
    )
