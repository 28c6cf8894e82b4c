"""A full disk while recording and while writing outputs: one line, and nothing lost.

Two ways to fill a disk. Everywhere: the recording writer's ``os`` is replaced by one whose
``write`` stops with ENOSPC after a byte budget (part of a write lands first, as on a real
disk), at every budget hypothesis picks. As root: a real tmpfs of a few kilobytes, for the
writer, for ``hypnic detect --out``, for ``hypnic repair`` and for ``hypnic record`` (skipped
where a tmpfs cannot be mounted).

What must hold: the error is one line naming the folder and saying how much is kept; every
sample that ``append`` had returned for, minus at most the samples waiting for their record
(less than one record), reads back unchanged; the folder holds only whole records and whole
lines (``repair`` has nothing to cut but the record count); outputs of an earlier run stay as
they were and no staging folder is left.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hypnic.cli
import hypnic.recordings.edf_writer
import hypnic.recordings.recording
from hypnic.recordings.errors import InputError
from hypnic.recordings.recording import RecordingWriter, open_recording, read_events, repair
from tests.test_fuzz_mutations import one_line_naming

FS = 25.0
STEP = 16 / 65535  # one digital step at ±8 g


class FullDisk:
    """Stands in for the ``os`` module: ``write`` fails with ENOSPC once ``budget`` bytes are used.

    The write that crosses the budget writes the bytes that still fit, then fails, as a real
    file system does when it runs out of blocks mid-write.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        data = memoryview(data)
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = os.write(fd, data[: self.budget])
        self.budget -= n
        return n


@contextlib.contextmanager
def disk_of(budget: int) -> Iterator[FullDisk]:
    disk = FullDisk(budget)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hypnic.recordings.edf_writer, "os", disk)
        mp.setattr(hypnic.recordings.recording, "os", disk)
        yield disk


def signal_values(idx: np.ndarray) -> np.ndarray:
    return np.stack([np.sin(idx * 0.01), np.cos(idx * 0.02), (idx % 50) / 50.0], axis=1)


def record_until_full(
    rec: Path, sizes: list[int], every_event: int
) -> tuple[int, int, InputError | None]:
    """Append packets until the disk is full; (samples returned for, samples offered, error)."""
    writer = RecordingWriter(rec, fs=FS, range_g=8, start_utc="2025-11-25T23:00:00Z")
    done = offered = slot = 0
    error = None
    try:
        for k, n in enumerate(sizes):
            idx = np.arange(slot, slot + n)
            offered = done + n
            writer.append(idx / FS, signal_values(idx))
            done, slot = done + n, slot + n
            if k % every_event == 0:
                writer.add_event({"onset_s": slot / FS, "label": "tick", "done": done})
    except InputError as exc:
        error = exc
    try:
        writer.close()  # after a failure: closes what it can, raises nothing more
    except InputError as exc:  # the disk filled up with the last, padded record
        assert error is None, "close() repeated an error append had reported"
        error = exc
    return done, offered, error


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=st.one_of(st.integers(0, 3000), st.integers(3000, 12_000)),  # header ~1.3 kB
    sizes=st.lists(st.integers(1, 80), min_size=20, max_size=60),
    every_event=st.integers(1, 5),
)
def test_a_disk_that_fills_while_recording_keeps_what_was_written(budget, sizes, every_event):
    with tempfile.TemporaryDirectory() as folder:
        rec = Path(folder) / "rec"
        with disk_of(budget):
            try:
                done, offered, error = record_until_full(rec, sizes, every_event)
            except InputError as exc:  # the disk was full before the folder could be made
                one_line_naming(exc, rec)
                assert not rec.exists()
                return
        if error is not None:
            one_line_naming(error, rec)
            assert "No space left on device" in str(error) and "kept" in str(error)
        stream = open_recording(rec, chunk_samples=64)
        t = np.concatenate([c.t for c in stream] or [np.zeros(0)])
        spr = stream.info.meta["samples_per_record"]
        assert t.size <= offered
        assert done - t.size < spr, f"lost {done - t.size} samples of what append had returned"
        assert np.array_equal(t, np.arange(t.size) / FS)
        xyz = np.concatenate([c.xyz for c in open_recording(rec)] or [np.zeros((0, 3))])
        assert np.abs(xyz - signal_values(np.arange(t.size))).max(initial=0) <= STEP / 2 + 1e-6
        events = read_events(rec)  # whole lines only: a torn one in the middle would raise
        assert all(e["done"] <= done for e in events)
        fixes = repair(rec).fixes
        assert not [f for f in fixes if "torn" in f], fixes  # nothing torn was left behind
        assert repair(rec).fixes == []


