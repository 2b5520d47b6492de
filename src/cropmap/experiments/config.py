"""Experiment configuration: the matrix of regions, bands, strategies, seeds, budgets.

An experiment pretrains one model (region + bands), fine-tunes it in each
fine-tuning region with each strategy, band set and seed, and tests every
fine-tuned model in the test regions paired with its fine-tuning region. A YAML file
maps one-to-one onto :class:`ExperimentConfig`; see ``presets/demo.yaml``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cropmap.errors import ConfigError, RenamedKeyWarning
from cropmap.io.presets import YamlPresets
from cropmap.transfer.band_expansion import ExpansionConfig

#: Simulator regions: calendar preset and target crop (docs/architecture.md).
REGION_DEFAULTS: dict[str, tuple[str, str]] = {
    "korea": ("korea-rice", "rice"),
    "spain": ("spain-rice", "rice"),
    "france": ("france-rice", "rice"),
    "netherlands": ("netherlands-barley", "barley"),
}

Budget = int | Literal["all"]
DEFAULT_BUDGETS: tuple[Budget, ...] = (1, 2, 5, 10, 20, "all")


#: Deprecated YAML keys -> the project-wide names that replace them (still read, with a
#: one-line :class:`RenamedKeyWarning`).
RENAMED_KEYS = {"features": "bands", "map_features": "map_bands"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        """Read a deprecated key (``features``) as its new name (``bands``), warning once."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old, new in RENAMED_KEYS.items():
            if old in data and new in cls.model_fields:
                if new in data:
                    raise ValueError(f"give {new!r} or its deprecated alias {old!r}, not both")
                warnings.warn(
                    f"experiment config key {old!r} is deprecated; use {new!r}",
                    RenamedKeyWarning,
                    stacklevel=2,
                )
                data[new] = data.pop(old)
        return data


class RegionSpec(_Strict):
    """Where a region's data comes from: the simulator, or the user's own files.

    Attributes:
        simulate: simulator region (``korea``, ``spain``, ``france``, ``netherlands``);
            defaults to the region's key when ``s1_dir`` is not given.
        size: simulated scene side in pixels (10 m each).
        year: season year.
        seed: simulator seed.
        s1_dir: folder of Sentinel-1 GeoTIFFs (real data; replaces ``simulate``).
        parcels: parcel vector file (GeoPackage, Shapefile ...) for real data.
        class_column: parcel attribute naming the crop.
        units: units of the S1 files (``linear``, ``db`` or ``auto``); simulated scenes
            are linear.
        calendar: calendar preset name or YAML path (default: the region's preset).
        target: crop value mapped to label 1 (default: rice, barley in the Netherlands).
        split: how patches are split into train/val/test (``blocks`` keeps neighbours
            together, so test patches are spatially apart from training ones).
        fractions: train, val, test shares of the patches.
        block: side of a spatial split block, in patches.
        max_train_patches: cap on training patches (label scarcity), ``None`` = all.
        keep_scene: keep the simulated per-date GeoTIFFs after compositing (disk).
    """

    simulate: str | None = None
    size: int = Field(768, ge=64)
    year: int = 2021
    seed: int = 0
    s1_dir: Path | None = None
    parcels: Path | None = None
    class_column: str = "crop"
    units: str = "auto"
    calendar: str | None = None
    target: str | None = None
    split: str = "blocks"
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    block: int = Field(2, ge=1)
    max_train_patches: int | None = Field(None, ge=1)
    keep_scene: bool = False


class PretrainSpec(_Strict):
    """The source model: region, bands and training budget (``TrainConfig`` fields)."""

    region: str
    bands: list[str] = Field(default_factory=lambda: ["VH"])
    train: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    model_dir: Path | None = Field(
        None, description="use this existing model directory instead of pretraining"
    )


class TransferSpec(_Strict):
    """One fine-tuning region and the regions its models are tested in."""

    finetune: str
    test: list[str]


#: How new input bands are initialised: the transfer layer's own config, so the
#: defaults have one source (see cropmap.transfer.band_expansion).
BandExpansionSpec = ExpansionConfig


class LabelEfficiencySpec(_Strict):
    """IoU against the number of fine-tuning patches (``all`` = every training patch)."""

    finetune: str
    test: list[str]
    bands: list[str] = Field(default_factory=lambda: ["VH"])
    budgets: list[Budget] = Field(default_factory=lambda: list(DEFAULT_BUDGETS))
    strategies: list[str] = Field(default_factory=lambda: ["FT_E", "FT", "RI", "RF"])

    @field_validator("budgets")
    @classmethod
    def _positive(cls, v: list[Budget]) -> list[Budget]:
        if any(b != "all" and b < 1 for b in v):
            raise ValueError("patch budgets must be >= 1 or 'all'")
        return v


