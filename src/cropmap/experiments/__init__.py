"""Experiments: a config names the transfer matrix, the runner executes and reports it.

Public API: :class:`ExperimentConfig`, :func:`load_config`, :func:`run_experiment`,
:func:`run_demo` (see docs/transfer.md).
"""

from __future__ import annotations

from cropmap._lazy import lazy_getattr

_EXPORTS = {
    "ExperimentConfig": "cropmap.experiments.config",
    "load_config": "cropmap.experiments.config",
    "parse_config": "cropmap.experiments.config",
    "run_experiment": "cropmap.experiments.runner",
    "plan_cells": "cropmap.experiments.runner",
    "ExperimentResult": "cropmap.experiments.runner",
    "run_demo": "cropmap.experiments.demo",
    "demo_config": "cropmap.experiments.demo",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
