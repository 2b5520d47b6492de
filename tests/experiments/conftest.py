"""Fixtures for experiment tests: a tiny 2-cell experiment config."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny_config():
    """A 2-cell experiment on 192 px scenes with 64 px patches and a tiny network."""
    from cropmap.experiments import parse_config

    return parse_config(
        {
            "name": "tiny",
            "patch_size": 64,
            "regions": {"korea": {"size": 192, "seed": 1}, "spain": {"size": 192, "seed": 2}},
            "pretrain": {
                "region": "korea",
                "bands": ["VH"],
                "model": {"widths": [4, 4, 4, 4], "bottleneck": 8},
                "train": {"max_epochs": 1, "batch_size": 4, "augment": None},
            },
            "transfers": [{"finetune": "spain", "test": ["spain"]}],
            "bands": [["VV", "VH"]],
            "strategies": ["RF", "FT_E"],
            "train": {"max_epochs": 1, "batch_size": 4, "augment": None},
            "rf": {"n_estimators": 5, "max_depth": 4, "max_samples_per_class": 500},
        }
    )
