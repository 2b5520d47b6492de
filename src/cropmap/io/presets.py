"""YAML documents given by a preset name, a file path or a dict, with one set of rules.

Calendars (``cropmap.sar``), class mappings (``cropmap.data``) and experiment configs
(``cropmap.experiments``) each ship presets as ``presets/NAME.yaml`` beside their code
and accept the same three spellings. :class:`YamlPresets` holds the rules once:

- a dict (any mapping) is taken as the document itself;
- a string or path naming an existing file reads that file (a file wins over a preset
  of the same name, so a user's ``korea-rice`` file in the working folder is honoured);
- otherwise it must be a preset name; anything else raises the caller's error class
  with one message naming the value, the presets and the next step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cropmap.errors import CropmapError

__all__ = ["YamlPresets"]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line for a YAML parse error: the problem and where (1-based line and column)."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())


@dataclass(frozen=True)
class YamlPresets:
    """The presets of one kind of YAML document and how a user names one.

    Attributes:
        kind: what a document is, for messages (``"calendar"``, ``"mapping"``).
        folder: the folder of the shipped ``NAME.yaml`` presets.
        error: the :class:`~cropmap.errors.CropmapError` subclass raised on bad input.
        shape: what the top-level mapping holds, for messages
            (``"with 'name' and 'periods'"``).
        hint: the next step after an unknown name; ``{name}`` is replaced by the
            value's file name.
        exclude: file stems in ``folder`` that are not presets (a template).
    """

    kind: str
    folder: Path
    error: type[CropmapError]
    shape: str = ""
    hint: str = "pass one of them or the path of a YAML file"
    exclude: frozenset[str] = field(default_factory=frozenset)

    def names(self) -> list[str]:
        """Names of the presets, sorted."""
        stems = (p.stem for p in self.folder.glob("*.yaml"))
        return sorted(s for s in stems if s not in self.exclude)

    def path(self, name: str) -> Path:
        """The file of preset ``name``.

        Raises:
            CropmapError: (``error``) no such preset; the message lists them.
        """
        if name not in self.names():
            raise self.error(self._not_found(name))
        return self.folder / f"{name}.yaml"

    def source(self, spec: str | os.PathLike[str]) -> tuple[Path, str]:
        """The file that ``spec`` names and how messages call it.

        Returns:
            ``(path, source)``, ``source`` being ``"<kind> file PATH"`` or
            ``"<kind> preset NAME"``.

        Raises:
            CropmapError: (``error``) ``spec`` is neither a file nor a preset.
        """
        text = os.fspath(spec)
        if Path(text).is_file():
            return Path(text), f"{self.kind} file {text}"
        return self.path(text), f"{self.kind} preset {text}"

    def load(self, spec: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """The top-level mapping of a document given as a dict, a file or a preset name.

        Returns:
            ``(data, source)``: the parsed mapping and how messages name it
            (``"calendar file cal.yaml"``, ``"mapping preset france-rpg"``,
            ``"calendar (dict)"``).

        Raises:
            CropmapError: (``error``) an unknown name, a file that is not YAML, or a
                document whose top level is not a mapping.
        """
        if isinstance(spec, Mapping):
            return self._mapping(spec, f"{self.kind} (dict)")
        path, source = self.source(spec)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise self.error(f"{source}: not valid YAML: {_yaml_problem(exc)}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error(f"{source}: cannot be read: {exc}") from exc
        return self._mapping(data, source)

    def _mapping(self, data: object, source: str) -> tuple[dict[str, Any], str]:
        if not isinstance(data, Mapping):
            shape = f" {self.shape}" if self.shape else ""
            raise self.error(f"{source}: must be a YAML mapping{shape}, not {type(data).__name__}")
        return dict(data), source

    def _not_found(self, value: str) -> str:
        hint = self.hint.replace("{name}", Path(value).name)
        presets = ", ".join(self.names()) or "none"
        return (
            f"{self.kind} {value!r} not found: not a file and not a preset "
            f"(presets: {presets}); {hint}"
        )
