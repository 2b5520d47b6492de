"""Self-describing model directories: weights without pickle plus ``model.json``.

A model directory holds

- ``weights.safetensors`` (Recurrent U-Net) or ``forest.safetensors`` (random forest:
  its trees' node tables, :mod:`cropmap.models.forest_file`), and
- ``model.json``: :class:`ModelMeta` with the architecture, band names, calendar,
  normalization statistics, class names, training history, cropmap version and the
  SHA-256 of the weights file.

:func:`load_model` never unpickles: safetensors holds bare arrays. A ``forest.skops``
written by earlier versions is still read where skops is installed, building only the
scikit-learn types listed in :data:`SKOPS_TRUSTED`. It refuses a weights file whose
hash differs from ``model.json`` and a file written by another major format or cropmap
version.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cropmap import __version__
from cropmap.errors import ModelFileError
from cropmap.io.atomic import atomic_path, atomic_write_text

#: Format tag of ``model.json``; the number is the major version a reader accepts.
MODEL_FORMAT = "cropmap-model/1"
META_FILE = "model.json"
WEIGHT_FILES = {"recurrent_unet": "weights.safetensors", "random_forest": "forest.safetensors"}
#: the random-forest file of earlier versions (read when skops is installed)
LEGACY_FOREST_FILE = "forest.skops"
#: The only non-builtin types a legacy ``forest.skops`` may contain.
SKOPS_TRUSTED = [
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
]


class ModelMeta(BaseModel):
    """Contents of ``model.json``: everything to rebuild and check a model."""

    model_config = ConfigDict(extra="forbid")

    format: str = MODEL_FORMAT
    cropmap_version: str = __version__
    kind: Literal["recurrent_unet", "random_forest"] = "recurrent_unet"
    arch: dict[str, Any] = Field(default_factory=dict)
    bands: list[str] = Field(default_factory=lambda: ["VH"])
    periods: list[str] = Field(default_factory=list)
    calendar: dict[str, Any] | None = None
    norm: dict[str, dict[str, float]] = Field(default_factory=dict)
    classes: list[str] = Field(default_factory=lambda: ["other", "rice"])
    target: str = "rice"
    region: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    train_config: dict[str, Any] | None = None
    weights_sha256: str = ""

    @property
    def n_periods(self) -> int:
        """Number of time steps (composite periods) the model was trained on."""
        if self.periods:
            return len(self.periods)
        # ``n_steps``: the name in model.json files written before cropmap used n_periods
        return int(self.arch.get("n_periods", self.arch.get("n_steps", 0)))

    @property
    def period_names(self) -> list[str]:
        """The periods' names (``P1 .. PT`` when the file does not name them)."""
        return list(self.periods) or [f"P{i + 1}" for i in range(self.n_periods)]

    @property
    def target_index(self) -> int:
        """Class index of the target crop."""
        return self.classes.index(self.target) if self.target in self.classes else 1

    @property
    def n_outputs(self) -> int:
        """Logit channels of the network: 1 for two classes, else one per class."""
        return 1 if len(self.classes) <= 2 else len(self.classes)

    @property
    def scale(self) -> int:
        """Input height and width must be multiples of this (2 ** encoder modules)."""
        return 2 ** len(self.arch.get("widths", (16, 32, 64, 128)))

    @property
    def time_padding(self) -> str:
        """How missing later periods are filled (``"tip"`` or ``"zeros"``)."""
        return str(self.arch.get("time_padding", "tip"))

    @property
    def norm_mean(self) -> tuple[float, ...]:
        """Normalization mean per band of :attr:`bands`, in dB.

        Raises:
            ModelFileError: ``norm`` lacks a band.
        """
        return self._norm("mean")

    @property
    def norm_std(self) -> tuple[float, ...]:
        """Normalization standard deviation per band of :attr:`bands`, in dB.

        Raises:
            ModelFileError: ``norm`` lacks a band.
        """
        return self._norm("std")

    def _norm(self, key: str) -> tuple[float, ...]:
        try:
            return tuple(float(self.norm[key][b]) for b in self.bands)
        except KeyError as exc:
            raise ModelFileError(
                f"model.json lacks normalization statistics ({key}) for {exc}; retrain or "
                "re-save the model with norm = {'mean': {band: dB}, 'std': {band: dB}}"
            ) from exc

    def require_kind(self, kind: str, purpose: str) -> None:
        """Raise :class:`ModelFileError` unless this model is a ``kind`` model.

        Args:
            kind: ``"recurrent_unet"`` or ``"random_forest"``.
            purpose: what needs it, for the message (e.g. ``"tiled prediction"``).
        """
        if self.kind != kind:
            raise ModelFileError(f"{purpose} needs a {kind} model; this model is a {self.kind}")

    def check_input(
        self,
        bands: list[str] | tuple[str, ...],
        n_periods: int,
        *,
        allow_early: bool = False,
        selectable: bool = False,
    ) -> None:
        """Check that an input with ``bands`` and ``n_periods`` steps fits this model.

        Args:
            bands: band names of the input, in order (e.g. ``["VV", "VH"]``).
            n_periods: time steps in the input.
            allow_early: accept fewer periods than trained on (early-season prediction;
                the missing later periods are padded by time-inversed padding).
            selectable: the caller reads the model's bands by name, so extra bands or
                another order in the input are fine (only missing bands are an error).

        Raises:
            ModelFileError: saying what differs and how to fix it.
        """
        bands = list(bands)
        problems = []
        if bands != self.bands and not (selectable and set(self.bands) <= set(bands)):
            missing = [b for b in self.bands if b not in bands]
            if missing:
                problems.append(
                    f"the input lacks band(s) {missing} that the model needs (model bands "
                    f"{self.bands}, input bands {bands}); use a model trained on {bands} "
                    "or expand this one (cropmap.transfer band expansion)"
                )
            else:
                problems.append(
                    f"the model takes bands {self.bands} but the input has {bands}; "
                    f"select them with bands={self.bands} (--bands {','.join(self.bands)})"
                )
        want = self.n_periods
        if n_periods > want:
            problems.append(
                f"the input has {n_periods} periods but the model was trained on {want} "
                f"({', '.join(self.periods)}); composite with the model's calendar"
            )
        elif n_periods < want and not allow_early:
            problems.append(
                f"the input has {n_periods} periods but the model was trained on {want}; "
                f"for an early-season map pass periods={n_periods} (--periods {n_periods}; "
                "the later periods are "
                "filled by time-inversed padding)"
            )
        if problems:
            raise ModelFileError("; ".join(problems))


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _save_weights(model: Any, kind: str, path: Path) -> dict[str, Any]:
    if kind == "recurrent_unet":
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        with atomic_path(path) as tmp:
            save_file(state, str(tmp), metadata={"format": MODEL_FORMAT})
        return model.config.model_dump(mode="json")
    from cropmap.models.forest_file import save_forest

    save_forest(model.forest_, path)
    return model.get_params()


