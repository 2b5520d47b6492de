"""Class mappings: national parcel codes or names -> label values, with shipped presets.

A mapping is YAML (or a dict): ``values`` maps codes or names to label values
(``RIZ: 1``, ``236: 1``), ``default`` is the value of every class not listed,
``unknown`` the value of parcels without a class, ``column`` the parcel column that
holds the codes, ``target`` the class labelled 1 and ``source`` where the codes come
from. Matching ignores case, surrounding spaces and accents, and treats ``236``,
``"236"`` and ``236.0`` alike. Presets: ``france-rpg``, ``catalonia-dun``,
``netherlands-brp``, ``korea-farmmap`` (see docs/data.md for their sources).
"""

from __future__ import annotations

import math
import os
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cropmap.errors import VectorError

__all__ = ["ClassMapping", "load_mapping", "mapping_preset_names", "normalize_class"]


def normalize_class(value: Any) -> str | None:
    """The matching key of a class code or name, or None for a missing class.

    Case, surrounding spaces and accents are ignored; integral numbers lose their
    decimals (``236.0`` -> ``"236"``), so codes read as floats still match.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    if not text:
        return None
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", text).casefold()


class ClassMapping(BaseModel):
    """Codes or names of a parcel column -> uint8 label values.

    Attributes:
        name: mapping name.
        values: code or name -> label value (0..255).
        default: value of every class not in ``values``.
        unknown: value of parcels without a class.
        column: parcel column holding the codes (None: the caller names it).
        target: name of the class labelled 1.
        source: where the codes come from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "custom"
    values: dict[str, int]
    default: int = Field(0, ge=0, le=255)
    unknown: int = Field(255, ge=0, le=255)
    column: str | None = None
    target: str = "rice"
    source: str = ""

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): val for k, val in v.items()}
        return v

    @field_validator("values")
    @classmethod
    def _check(cls, v: dict[str, int]) -> dict[str, int]:
        if not v:
            raise ValueError("values must map at least one code or name")
        seen: dict[str, tuple[str, int]] = {}
        for k, val in v.items():
            if not 0 <= val <= 255:
                raise ValueError(f"value of {k!r} must be 0..255, got {val}")
            key = normalize_class(k)
            if key is None:
                raise ValueError("an empty code or name cannot be mapped")
            if key in seen and seen[key][1] != val:
                raise ValueError(
                    f"{seen[key][0]!r} and {k!r} match alike but map to different values"
                )
            seen[key] = (k, val)
        return v

    def lookup(self) -> dict[str, int]:
        """Normalized code or name -> value."""
        return {normalize_class(k): val for k, val in self.values.items()}  # type: ignore[misc]


def mapping_preset_names() -> list[str]:
    """Names of the shipped mapping presets."""
    folder = resources.files("cropmap.data") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_mapping(spec: str | os.PathLike | dict[str, Any] | ClassMapping) -> ClassMapping:
    """A mapping from a preset name, a YAML file or a dict.

    Raises:
        VectorError: unknown preset, unreadable file, or an invalid mapping (the
            message names the file and the field at fault).
    """
    if isinstance(spec, ClassMapping):
        return spec
    where = "mapping"
    if isinstance(spec, dict):
        doc: Any = spec
    else:
        name = str(spec)
        if name in mapping_preset_names():
            where = f"mapping preset {name}"
            text = (resources.files("cropmap.data") / "presets" / f"{name}.yaml").read_text(
                encoding="utf-8"
            )
        elif Path(name).is_file():
            where = f"mapping file {name}"
            text = Path(name).read_text(encoding="utf-8")
        else:
            raise VectorError(
                f"unknown mapping {name!r}: not a file and not a preset "
                f"({', '.join(mapping_preset_names())})"
            )
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise VectorError(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise VectorError(f"{where} must be a YAML mapping with a 'values' field")
    try:
        return ClassMapping(**doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "mapping"
        raise VectorError(f"{where}: {field}: {err['msg']}") from exc
    except TypeError as exc:
        raise VectorError(f"{where}: {exc}") from exc