class ExperimentConfig(_Strict):
    """The whole experiment; the resolved config is written into the run directory.

    Attributes:
        name: experiment name (titles of the report).
        patch_size: patch side in pixels (the paper: 256; the demo uses 128 for CPU time).
        regions: region name -> data source.
        pretrain: source model specification.
        transfers: fine-tuning regions with their test regions.
        bands: band sets, each a list of band names, e.g. ``[[VH], [VV, VH]]``
            (``features``: the deprecated name of this key, and of ``pretrain.bands``,
            ``label_efficiency.bands``; ``map_features`` of ``map_bands``).
        strategies: strategy names (``cropmap.transfer.STRATEGIES``).
        seeds: seeds; tables show mean +- std over them.
        train: ``TrainConfig`` fields for training in the fine-tuning region (every
            strategy; ``RI`` trains from scratch with them).
        finetune_lr: learning rate of the strategies that start from pretrained weights
            (FT, FT_E, ...); ``None`` = :class:`cropmap.transfer.FinetuneConfig`'s default
            (``train.lr`` is for RI, which trains from scratch). Fine-tuning wants a
            smaller step than training from scratch, or the first updates wipe out what
            was pretrained.
        rf: ``RandomForestBaseline`` parameters.
        band_expansion: how VH-pretrained first layers take extra bands.
        label_efficiency: optional study of IoU against the number of training patches.
        map_bands: band set shown in the maps figure (default: the first one).
        evaluate_source: test the source model on its own region's test split (the
            ``SRC`` row: strategy SRC, fine-tune and test = the pretraining region).
        early_season: also test the source model on the first 1..T periods only (the
            rest filled by time-inversed padding): IoU against the number of periods.
    """

    name: str = "experiment"
    patch_size: int = Field(128, ge=16)
    regions: dict[str, RegionSpec]
    pretrain: PretrainSpec
    transfers: list[TransferSpec]
    bands: list[list[str]] = Field(default_factory=lambda: [["VH"], ["VV", "VH"]])
    strategies: list[str] = Field(default_factory=lambda: ["RF", "RI", "FT", "FT_E"])
    seeds: list[int] = Field(default_factory=lambda: [0])
    train: dict[str, Any] = Field(default_factory=dict)
    finetune_lr: float | None = Field(None, gt=0)
    rf: dict[str, Any] = Field(default_factory=dict)
    band_expansion: BandExpansionSpec = Field(default_factory=BandExpansionSpec)
    label_efficiency: LabelEfficiencySpec | None = None
    map_bands: list[str] | None = None
    evaluate_source: bool = True
    early_season: bool = False

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        from cropmap.transfer import get_strategy

        used = {self.pretrain.region}
        for t in self.transfers:
            used |= {t.finetune, *t.test}
        if self.label_efficiency:
            used |= {self.label_efficiency.finetune, *self.label_efficiency.test}
            for s in self.label_efficiency.strategies:
                get_strategy(s)
        missing = sorted(used - set(self.regions))
        if missing:
            raise ValueError(
                f"regions {missing} are used but not defined under 'regions' "
                f"(defined: {sorted(self.regions)})"
            )
        for s in self.strategies:
            get_strategy(s)
        for name, spec in self.regions.items():
            if spec.s1_dir is None and (spec.simulate or name) not in REGION_DEFAULTS:
                raise ValueError(
                    f"region {name!r}: give s1_dir + parcels, or simulate one of "
                    f"{sorted(REGION_DEFAULTS)}"
                )
            if spec.s1_dir is not None and spec.parcels is None:
                raise ValueError(f"region {name!r}: s1_dir needs parcels")
            # real data must exist now, not after the other regions were simulated
            if spec.s1_dir is not None and not spec.s1_dir.is_dir():
                raise ValueError(f"region {name!r}: s1_dir {spec.s1_dir} is not a folder")
            if spec.parcels is not None and not spec.parcels.is_file():
                raise ValueError(f"region {name!r}: parcels file {spec.parcels} not found")
        for bands in [*self.bands, self.pretrain.bands]:
            if not bands or len(set(bands)) != len(bands):
                raise ValueError(f"band set {bands} must be non-empty and unique")
        return self

    def region(self, name: str) -> RegionSpec:
        """Return the spec of region ``name``."""
        return self.regions[name]

    def calendar_of(self, name: str) -> str:
        """Calendar preset name or path of region ``name``."""
        spec = self.regions[name]
        return spec.calendar or REGION_DEFAULTS[spec.simulate or name][0]

    def target_of(self, name: str) -> str:
        """Target crop value of region ``name``."""
        spec = self.regions[name]
        if spec.target:
            return spec.target
        key = spec.simulate or name
        if key not in REGION_DEFAULTS:
            raise ConfigError(f"region {name!r}: set 'target' (the crop mapped to label 1)")
        return REGION_DEFAULTS[key][1]


#: The built-in experiment presets (``experiments/presets/*.yaml``, not the template).
EXPERIMENT_PRESETS = YamlPresets(
    "experiment config",
    Path(__file__).with_name("presets"),
    ConfigError,
    hint="`cropmap experiment --template > {name}` writes one to start from",
    exclude=frozenset({"template"}),
)


def preset_names() -> list[str]:
    """Names of the built-in experiment presets (``demo``, ``poster``)."""
    return EXPERIMENT_PRESETS.names()


def preset_path(name: str) -> Path:
    """Path of the built-in preset ``name``.

    Raises:
        ConfigError: no such preset (the message lists them).
    """
    return EXPERIMENT_PRESETS.path(name)


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment YAML file, or a built-in preset by name.

    ``load_config("poster")`` reads the preset when no file ``poster`` exists.

    Raises:
        ConfigError: neither a file nor a preset (the message lists the presets and how
            to start one), not YAML, or fails validation (the message names the field).
    """
    data, source = EXPERIMENT_PRESETS.load(path)
    return parse_config(data, source=source)


def parse_config(data: object, source: str = "config") -> ExperimentConfig:
    """Validate a dict as :class:`ExperimentConfig`, raising :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(
            f"{source}: {where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from exc


def demo_config_path() -> Path:
    """Path of the built-in demo configuration."""
    return preset_path("demo")


def template_config_path() -> Path:
    """Path of the commented starting configuration (``cropmap experiment --template``)."""
    return Path(__file__).with_name("presets") / "template.yaml"
