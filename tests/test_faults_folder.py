"""Recording and output folders that become read-only or vanish while hypnic works on them.

Each case ends in one line naming the folder, never a traceback; what was written before
stays readable; nothing is left under ``--out``. Read-only is a read-only bind mount as root
(root ignores permission bits) and ``chmod a-w`` otherwise.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import hypnic.cli
from hypnic.recordings.errors import InputError
from hypnic.recordings.recording import RecordingWriter, open_recording
from tests.test_fuzz_mutations import one_line_naming

FS = 12.5


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """Make ``folder`` read-only for new opens (files already open stay writable)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(stat.S_IMODE(mode))
        return
    for argv in (["mount", "--bind", folder, folder], ["mount", "-o", "remount,ro,bind", folder]):
        done = subprocess.run([str(a) for a in argv], capture_output=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(folder)], capture_output=True)
            pytest.skip(f"cannot make a read-only bind mount: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def cli(*argv: object) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = hypnic.cli.main([str(a) for a in argv])
    return rc, err.getvalue()


def a_recording(folder: Path, seconds: float = 600.0) -> Path:
    t = np.arange(0, seconds, 1 / FS)
    xyz = np.tile([0.0, 0.0, 1.0], (t.size, 1)) + 0.01 * np.sin(t)[:, None]
    with RecordingWriter(folder, fs=FS, range_g=8, start_utc="2025-11-25T23:00:00Z") as w:
        w.append(t, xyz)
    return folder


# --- while recording ------------------------------------------------------------------------


def test_a_recording_folder_deleted_while_recording_stops_with_one_line(tmp_path):
    rec = tmp_path / "rec"
    writer = RecordingWriter(rec, fs=FS, range_g=8)
    writer.append(np.arange(50) / FS, np.zeros((50, 3)))
    shutil.rmtree(rec)
    with pytest.raises(InputError) as err:
        writer.append(np.arange(50, 100) / FS, np.zeros((50, 3)))
    one_line_naming(err.value, rec)
    assert "deleted" in str(err.value)
    writer.close()  # quietly: the failure was reported once


def test_a_recording_folder_made_read_only_while_recording(tmp_path):
    rec = tmp_path / "rec"
    writer = RecordingWriter(rec, fs=FS, range_g=8)
    writer.append(np.arange(100) / FS, np.zeros((100, 3)))
    with read_only(rec):
        with pytest.raises(InputError) as err:
            # A gap rewrites meta.json (a new file in the folder): refused by the file system.
            for k in range(1, 20):
                writer.append((np.arange(100) + 200 * k) / FS, np.zeros((100, 3)))
        one_line_naming(err.value, rec)
        writer.close()
        n = sum(len(c) for c in open_recording(rec))  # the folder reads as it was left
    assert n >= 100


# --- reading a recording --------------------------------------------------------------------


def test_a_recording_deleted_after_it_was_opened(tmp_path):
    rec = a_recording(tmp_path / "rec")
    stream = open_recording(rec)
    shutil.rmtree(rec)
    with pytest.raises(InputError) as err:
        list(stream)
    one_line_naming(err.value, rec)


def test_replay_of_a_recording_deleted_mid_run(tmp_path, monkeypatch):
    import hypnic.replay

    rec = a_recording(tmp_path / "rec")
    real = hypnic.replay.open_input

    def open_then_delete(path, **kwargs):
        stream = real(path, **kwargs)
        shutil.rmtree(rec)  # between the header and the samples
        return stream

    monkeypatch.setattr(hypnic.replay, "open_input", open_then_delete)
    out = tmp_path / "out"
    rc, err = cli("replay", rec, "--out", out)
    assert rc == 2 and err.count("\n") == 1 and err.startswith(f"hypnic: error: {rec}"), err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []


def test_a_read_only_recording_replays_but_does_not_repair(tmp_path):
    rec = a_recording(tmp_path / "rec")
    (rec / "events.jsonl").write_bytes(b'{"label": "x"}\n{"lab')  # a torn line to repair
    out = tmp_path / "out"
    with read_only(rec):
        rc, err = cli("replay", rec, "--out", out, "--no-report")
        assert rc == 0, err
        rc, err = cli("repair", rec)
        assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert (
            err.startswith(f"hypnic: error: {rec}")
            and "Read-only file system" in err
            or ("permission denied" in err.lower())
        ), err
    assert (out / "summary.json").is_file()


# --- output folders -------------------------------------------------------------------------


def test_out_in_a_read_only_folder_is_one_line(tmp_path):
    rec = a_recording(tmp_path / "rec")
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    with read_only(shelf):
        rc, err = cli("detect", rec, "--out", shelf / "out", "--no-report")
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith(f"hypnic: error: {shelf / 'out'}: cannot ")
    assert list(shelf.iterdir()) == []


def test_out_whose_folder_is_deleted_during_the_analysis(tmp_path, monkeypatch):
    import hypnic.detect

    rec = a_recording(tmp_path / "rec")
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    real = hypnic.detect.analyze_stream

    def analyse_then_delete(*args, **kwargs):
        result = real(*args, **kwargs)
        shelf.rmdir()
        (tmp_path / "shelf").write_text("a file where the folder was")
        return result

    monkeypatch.setattr(hypnic.detect, "analyze_stream", analyse_then_delete)
    rc, err = cli("detect", rec, "--out", shelf / "out", "--no-report")
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"hypnic: error: {shelf / 'out'}: cannot create the output folder")
