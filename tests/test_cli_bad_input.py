"""Bad input through ``hypnic detect``: exit status 2, one line naming the file, no traceback,
and nothing (half-)written under ``--out`` (CONTRACT.md, outputs and exit status).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

import hypnic.cli
from hypnic.recordings.open_input import FORMATS, InputFormat

GOOD = "t,x,y,z\n" + "".join(f"{i / 100!r},0.01,-0.02,1\n" for i in range(300))

# name -> content; every one must be refused
BAD_INPUTS = {
    "empty.csv": b"",
    "header_only.csv": "t,x,y,z\n",
    "one_sample.csv": "t,x,y,z\n0,0,0,1\n",
    "missing_columns.csv": "time,x,y\n0,0,0\n",
    "semicolons.csv": "t;x;y;z\n0;0;0;1\n",
    "non_numeric.csv": GOOD + "3.00,zero,0,1\n",
    "nan.csv": GOOD + "3.00,0,NaN,1\n",
    "inf.csv": GOOD + "3.00,0,0,inf\n",
    "empty_value.csv": GOOD + "3.00,,0,1\n",
    "t_repeated.csv": GOOD + "2.99,0,0,1\n",
    "t_backwards.csv": GOOD + "1.5,0,0,1\n",
    "ragged.csv": GOOD + "3.00,0,1\n",
    "nul_bytes.csv": b"t,x,y,z\n0,0,0,1\n\x00\x00\x00\x00\n",
    "latin1.csv": "t,x,y,z,where\n0,0,0,1,Besançon\n".encode("latin-1"),
    "utf16.csv": GOOD.encode("utf-16"),
    "garbage.bin": bytes(range(256)) * 64,
    "garbage.csv": bytes(range(256)) * 64,
    "gzip_truncated.csv.gz": gzip.compress(GOOD.encode())[:200],
    "gzip_of_garbage.dat": gzip.compress(bytes(range(256)) * 64),
}


@pytest.fixture
def detect(monkeypatch, capsys):
    """Run ``hypnic detect`` through ``hypnic.cli.main``; return (status, stderr lines)."""
    # Only `detect` is registered: this file tests detect's error path, and must not fail
    # because another subcommand's module is missing or broken.
    monkeypatch.setattr(hypnic.cli, "COMMANDS", ("detect",))

    def run(*argv: str) -> tuple[int, list[str]]:
        capsys.readouterr()
        status = hypnic.cli.main(["detect", *argv])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return status, err.splitlines()

    return run


def assert_refused(status: int, lines: list[str], source: Path | str) -> None:
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"hypnic: error: {source}: ")


def no_staging_left(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".staging-" in p.name]


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_leaves_no_output(tmp_path, detect, name):
    content = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    out = tmp_path / "out"
    assert_refused(*detect(str(path), "--out", str(out)), path)
    assert not out.exists()
    assert no_staging_left(tmp_path)


@pytest.mark.parametrize("name", ["nan.csv", "garbage.bin", "header_only.csv"])
def test_bad_input_leaves_an_existing_out_unchanged(tmp_path, detect, name):
    content = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert_refused(*detect(str(path), "--out", str(out)), path)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine\n"
    assert no_staging_left(tmp_path)


def test_missing_file(tmp_path, detect):
    path = tmp_path / "nope.csv"
    status, lines = detect(str(path), "--out", str(tmp_path / "out"))
    assert_refused(status, lines, path)
    assert "no such file" in lines[0]
    assert not (tmp_path / "out").exists()


def test_folder_that_is_not_a_recording(tmp_path, detect):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"\xff\xd8\xff")
    status, lines = detect(str(folder), "--out", str(tmp_path / "out"))
    assert_refused(status, lines, folder)
    assert "not a recognised recording" in lines[0]
    assert not (tmp_path / "out").exists()


def test_unreadable_file(tmp_path, detect, monkeypatch):
    path = tmp_path / "locked.csv"
    path.write_text(GOOD)
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: make the open fail the way chmod 0 would
        real_open = open

        def guarded(file, *args, **kwargs):
            if Path(file) == path:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr("builtins.open", guarded)
    status, lines = detect(str(path), "--out", str(tmp_path / "out"))
    assert_refused(status, lines, path)
    assert "permission denied" in lines[0]
    assert not (tmp_path / "out").exists()


def test_bad_start_names_the_option(tmp_path, detect):
    path = tmp_path / "good.csv"
    path.write_text(GOOD)
    status, lines = detect(str(path), "--out", str(tmp_path / "out"), "--start", "last night")
    assert_refused(status, lines, "--start")
    assert not (tmp_path / "out").exists()


def test_error_found_while_streaming_leaves_no_output(tmp_path, detect, monkeypatch):
    # Small chunks, so the bad row is met after the pipeline has already worked on earlier ones.
    def small_chunks(path, *, start=None):
        from hypnic.recordings.csv_input import open_csv

        return open_csv(path, start=start, chunk_rows=2_000)

    csv_format = next(f for f in FORMATS if f.name == "csv")
    monkeypatch.setattr(
        "hypnic.recordings.open_input.FORMATS", [InputFormat("csv", csv_format.sniff, small_chunks)]
    )
    rows = "".join(f"{i / 100!r},0.01,-0.02,1\n" for i in range(30_000))
    path = tmp_path / "late.csv"
    path.write_text("t,x,y,z\n" + rows + "300.00,0,0,oops\n")
    out = tmp_path / "out"
    status, lines = detect(str(path), "--out", str(out), "--no-report")
    assert_refused(status, lines, path)
    assert "line 30002, column z" in lines[0]
    assert not out.exists()
    assert no_staging_left(tmp_path)