def test_after_a_full_disk_every_write_repeats_the_error_and_writes_nothing(tmp_path):
    rec = tmp_path / "rec"
    with disk_of(3000) as disk:
        writer = RecordingWriter(rec, fs=FS, range_g=8)
        with pytest.raises(InputError) as first:
            for k in range(100):
                writer.append(np.arange(k * 25, k * 25 + 25) / FS, np.zeros((25, 3)))
        disk.budget = 10**9  # space again: the writer stays stopped all the same
        size = (rec / "signal.edf").stat().st_size
        for call in (
            lambda: writer.append(np.array([1e3]), np.zeros((1, 3))),
            lambda: writer.add_event({"onset_s": 1.0, "label": "x"}),
        ):
            with pytest.raises(InputError) as again:
                call()
            assert str(again.value) == str(first.value)
        writer.close()
    assert (rec / "signal.edf").stat().st_size == size


def test_a_full_disk_while_writing_outputs_leaves_the_earlier_ones(tmp_path, monkeypatch):
    from hypnic.detector.results import NightSummary
    from hypnic.pipeline import Analysis, write_outputs

    out = tmp_path / "out"
    analysis = Analysis(events=[], summary=NightSummary(software="hypnic", n_samples=1))
    write_outputs(analysis, out, report=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def no_space(path, **arrays):
        Path(path).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("numpy.savez_compressed", no_space)
    analysis.summary.n_samples = 2
    analysis.traces = {"a": np.zeros(3)}
    with pytest.raises(InputError) as err:
        write_outputs(analysis, out, report=False)
    one_line_naming(err.value, out)
    assert "No space left on device" in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


# --- a real full disk (root: a tiny tmpfs) --------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``path``; skip the test where that is not possible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def cli(*argv: object, commands: tuple[str, ...] = ()) -> tuple[int, str]:
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        extra = tuple(c for c in commands if c not in hypnic.cli.COMMANDS)
        mp.setattr(hypnic.cli, "COMMANDS", hypnic.cli.COMMANDS + extra)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = hypnic.cli.main([str(a) for a in argv])
    return rc, err.getvalue()


def test_a_real_full_disk_while_recording_and_repairing(tmp_path):
    with tmpfs(tmp_path / "disk", "48k") as disk:
        rec = disk / "rec"
        done, _, error = record_until_full(rec, [25] * 400, 4)
        assert error is not None and "No space left on device" in str(error)
        n = sum(len(c) for c in open_recording(rec))
        assert 0 <= done - n < FS
        # Fill what the writer's clean-up freed, then repair: one line, nothing lost.
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as fh:
            while True:
                fh.write(bytes(4096))
                fh.flush()
        rc, err = cli("repair", rec)
        assert rc in (0, 2) and err.count("\n") <= 1 and "Traceback" not in err
        assert sum(len(c) for c in open_recording(rec)) == n


def test_a_real_full_disk_under_detect_out(tmp_path):
    t = np.arange(0, 1800, 1 / 12.5)
    csv = tmp_path / "night.csv"
    csv.write_text("t,x,y,z\n" + "".join(f"{v:.2f},0.01,0.02,1\n" for v in t))
    with tmpfs(tmp_path / "disk", "64k") as disk:
        out = disk / "out"
        rc, err = cli("detect", csv, "--out", out, "--no-report")
        assert rc == 0, err
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        filler = disk / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as fh:
            while True:
                fh.write(bytes(1024))
                fh.flush()
        rc, err = cli("detect", csv, "--out", out, "--rules", "aasm")
        assert rc == 2 and err.count("\n") == 1, err
        assert err.startswith(
            f"hypnic: error: {out}: cannot write the outputs (No space left on device)"
        )
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "out"]


def test_a_real_full_disk_while_hypnic_record_runs(tmp_path):
    if not Path(hypnic.cli.__file__).with_name("commands").joinpath("record.py").exists():
        pytest.skip("hypnic record is not there yet")
    with tmpfs(tmp_path / "disk", "96k") as disk:
        rec = disk / "rec"
        rc, err = cli("record", "--sensor", "sim:hours=2", "--out", rec, "--no-report",
                      commands=("record",))  # fmt: skip
        lines = [line for line in err.splitlines() if line.startswith("hypnic: error:")]
        assert rc == 2 and "Traceback" not in err, err[-2000:]
        assert len(lines) == 1 and "No space left on device" in lines[0], err[-2000:]
        n = sum(len(c) for c in open_recording(rec))
        assert n > 0
        meta = json.loads((rec / "meta.json").read_text())
        assert meta["fs"] > 0
