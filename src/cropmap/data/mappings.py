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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cropmap.errors import VectorError
from cropmap.io.presets import YamlPresets

__all__ = ["ClassMapping", "load_mapping", "mapping_preset_names", "normalize_class"]


def normalize_class(value: object) -> str | None:
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


#: The shipped mapping presets (``data/presets/*.yaml``) and how a mapping is named.
MAPPING_PRESETS = YamlPresets(
    "mapping", Path(__file__).with_name("presets"), VectorError, shape="with a 'values' field"
)


def mapping_preset_names() -> list[str]:
    """Names of the shipped mapping presets."""
    return MAPPING_PRESETS.names()


def load_mapping(spec: str | os.PathLike[str] | Mapping[str, Any] | ClassMapping) -> ClassMapping:
    """A mapping from a YAML file, a preset name (an existing file wins) or a dict.

    Raises:
        VectorError: neither a file nor a preset (the message lists the presets), not
            YAML, or an invalid mapping (the message names the file and the field at fault).
    """
    if isinstance(spec, ClassMapping):
        return spec
    doc, where = MAPPING_PRESETS.load(spec)
    try:
        return ClassMapping(**doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "mapping"
        raise VectorError(f"{where}: {field}: {err['msg']}") from exc
    except TypeError as exc:
        raise VectorError(f"{where}: {exc}") from exc
