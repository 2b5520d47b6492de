"""Random forests as bare arrays in one safetensors file: no pickle, no code to trust.

A fitted scikit-learn forest is its trees' node tables. ``forest.safetensors`` holds
them concatenated over the trees: one tensor per node field (``left_child``,
``threshold``, ...), ``values`` (per-node class weights), per-tree ``node_count`` and
``max_depth``, and ``classes``. Its metadata holds the forest's parameters, the number of
features and the scikit-learn version that wrote it. Reading rebuilds a
``RandomForestClassifier`` whose trees are filled with the running scikit-learn's node
layout; a field that layout needs and the file lacks is refused by name.

Compared with the skops files of earlier versions (``forest.skops``, still read when
skops is installed): the reader imports nothing beyond scikit-learn and safetensors
(skops.io took 2-4 s to import here), and the file cannot name a type to build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import ModelFileError
from cropmap.io.atomic import atomic_path

#: ``format`` in the file's metadata; the number is the major version a reader accepts.
FOREST_FORMAT = "cropmap-forest/1"


def forest_arrays(forest: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata of a fitted single-output ``RandomForestClassifier``."""
    if getattr(forest, "n_outputs_", 1) != 1:
        raise ValueError(f"only single-output forests are stored; got {forest.n_outputs_}")
    states = [tree.tree_.__getstate__() for tree in forest.estimators_]
    nodes = np.concatenate([s["nodes"] for s in states])
    arrays = {name: np.ascontiguousarray(nodes[name]) for name in nodes.dtype.names or ()}
    arrays["values"] = np.ascontiguousarray(np.concatenate([s["values"] for s in states]))
    arrays["node_count"] = np.array([s["node_count"] for s in states], dtype=np.int64)
    arrays["max_depth"] = np.array([s["max_depth"] for s in states], dtype=np.int64)
    arrays["classes"] = np.asarray(forest.classes_)
    metadata = {
        "format": FOREST_FORMAT,
        "params": json.dumps(forest.get_params(deep=False)),
        "n_features": str(int(forest.n_features_in_)),
        "sklearn": _sklearn_version(),
    }
    return arrays, metadata


def save_forest(forest: Any, path: str | Path) -> Path:
    """Write a fitted forest to ``path`` (atomically: an earlier file stays until done)."""
    from safetensors.numpy import save_file

    arrays, metadata = forest_arrays(forest)
    with atomic_path(Path(path)) as tmp:
        save_file(arrays, str(tmp), metadata=metadata)
    return Path(path)


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 - not a dict
    except Exception as exc:  # safetensors raises its own SafetensorError on bad headers
        raise ModelFileError(f"{path} is not a valid safetensors file: {exc}") from exc
    fmt = metadata.get("format", "")
    if fmt.rsplit("/", 1)[-1] != FOREST_FORMAT.rsplit("/", 1)[-1] or "params" not in metadata:
        raise ModelFileError(f"{path} has format {fmt!r}; this cropmap reads {FOREST_FORMAT!r}")
    return arrays, metadata


def load_forest(path: str | Path) -> Any:
    """Read a forest written by :func:`save_forest` as a fitted ``RandomForestClassifier``.

    Raises:
        ModelFileError: not a safetensors file, another format, or a node field that
            this scikit-learn needs and the file lacks (written by a much older one).
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.tree._tree import NODE_DTYPE, Tree

    path = Path(path)
    arrays, metadata = _read(path)
    missing = [name for name in NODE_DTYPE.names if name not in arrays]
    if missing:
        raise ModelFileError(
            f"{path} lacks the node fields {missing} that scikit-learn "
            f"{_sklearn_version()} needs (written with scikit-learn "
            f"{metadata.get('sklearn', '?')}); re-run `cropmap baseline`"
        )
    forest = RandomForestClassifier(**json.loads(metadata["params"]))
    n_features = int(metadata["n_features"])
    classes = arrays["classes"]
    n_classes = np.array([classes.size], dtype=np.intp)
    tree_params = {p: getattr(forest, p) for p in forest.estimator_params}
    ends = np.cumsum(arrays["node_count"])
    trees = []
    for end, count, depth in zip(ends, arrays["node_count"], arrays["max_depth"], strict=True):
        rows = slice(int(end - count), int(end))
        nodes = np.empty(int(count), dtype=NODE_DTYPE)
        for name in NODE_DTYPE.names:
            nodes[name] = arrays[name][rows]
        tree = Tree(n_features, n_classes, 1)
        tree.__setstate__(
            {
                "max_depth": int(depth),
                "node_count": int(count),
                "nodes": nodes,
                "values": np.ascontiguousarray(arrays["values"][rows], dtype=np.float64),
            }
        )
        est = DecisionTreeClassifier(**tree_params)
        trees.append(_fitted(est, classes, n_features, tree_=tree))
    forest.estimator_ = DecisionTreeClassifier(**tree_params)
    return _fitted(forest, classes, n_features, estimators_=trees)


def _fitted(estimator: Any, classes: np.ndarray, n_features: int, **attributes: Any) -> Any:
    """``estimator`` with the attributes scikit-learn's ``fit`` sets for prediction."""
    attributes |= {"classes_": classes, "n_classes_": int(classes.size)}
    attributes |= {"n_features_in_": n_features, "n_outputs_": 1}
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)
