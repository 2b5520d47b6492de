"""Transfer-learning strategies: which weights start from the pretrained model, which train.

Every strategy is one entry of :data:`STRATEGIES` (name -> :class:`Strategy`). The
Recurrent U-Net's parameter names start with one of four groups (see
docs/architecture.md), and the strategies are defined over these groups only:

==========  =================================================================
group       parameter-name prefix and role
==========  =================================================================
encoder     ``encoder.``: the 4 conv modules shared over time steps, including
            the first conv (band expansion) and the recurrent weights
bottleneck  ``bottleneck.``: the conv fusing the 8 steps' deepest features
decoder     ``decoder.``: upsampling + skip-concatenation conv blocks
head        ``head.``: the final 1x1 output conv
==========  =================================================================

The poster splits the network into an encoder and a decoder; the bottleneck between
them can be read as either side, so both readings are strategies:

- ``FT_E`` freezes ``decoder.*`` and ``head.*`` and trains ``encoder.*`` **and**
  ``bottleneck.*`` (the bottleneck with the encoder: it is the temporal fusion of the
  encoder's per-step features, and a region's planting dates and incidence angles
  change which steps carry the crop signal). This is the reading the experiment
  tables' ``FT_E`` row uses. The bottleneck holds about 88 % of what it trains.
- ``FT_EO`` ("encoder only") trains ``encoder.*`` alone and freezes the bottleneck with
  the decoder and head.

Symmetrically FT_D freezes only ``encoder.*``.

==========  ===========  ===========================================  ==============
strategy    start        trained groups                               note
==========  ===========  ===========================================  ==============
RF          n/a          random forest fitted on the target pixels    baseline
RI          random init  all                                          no transfer
FT          pretrained   all                                          poster
FT_E        pretrained   encoder, bottleneck (decoder + head frozen)  poster (table)
FT_EO       pretrained   encoder (bottleneck + decoder + head frozen) poster, 2nd reading
FT_D        pretrained   bottleneck, decoder, head (encoder frozen)   beyond poster
HEAD        pretrained   head only                                    linear probe
LP_FT       pretrained   head (30 % of budget), then all at lr x 0.1  beyond poster
ZS          pretrained   nothing (the source model as is)             reference
==========  ===========  ===========================================  ==============

Frozen parameters get ``requires_grad=False``; the trainer only optimises the others.
Batch-norm layers whose parameters are frozen also run in inference mode (their
running mean and variance are used and never updated, as Keras does for a layer with
``trainable=False``), so a frozen group really computes what it computed when
pretrained. The number of trainable parameters is logged and returned by
:func:`apply_phase`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from cropmap.errors import ConfigError, ModelFileError

log = logging.getLogger(__name__)

#: Parameter-name prefixes of the Recurrent U-Net's groups.
GROUPS: dict[str, str] = {
    "encoder": "encoder.",
    "bottleneck": "bottleneck.",
    "decoder": "decoder.",
    "head": "head.",
}
ALL_GROUPS: tuple[str, ...] = tuple(GROUPS)
#: Finer parts a phase may name besides the groups (e.g. the band-expansion warm-up).
PARTS: dict[str, str] = {"first_conv": "encoder.0.conv1."}
#: Strategy used when none is named (CLI, API and experiment configs).
DEFAULT_STRATEGY = "FT_E"


@dataclass(frozen=True)
class Phase:
    """One training phase of a strategy.

    Attributes:
        groups: parameter groups trained in this phase (others are frozen).
        lr_factor: multiplier of the configured learning rate.
        budget_fraction: share of the configured training budget (steps or seconds).
    """

    groups: tuple[str, ...]
    lr_factor: float = 1.0
    budget_fraction: float = 1.0


@dataclass(frozen=True)
class Strategy:
    """A named transfer strategy.

    Attributes:
        name: registry key (``FT_E``).
        description: one line for tables and help text.
        kind: ``random_forest`` or ``recurrent_unet``.
        pretrained: start from the pretrained weights (else random initialisation).
        phases: training phases, run in order (empty for the random forest).
    """

    name: str
    description: str
    kind: Literal["random_forest", "recurrent_unet"] = "recurrent_unet"
    pretrained: bool = True
    phases: tuple[Phase, ...] = field(default_factory=tuple)


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "RF",
            "pixel random forest trained on the target region",
            "random_forest",
            pretrained=False,
        ),
        Strategy(
            "RI",
            "random init, all layers trained on the target region",
            pretrained=False,
            phases=(Phase(ALL_GROUPS),),
        ),
        Strategy("FT", "pretrained, all layers fine-tuned", phases=(Phase(ALL_GROUPS),)),
        Strategy(
            "FT_E",
            "pretrained, decoder + head frozen, encoder + bottleneck fine-tuned",
            phases=(Phase(("encoder", "bottleneck")),),
        ),
        Strategy(
            "FT_EO",
            "pretrained, bottleneck + decoder + head frozen, encoder fine-tuned",
            phases=(Phase(("encoder",)),),
        ),
        Strategy(
            "FT_D",
            "pretrained, encoder frozen, bottleneck + decoder + head fine-tuned",
            phases=(Phase(("bottleneck", "decoder", "head")),),
        ),
        Strategy("HEAD", "pretrained, only the output layer trained", phases=(Phase(("head",)),)),
        Strategy("ZS", "pretrained, applied without any training (zero-shot reference)"),
        Strategy(
            "LP_FT",
            "pretrained, head first (30 %), then all layers at lr x 0.1",
            phases=(Phase(("head",), 1.0, 0.3), Phase(ALL_GROUPS, 0.1, 0.7)),
        ),
    )
}


def get_strategy(name: str) -> Strategy:
    """Return the strategy called ``name``.

    Raises:
        ConfigError: unknown name (the message lists the valid ones).
    """
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; valid: {', '.join(STRATEGIES)}") from None


def group_of(param_name: str) -> str:
    """Return the group (``encoder`` ...) a parameter name belongs to.

    Raises:
        ModelFileError: the name starts with none of the known prefixes, so a strategy
            could not say whether it is frozen.
    """
    for group, prefix in GROUPS.items():
        if param_name.startswith(prefix):
            return group
    raise ModelFileError(
        f"parameter {param_name!r} belongs to no known group (prefixes: "
        f"{', '.join(GROUPS.values())}); strategies cannot decide whether to freeze it"
    )


def count_parameters(model: Any, trainable_only: bool = True) -> int:
    """Number of scalar parameters of a torch module (only ``requires_grad`` ones by default)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _keep_eval(module: Any, args: Any) -> None:
    module.training = False


