"""The one-line promise holds whatever a file's name or header holds: control characters (line
breaks, NUL, ANSI escape sequences) are written as Python escapes, never passed to the terminal."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hypnic.cli import main
from hypnic.recordings.errors import InputError, printable

HOSTILE = ("two\nlines", "red\x1b[31mtext", "clear\x1b[2J", "bell\x07", "del\x7f", "c1\x9b31m")
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def one_clean_line(err: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert not RAW_CONTROL.search(err), repr(err)


@pytest.mark.parametrize("name", HOSTILE)
def test_printable_escapes_every_control_character(name):
    out = printable(name)
    assert not RAW_CONTROL.search(out) and "\n" not in out
    assert out.replace("\\n", "").replace("\\x", "") != ""  # the visible part stays


def test_an_error_naming_a_hostile_file_and_quoting_hostile_text_is_one_line():
    e = InputError("a\nb\x1b[31m.csv", "header field 'x\x1b[2Jy' is not a number\n(line 2)")
    assert e.one_line() == "a\\nb\\x1b[31m.csv: header field 'x\\x1b[2Jy' is not a number (line 2)"


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize(
    "argv",
    [
        ["detect", "{f}", "--out", "OUT"],  # no such file
        ["detect", "{f}.csv", "--out", "OUT"],  # a bad CSV
        ["replay", "{f}", "--out", "OUT"],
        ["export", "{f}", "--edf", "x.edf"],
        ["report", "{f}"],
        ["repair", "{f}"],
    ],
)
def test_every_command_names_a_hostile_file_on_one_line(name, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{name}.csv").write_text(f"t,x,y,z\n0,1,2\n{name}\n")
    assert main([a.format(f=name) for a in argv]) == 2
    one_clean_line(capsys.readouterr().err)


def test_a_csv_header_with_an_escape_sequence_is_quoted_escaped(tmp_path, capsys):
    path = tmp_path / "night.csv"
    path.write_text("t,x,y,\x1b[2Jz\n" + "\n".join(f"{i / 25},0,0,1" for i in range(100)) + "\n")
    assert main(["detect", str(path), "--out", str(tmp_path / "out")]) == 2
    one_clean_line(capsys.readouterr().err)


def test_an_edf_dimension_with_an_escape_sequence_is_quoted_escaped(tmp_path, capsys):
    from edfio import Edf, EdfSignal

    # edfio refuses to write such a header: write a good one and put the escape into the bytes.
    sig = [EdfSignal(np.zeros(250), sampling_frequency=25, label=f"Accel {a}", physical_dimension="m")
           for a in "XYZ"]
    path = tmp_path / "night.edf"
    Edf(sig).write(path)
    raw = bytearray(path.read_bytes())
    ns = int(raw[252:256])
    for i in range(3):
        at = 256 + ns * (16 + 80) + i * 8
        raw[at : at + 8] = b"\x1b[31mm  "
    path.write_bytes(bytes(raw))
    code = main(["detect", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2  # acceleration in an unknown unit
    one_clean_line(err)
    assert "\\x1b[31m" in err
