"""A command that needs an optional dependency says which, in one line, with exit status 2."""

from __future__ import annotations

import importlib.util

import pytest

from hypnic.cli import main


@pytest.mark.parametrize(
    "argv, extra, module",
    [
        (["record", "--sensor", "sim", "--duration", "1", "--out", "REC"], "ble", "bleak"),
        (["scan"], "ble", "bleak"),
        (["batch", "a.csv", "--out", "OUT"], "cohort", "distributed"),
    ],
)
def test_a_missing_extra_is_named(argv, extra, module, monkeypatch, capsys, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"hypnic[{extra}]" in err and module in err and argv[0] in err
    assert not any(tmp_path.iterdir())  # nothing written


def test_the_core_commands_do_not_import_the_extras():
    import subprocess
    import sys

    code = (
        "import sys, hypnic.cli, hypnic.pipeline, hypnic.report;"
        "hypnic.cli.build_parser();"
        "print(sorted(m for m in ('bleak', 'distributed', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
