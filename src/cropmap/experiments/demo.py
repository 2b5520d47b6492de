"""The built-in demo: the poster's transfer study on four simulated regions.

``run_demo(out_dir)`` runs ``presets/demo.yaml``: simulate Korea-, Spain-, France- and
Netherlands-like scenes, pretrain on Korea with VH, then RF, RI, FT and FT_E with VH
and VV,VH for Spain->Spain, Spain->France, France->France, France->Spain and
Netherlands->Netherlands (barley), plus the label-efficiency study in Spain. It is
sized to finish in under 15 minutes on 2 CPU cores (see docs/transfer.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cropmap.experiments.config import ExperimentConfig, demo_config_path, load_config
from cropmap.experiments.runner import ExperimentResult, ProgressFn, run_experiment


def demo_config(**overrides: Any) -> ExperimentConfig:
    """The demo's config, with top-level fields replaced by ``overrides``."""
    cfg = load_config(demo_config_path())
    if overrides:
        cfg = ExperimentConfig.model_validate({**cfg.model_dump(), **overrides})
    return cfg


def run_demo(out_dir: str | Path, progress: ProgressFn | None = None) -> ExperimentResult:
    """Run the demo into ``out_dir`` (resumable; pretrained weights are cached there)."""
    return run_experiment(demo_config(), out_dir, progress=progress)
