"""Recurrent U-Net over a SAR time series (layout of shared/method.md, "Model").

Input ``(B, T, C, H, W)`` (normalized dB, NaN already set to 0), output logits
``(B, 1, H, W)`` for two classes (apply a sigmoid) or ``(B, K, H, W)`` for ``K > 2``
(apply a softmax). ``H`` and ``W`` must be multiples of 16 (four 2x poolings).

- **Encoder**, shared over the time steps: 4 modules ``Conv -> Dropout -> Conv -> MaxPool``
  (widths 16-32-64-128 by default), each conv 3x3 followed by batch norm and ReLU.
- **Recurrence** in every module's second conv: ``h_t = ReLU(BN(conv(a_t)) + W h_{t-1})``
  with ``h_{t-1}`` the module's (post-ReLU, pre-pool) output at the previous step and
  ``W`` a learned 1x1 convolution (``recurrence="conv1x1"``, default; mixes channels)
  or a learned per-channel weight (``recurrence="channel"``). ``W`` starts at zero, so
  training starts from a plain per-step U-Net encoder.
- **Bottleneck**: the ``T`` steps' deepest (pooled) features concatenated
  (``T x 128`` channels at ``H/16``) -> 3x3 conv to 256.
- **Skips**: per module, the element-wise max over the periods of each phenological
  stage (``stages``), the stage maps concatenated (``len(stages) x width`` channels).
- **Decoder**: nearest 2x upsampling, concatenation with the skip, two 3x3 convs, widths
  128-64-32-16; a 1x1 head to 1 channel (2 classes) or ``K`` channels.

Fewer than ``T`` steps are accepted: the missing later steps are filled with
:func:`cropmap.models.time_padding.pad_time` (``config.time_padding``), which is how
early-season maps are made.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from cropmap.errors import ModelFileError
from cropmap.models.time_padding import pad_time


class UNetConfig(BaseModel):
    """Architecture of :class:`RecurrentUNet` (stored in ``model.json`` as ``arch``)."""

    model_config = ConfigDict(extra="forbid")

    in_channels: int = Field(1, ge=1, description="bands per step (1 = VH, 2 = VV,VH)")
    n_periods: int = Field(8, ge=1, description="time steps T (composite periods)")
    widths: tuple[int, ...] = (16, 32, 64, 128)
    bottleneck: int = Field(256, ge=1)
    stages: list[list[int]] = Field(default_factory=lambda: [[0, 1], [2, 3], [4, 5], [6, 7]])
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    n_classes: int = Field(2, ge=2)
    recurrence: Literal["conv1x1", "channel"] = "conv1x1"
    time_padding: Literal["tip", "zeros"] = "tip"
    bn_momentum: float = Field(0.5, gt=0.0, le=1.0, description="batch-norm running-stat update")

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        """Accept ``n_steps``, the name in model.json files of earlier cropmap versions."""
        if isinstance(data, dict) and "n_steps" in data:
            data = dict(data)
            steps = data.pop("n_steps")
            data.setdefault("n_periods", steps)
        return data

    @model_validator(mode="after")
    def _check(self) -> UNetConfig:
        if len(self.widths) < 1:
            raise ValueError("widths needs at least one encoder module")
        flat = [i for stage in self.stages for i in stage]
        if not flat or any(not stage for stage in self.stages):
            raise ValueError(f"stages must be non-empty lists of step indices, got {self.stages}")
        bad = [i for i in flat if not 0 <= i < self.n_periods]
        if bad:
            raise ValueError(f"stage indices {bad} outside 0..{self.n_periods - 1} (n_periods)")
        return self

    @property
    def n_steps(self) -> int:
        """Deprecated alias of :attr:`n_periods`."""
        return self.n_periods

    @property
    def out_channels(self) -> int:
        """Logit channels: 1 for two classes, else ``n_classes``."""
        return 1 if self.n_classes == 2 else self.n_classes


def _conv_bn(c_in: int, c_out: int, momentum: float = 0.1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out, momentum=momentum),
    )


class EncoderModule(nn.Module):
    """One encoder module: conv -> dropout -> recurrent conv (returns pre-pool features)."""

    def __init__(self, c_in: int, width: int, dropout: float, recurrence: str) -> None:
        super().__init__()
        self.conv1 = _conv_bn(c_in, width)
        self.drop = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = _conv_bn(width, width)
        self.recur: nn.Conv2d | None
        if recurrence == "conv1x1":
            self.recur = nn.Conv2d(width, width, 1, bias=False)
            nn.init.zeros_(self.recur.weight)
        else:
            self.recur = None
            self.recur_weight = nn.Parameter(torch.zeros(1, width, 1, 1))

    def forward(self, x: torch.Tensor, n_periods: int) -> torch.Tensor:
        """``x`` ``(B*T, C, H, W)`` (step-major within each sample) -> ``(B, T, w, H, W)``."""
        a = self.drop(torch.relu(self.conv1(x)))
        c = self.conv2(a)  # all steps at once; only the cheap recurrence is sequential
        c = c.view(-1, n_periods, *c.shape[1:])
        h_prev = None
        steps = []
        for t in range(n_periods):
            pre = c[:, t]
            if h_prev is not None:
                pre = pre + (
                    self.recur(h_prev) if self.recur is not None else self.recur_weight * h_prev
                )
            h_prev = torch.relu(pre)
            steps.append(h_prev)
        return torch.stack(steps, dim=1)


def _max_over(feats: torch.Tensor, steps: list[int]) -> torch.Tensor:
    """Elementwise max of ``feats[:, t]`` over the periods ``steps``: ``(B, w, H, W)``.

    Chained ``torch.maximum`` instead of ``amax`` over the gathered periods: the same
    values (and, for the default pairs, the same gradients), but the ONNX export gets
    elementwise ``Max`` nodes instead of ``ReduceMax``. In onnxruntime's int8 network
    (one 512 px window) ReduceMax took 11-12 % of the kernel time, Max takes 2 %; paired
    runs were 1.05-1.08x faster (4 pairs, 2026-12-02; at 256 px x 4 the host's noise,
    0.85-1.19x, hid any difference).
    """
    out = feats[:, steps[0]]
    for t in steps[1:]:
        out = torch.maximum(out, feats[:, t])
    return out


class DecoderBlock(nn.Module):
    """Upsample 2x, concatenate the skip, two 3x3 convs."""

    def __init__(self, c_in: int, c_skip: int, width: int) -> None:
        super().__init__()
        self.conv1 = _conv_bn(c_in + c_skip, width)
        self.conv2 = _conv_bn(width, width)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
        x = torch.relu(self.conv1(torch.cat([x, skip], dim=1)))
        return torch.relu(self.conv2(x))


class RecurrentUNet(nn.Module):
    """Recurrent U-Net (see the module docstring for the layout)."""

    #: Name of the first convolution's weight, shape ``(widths[0], C, 3, 3)``.
    FIRST_CONV = "encoder.0.conv1.0.weight"

    def __init__(self, config: UNetConfig | None = None, **kwargs: object) -> None:
        super().__init__()
        if config is None:
            config = UNetConfig(**kwargs)
        elif kwargs:
            config = config.model_copy(update=kwargs)
            config = UNetConfig.model_validate(config.model_dump())
        self.config = config
        w = config.widths
        n_stages = len(config.stages)
        ins = (config.in_channels, *w[:-1])
        self.encoder = nn.ModuleList(
            EncoderModule(ci, wi, config.dropout, config.recurrence)
            for ci, wi in zip(ins, w, strict=True)
        )
        self.bottleneck = nn.Sequential(
            _conv_bn(config.n_periods * w[-1], config.bottleneck), nn.ReLU(inplace=True)
        )
        dec_widths = tuple(reversed(w))  # 128, 64, 32, 16
        blocks = []
        c_prev = config.bottleneck
        for width, skip_w in zip(dec_widths, reversed(w), strict=True):
            blocks.append(DecoderBlock(c_prev, n_stages * skip_w, width))
            c_prev = width
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(c_prev, config.out_channels, 1)
        for mod in self.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.momentum = config.bn_momentum

    @property
    def scale(self) -> int:
        """Input height and width must be multiples of this."""
        return 2 ** len(self.config.widths)

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if x.ndim != 5:
            raise ModelFileError(f"input must be (B, T, C, H, W), got shape {tuple(x.shape)}")
        if x.shape[2] != cfg.in_channels:
            raise ModelFileError(
                f"model takes {cfg.in_channels} band(s) per step, input has {x.shape[2]}"
            )
        if x.shape[1] > cfg.n_periods:
            raise ModelFileError(
                f"model takes at most {cfg.n_periods} time steps, input has {x.shape[1]}"
            )
        if x.shape[-1] % self.scale or x.shape[-2] % self.scale:
            raise ModelFileError(
                f"height and width must be multiples of {self.scale}, got {tuple(x.shape[-2:])}"
            )
        if x.shape[1] < cfg.n_periods:
            x = pad_time(x, cfg.n_periods, cfg.time_padding)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 1 or K, H, W)`` from ``x`` ``(B, T' <= T, C, H, W)``."""
        x = self._check_input(x)
        b, t = x.shape[:2]
        cur = x.reshape(b * t, *x.shape[2:])
        skips = []
        for module in self.encoder:
            feats = module(cur, t)  # (B, T, w, h, w)
            skips.append(torch.cat([_max_over(feats, s) for s in self.config.stages], dim=1))
            cur = nn.functional.max_pool2d(feats.flatten(0, 1), 2)
        deep = cur.view(b, t * cur.shape[1], *cur.shape[2:])
        y = self.bottleneck(deep)
        for block, skip in zip(self.decoder, reversed(skips), strict=True):
            y = block(y, skip)
        return self.head(y)