def save_model(out_dir: str | Path, model: Any, meta: ModelMeta) -> Path:
    """Write ``model`` and ``meta`` into the model directory ``out_dir``.

    Args:
        out_dir: folder (created if missing; other files in it are kept).
        model: a :class:`RecurrentUNet` or a fitted :class:`RandomForestBaseline`.
        meta: metadata; ``kind``, ``arch`` and ``weights_sha256`` are filled in here.

    Returns:
        The path of ``model.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # told apart without importing either library (scikit-learn costs a U-Net run 0.4 s)
    kind = "recurrent_unet" if hasattr(model, "state_dict") else "random_forest"
    weights = out_dir / WEIGHT_FILES[kind]
    arch = _save_weights(model, kind, weights)
    meta = meta.model_copy(
        update={
            "kind": kind,
            "arch": arch,
            "weights_sha256": sha256_file(weights),
            "cropmap_version": __version__,
            "format": MODEL_FORMAT,
        }
    )
    written = atomic_write_text(out_dir / META_FILE, meta.model_dump_json(indent=2) + "\n")
    if kind == "random_forest":  # an earlier forest's file no longer matches model.json
        (out_dir / LEGACY_FOREST_FILE).unlink(missing_ok=True)
    return written


def weights_path(model_dir: str | Path, kind: str) -> Path:
    """The weights file of a model directory (a forest's legacy ``forest.skops`` if that
    is the one there)."""
    path = Path(model_dir) / WEIGHT_FILES[kind]
    legacy = Path(model_dir) / LEGACY_FOREST_FILE
    if kind == "random_forest" and not path.is_file() and legacy.is_file():
        return legacy
    return path


def _major(version: str) -> str:
    return version.split(".")[0]


def read_meta(model_dir: str | Path) -> ModelMeta:
    """Read and validate ``model.json`` of a model directory (weights not touched)."""
    path = Path(model_dir) / META_FILE
    if not path.is_file():
        raise ModelFileError(
            f"{path} not found: {model_dir} is not a cropmap model directory "
            "(make one with `cropmap train` or `cropmap baseline`)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not valid JSON: {exc}") from exc
    fmt = str(raw.get("format", ""))
    if fmt.rsplit("/", 1)[-1] != MODEL_FORMAT.rsplit("/", 1)[-1]:
        raise ModelFileError(
            f"{path} has format {fmt!r}; this cropmap {__version__} reads {MODEL_FORMAT!r}"
        )
    version = str(raw.get("cropmap_version", ""))
    if _major(version) != _major(__version__):
        raise ModelFileError(
            f"{path} was written by cropmap {version}, another major version than this "
            f"cropmap {__version__}; retrain the model or use a matching cropmap"
        )
    try:
        return ModelMeta.model_validate(raw)
    except ValidationError as exc:
        raise ModelFileError(f"{path} is invalid: {exc}") from exc


def load_model(
    model_dir: str | Path, *, map_location: str = "cpu", meta: ModelMeta | None = None
) -> tuple[Any, ModelMeta]:
    """Load a model directory written by :func:`save_model`.

    Args:
        model_dir: the model directory.
        map_location: device of the loaded tensors.
        meta: its ``model.json`` if the caller already read it (:func:`read_meta`), so the
            file is parsed once; the weights are still checked against its SHA-256.

    Returns:
        ``(model, meta)``: a :class:`RecurrentUNet` in eval mode or a fitted
        :class:`RandomForestBaseline`, and its :class:`ModelMeta`.

    Raises:
        ModelFileError: missing files, hash mismatch, another major version, or
            untrusted content in a random-forest file.
    """
    model_dir = Path(model_dir)
    meta = meta if meta is not None else read_meta(model_dir)
    weights = weights_path(model_dir, meta.kind)
    if not weights.is_file():
        raise ModelFileError(f"{weights} not found (named by {model_dir / META_FILE})")
    digest = sha256_file(weights)
    if digest != meta.weights_sha256:
        raise ModelFileError(
            f"{weights} has SHA-256 {digest[:12]}... but model.json records "
            f"{meta.weights_sha256[:12]}...: the file was changed or corrupted; "
            "re-copy the model directory"
        )
    if meta.kind == "recurrent_unet":
        return _load_unet(weights, meta, map_location), meta
    return _load_forest(weights, meta), meta


def _load_unet(weights: Path, meta: ModelMeta, map_location: str) -> Any:
    from safetensors.torch import load_file

    from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig

    try:
        config = UNetConfig.model_validate(meta.arch)
    except ValidationError as exc:
        raise ModelFileError(f"architecture in model.json is invalid: {exc}") from exc
    model = RecurrentUNet(config)
    try:
        state = load_file(str(weights), device=map_location)
    except Exception as exc:  # safetensors raises its own SafetensorError on bad headers
        raise ModelFileError(f"{weights} is not a valid safetensors file: {exc}") from exc
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as exc:
        raise ModelFileError(f"{weights} does not fit the architecture: {exc}") from exc
    return model.eval()


def _load_forest(weights: Path, meta: ModelMeta) -> Any:
    from cropmap.models.forest_file import load_forest
    from cropmap.models.random_forest import RandomForestBaseline

    forest = load_forest(weights) if weights.name != LEGACY_FOREST_FILE else _skops(weights)
    params = {k: v for k, v in meta.arch.items() if k in RandomForestBaseline().get_params()}
    model = RandomForestBaseline(**params)
    model.forest_ = forest
    model.classes_ = forest.classes_
    model.n_features_in_ = forest.n_features_in_
    return model


def _skops(weights: Path) -> Any:
    """A legacy ``forest.skops``, building only the types in :data:`SKOPS_TRUSTED`."""
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ModelFileError(
            f"{weights} was written by an earlier cropmap in the skops format; install "
            "skops (`pip install skops`) to read it, or re-run `cropmap baseline`"
        ) from exc
    try:
        untrusted = sio.get_untrusted_types(file=weights)
    except Exception as exc:  # skops raises several types on corrupt files
        raise ModelFileError(f"{weights} is not a readable skops file: {exc}") from exc
    extra = sorted(set(untrusted) - set(SKOPS_TRUSTED))
    if extra:
        raise ModelFileError(f"{weights} contains types that are not trusted: {extra}")
    return sio.load(weights, trusted=SKOPS_TRUSTED)


def copy_model(src: str | Path, dst: str | Path) -> Path:
    """Copy a model directory (``model.json`` and its weights file) to ``dst``."""
    meta = read_meta(src)
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    weights = weights_path(src, meta.kind)
    shutil.copy2(weights, dst / weights.name)
    shutil.copy2(Path(src) / META_FILE, dst / META_FILE)
    return dst
