"""Cache keys of an experiment's reusable outputs: what produced them, hashed.

The runner reuses a prepared region, the pretrained model and every finished cell only
when the hash of what produced it matches: the relevant part of the configuration, the
simulator's spec of each simulated region, and :data:`CACHE_VERSION` with the package
version. A changed learning rate, simulator calibration or trainer semantics therefore
re-runs what it affects instead of mixing stale results into the tables.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import cropmap

#: Bump when training or evaluation code changes what a given configuration produces.
CACHE_VERSION = 2


def digest(obj: Any) -> str:
    """SHA-256 (hex, first 16 characters) of a JSON-able object, key order ignored."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_fields() -> dict[str, Any]:
    """The code-version fields every cache key includes."""
    return {"cache_version": CACHE_VERSION, "cropmap": cropmap.__version__}


def simulator_hash(region: str) -> str:
    """Hash of the simulator's spec of ``region`` (its physics and calibration).

    Uses :func:`cropmap.simulate.scene.simulator_fingerprint` where the simulator
    provides it, else the region spec itself.
    """
    try:
        from cropmap.simulate.scene import simulator_fingerprint

        return str(simulator_fingerprint(region))[:16]
    except ImportError:
        from cropmap.simulate.regions import get_region

        return digest(get_region(region).model_dump(mode="json"))