def fold_batchnorm(model: RecurrentUNet) -> RecurrentUNet:
    """A copy for inference with every batch norm folded into the conv before it.

    Same outputs in eval mode (up to float rounding), fewer passes over memory. The copy's
    state dict has other keys (conv biases, no BN): save the original, not the copy.
    """
    import copy

    folded = copy.deepcopy(model).eval()
    for mod in folded.modules():
        if isinstance(mod, nn.Sequential) and len(mod) >= 2:
            conv, bn = mod[0], mod[1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                mean, var = bn.running_mean, bn.running_var
                if mean is None or var is None:  # track_running_stats=False: nothing to fold
                    continue
                scale = bn.weight / torch.sqrt(var + bn.eps)
                kh, kw = conv.kernel_size[:2]
                pad = conv.padding if isinstance(conv.padding, str) else conv.padding[:2]
                fused = nn.Conv2d(
                    conv.in_channels,
                    conv.out_channels,
                    (kh, kw),
                    padding=cast("str | tuple[int, int]", pad),
                    bias=True,
                    device=conv.weight.device,
                    dtype=conv.weight.dtype,
                )
                with torch.no_grad():
                    fused.weight.copy_(conv.weight * scale[:, None, None, None])
                    bias = conv.bias if conv.bias is not None else torch.zeros_like(scale)
                    assert fused.bias is not None  # built with bias=True
                    fused.bias.copy_((bias - mean) * scale + bn.bias)
                mod[0], mod[1] = fused, nn.Identity()
    return folded


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, shape: tuple[int, ...]) -> int:
    """Forward FLOPs (multiply-add = 2) for one input of ``shape`` ``(B, T, C, H, W)``."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    x = torch.zeros(shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    model.train(was_training)
    return int(counter.get_total_flops())
