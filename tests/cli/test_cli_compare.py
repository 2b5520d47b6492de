"""``cropmap compare``: two runs' results.csv paired by seed; bad inputs are one line."""

from __future__ import annotations

from typer.testing import CliRunner

from cropmap.cli.main import app
from cropmap.evaluate.tables import rows_to_csv

runner = CliRunner()
COLUMNS = ("strategy", "finetune", "test", "features", "seed", "patches", "iou")


def _run(tmp_path, name, ious):
    folder = tmp_path / name
    folder.mkdir()
    rows = [
        dict(
            strategy="FT",
            finetune="spain",
            test="spain",
            features="VH",
            seed=s,
            patches="all",
            iou=v,
        )
        for s, v in enumerate(ious)
    ]
    (folder / "results.csv").write_text(rows_to_csv(rows, COLUMNS))
    return folder


def test_compare_two_run_folders(tmp_path):
    new, old = _run(tmp_path, "new", [0.7, 0.6]), _run(tmp_path, "old", [0.6, 0.65])
    r = runner.invoke(app, ["compare", str(new), str(old / "results.csv")])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == "| FT | +0.02 ± 0.11 (1/2) |"


def _main(monkeypatch, capsys, *args):
    """``cropmap ARGS`` through the real entry point (its error handling): (code, stderr)."""
    import sys

    from cropmap.cli.main import main

    monkeypatch.setattr(sys, "argv", ["cropmap", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def test_compare_bad_inputs_are_one_line(tmp_path, monkeypatch, capsys):
    new = _run(tmp_path, "new", [0.7])
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    cases = [
        ([str(tmp_path / "missing"), str(new)], "not found: give a results.csv"),
        ([str(new), str(tmp_path / "other.csv")], "is not a cropmap results.csv"),
        ([str(new), str(new), "--strategies", "RF"], "share no cell of strategies ['RF']"),
    ]
    for args, message in cases:
        code, err = _main(monkeypatch, capsys, "compare", *args)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1, (args, err)
        assert lines[0].startswith("error: ") and message in lines[0]