def _freeze_batchnorm(model: Any) -> None:
    """Keep batch norms with frozen parameters in inference mode (hook per forward)."""
    from torch import nn

    for module in model.modules():
        if not isinstance(module, nn.modules.batchnorm._BatchNorm):
            continue
        frozen = not any(p.requires_grad for p in module.parameters(recurse=False))
        handle = getattr(module, "_cropmap_frozen_hook", None)
        if frozen and handle is None:
            hook = module.register_forward_pre_hook(_keep_eval)
            module._cropmap_frozen_hook = hook  # type: ignore[assignment]  # not a Tensor/Module
        elif not frozen and handle is not None:
            handle.remove()
            module._cropmap_frozen_hook = None  # type: ignore[assignment]
            module.training = model.training


def apply_phase(model: Any, phase: Phase, *, label: str = "") -> int:
    """Freeze every parameter outside ``phase.groups``; return the trainable count.

    Args:
        model: a torch module whose parameter names follow :data:`GROUPS`.
        phase: the phase to apply.
        label: strategy name used in the log line.

    Returns:
        Number of trainable scalar parameters after freezing.
    """
    for group in phase.groups:
        if group not in GROUPS and group not in PARTS:
            raise ConfigError(
                f"unknown parameter group {group!r}; valid: {', '.join([*GROUPS, *PARTS])}"
            )
    wanted = set(phase.groups)
    prefixes = tuple(PARTS[g] for g in wanted if g in PARTS)
    for name, param in model.named_parameters():
        param.requires_grad_(group_of(name) in wanted or name.startswith(prefixes))
    _freeze_batchnorm(model)
    n_train = count_parameters(model)
    n_all = count_parameters(model, trainable_only=False)
    log.info(
        "strategy %s: training %s of %s parameters (%s)",
        label or "?",
        f"{n_train:,}",
        f"{n_all:,}",
        "+".join(phase.groups),
    )
    return n_train


def prepare_model(
    strategy: Strategy | str, model: Any, pretrained_state: dict[str, Any] | None = None
) -> int:
    """Initialise ``model`` for a strategy and freeze for its first phase.

    Args:
        strategy: strategy or its name; must be a ``recurrent_unet`` one.
        model: freshly built model (random weights) with the target bands.
        pretrained_state: state dict already matched to the model's bands (see
            :mod:`cropmap.transfer.band_expansion`); required if ``strategy.pretrained``.

    Returns:
        Number of trainable parameters in the first phase.

    Raises:
        ConfigError: the strategy is the random forest, or needs weights none were given.
        ModelFileError: the state dict does not fit the model.
    """
    s = get_strategy(strategy) if isinstance(strategy, str) else strategy
    if s.kind != "recurrent_unet":
        raise ConfigError(f"strategy {s.name} does not train a neural network")
    if s.pretrained:
        if pretrained_state is None:
            raise ConfigError(f"strategy {s.name} needs pretrained weights")
        try:
            model.load_state_dict(pretrained_state, strict=True)
        except RuntimeError as exc:
            raise ModelFileError(f"pretrained weights do not fit the model: {exc}") from exc
    if not s.phases:  # zero-shot: nothing trains
        for param in model.parameters():
            param.requires_grad_(False)
        log.info("strategy %s: training 0 parameters", s.name)
        return 0
    return apply_phase(model, s.phases[0], label=s.name)
