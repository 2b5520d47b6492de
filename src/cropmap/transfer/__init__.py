"""Transfer learning: strategies (what starts pretrained, what trains) and band expansion."""

from cropmap.train.config import FinetuneConfig
from cropmap.transfer.band_expansion import (
    DEFAULT_METHOD,
    METHODS,
    ExpansionConfig,
    expand_first_conv,
    expand_state_dict,
)
from cropmap.transfer.finetune import FinetuneResult, PretrainedModel, finetune
from cropmap.transfer.strategies import (
    DEFAULT_STRATEGY,
    GROUPS,
    STRATEGIES,
    Phase,
    Strategy,
    apply_phase,
    count_parameters,
    get_strategy,
    group_of,
    prepare_model,
)

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_STRATEGY",
    "ExpansionConfig",
    "FinetuneConfig",
    "FinetuneResult",
    "PretrainedModel",
    "GROUPS",
    "METHODS",
    "STRATEGIES",
    "Phase",
    "Strategy",
    "apply_phase",
    "count_parameters",
    "expand_first_conv",
    "expand_state_dict",
    "finetune",
    "get_strategy",
    "group_of",
    "prepare_model",
]
