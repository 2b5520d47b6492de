"""The shared CLI edge: output convention, band lists, deprecated spellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from cropmap.cli.common import parse_bands, parse_list, pick_bands, resolve_out
from cropmap.errors import OptionError


def test_parse_bands_normalises_case_and_separators() -> None:
    assert parse_bands("vv|VH") == ["VV", "VH"]
    assert parse_bands(" VH ") == ["VH"]
    assert parse_bands(None) is None and parse_bands("  ") is None


@pytest.mark.parametrize(("text", "pattern"), [("VV,XX", "XX.*accepted: VV, VH"), ("VH,vh", "VH")])
def test_parse_bands_refuses_unknown_and_repeated_bands(text: str, pattern: str) -> None:
    with pytest.raises(OptionError, match=f"--bands: .*{pattern}"):
        parse_bands(text)


def test_parse_list_keeps_case() -> None:
    assert parse_list("rice, Barley", "--target") == ["rice", "Barley"]


def test_resolve_out_prefers_the_option_and_warns_on_the_positional(capsys) -> None:
    assert resolve_out(Path("a.tif"), None, "composite") == Path("a.tif")
    assert capsys.readouterr().err == ""
    assert resolve_out(None, Path("b.tif"), "composite") == Path("b.tif")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "deprecated" in err[0] and "--out b.tif" in err[0]


def test_resolve_out_refuses_missing_or_conflicting_outputs() -> None:
    with pytest.raises(OptionError, match="--out: missing"):
        resolve_out(None, None, "patches")
    with pytest.raises(OptionError, match="disagree"):
        resolve_out(Path("a"), Path("b"), "patches")


def test_features_alias_warns_and_must_agree_with_bands(capsys) -> None:
    assert pick_bands("VH", None) == "VH"
    assert pick_bands(None, "VV,VH") == "VV,VH"
    assert "--features is deprecated" in capsys.readouterr().err
    with pytest.raises(OptionError, match="disagree"):
        pick_bands("VH", "VV")
