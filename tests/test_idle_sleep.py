"""ActiGraph idle sleep mode: seconds the device did not sample because it lay still.

The real file (shared/data/devices/actigraph_link_idlesleep.gt3x, an ActiGraph Link with idle
sleep mode on) has about 6 of its 13.6 h without ACTIVITY records, each pause bracketed by the
device's own EVENT records (0x08 "enter idle sleep", 0x09 "leave"). Read as gaps, they cut the
night into 492 pieces. Here they must be filled with the last sample before the pause, listed
in ``stream.idle`` and leave (almost) no gaps; the samples the device did record stay exactly
as a slow, record-by-record decoder reads them. Synthetic files built from the wristpy file
check the edges: a partial second before "enter", a long silence before it (real loss), a
missing "leave", a pause still open at the end of the file, and "leave" without "enter".
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hypnic.recordings.devices.actigraph import open_gt3x
from hypnic.recordings.feed import frames
from tests.shared import DEVICES

IDLE_FILE = DEVICES / "actigraph_link_idlesleep.gt3x"
WRISTPY = DEVICES / "actigraph_wristpy.gt3x"


def read(stream) -> tuple[np.ndarray, np.ndarray]:
    chunks = list(stream)
    return np.concatenate([c.t for c in chunks]), np.concatenate([c.xyz for c in chunks])


def records(log: bytes) -> list[tuple[int, int, int, bytes]]:
    """``(offset, type, second, payload)`` of every record, walked as the format documents."""
    out, at = [], 0
    while at + 8 <= len(log):
        if log[at] != 0x1E:
            at += 1
            continue
        _, kind, second, size = struct.unpack_from("<BBIH", log, at)
        out.append((at, kind, second, log[at + 8 : at + 8 + size]))
        at += 9 + size
    return out


def record(kind: int, second: int, payload: bytes) -> bytes:
    head = struct.pack("<BBIH", 0x1E, kind, second, len(payload))
    checksum = 0
    for byte in head + payload:
        checksum ^= byte
    return head + payload + bytes([~checksum & 0xFF])


# --- the real file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idle_file():
    stream = open_gt3x(IDLE_FILE)
    t, xyz = read(stream)
    return stream, t, xyz


def test_idle_seconds_are_not_gaps(idle_file) -> None:
    stream, t, _ = idle_file
    fs = stream.info.fs
    jumps = np.diff(t)
    # A gap is a hole of more than 1.5 sample periods, or one the reader lists.
    holes = jumps[jumps > 1.5 / fs].sum() + sum(b - a for a, b in stream.gaps)
    assert holes < 600.0
    assert t[-1] / 3600 == pytest.approx(13.59, abs=0.01)  # the whole night, start to end
    idle_s = sum(b - a for a, b in stream.idle)
    assert 5.5 * 3600 < idle_s < 6.5 * 3600
    assert stream.info.meta["idle_seconds"] == pytest.approx(idle_s, abs=1)
    assert stream.info.meta["idle_sleep_mode"] == "on"


def test_idle_spans_are_merged_sorted_and_match_the_events(idle_file) -> None:
    stream, t, _ = idle_file
    spans = np.asarray(stream.idle)
    assert len(spans) > 400
    assert (spans[:, 1] > spans[:, 0]).all() and (spans[1:, 0] > spans[:-1, 1]).all()
    with zipfile.ZipFile(IDLE_FILE) as zf:
        log = zf.read("log.bin")
    origin = next(s for _, k, s, p in records(log) if k == 0x1A and len(p) > 1)
    leave = sorted(s - origin for _, k, s, p in records(log) if k == 0x03 and p == b"\x09")
    # Every span ends where the device said it woke up.
    assert set(spans[:, 1].round(6).tolist()) <= set(float(s) for s in leave)
    # ... and starts where the last sample before the pause ended (whole seconds here).
    assert np.allclose(spans[:, 0], np.round(spans[:, 0]))
    assert np.isin(np.round(spans[:, 0] * stream.info.fs), np.round(t * stream.info.fs)).all()


def test_idle_is_filled_with_the_last_sample_before_the_pause(idle_file) -> None:
    stream, t, xyz = idle_file
    fs = stream.info.fs
    assert np.allclose(np.diff(t), 1 / fs, atol=1e-6)  # one grid, no holes at all in this file
    for start, end in stream.idle:
        i, j = np.searchsorted(t, [start - 1e-9, end - 1e-9])
        assert j - i == round((end - start) * fs)
        assert (xyz[i:j] == xyz[i - 1]).all()


def test_recorded_samples_are_unchanged(idle_file) -> None:
    """Outside the idle spans: exactly the ACTIVITY2 records, read one by one."""
    stream, t, xyz = idle_file
    with zipfile.ZipFile(IDLE_FILE) as zf:
        log = zf.read("log.bin")
    ref_t, ref_xyz = [], []
    acts = [(s, p) for _, k, s, p in records(log) if k == 0x1A and len(p) > 1]
    origin = acts[0][0]
    for second, payload in acts:
        values = struct.unpack(f"<{len(payload) // 2}h", payload[: len(payload) // 6 * 6])
        for i in range(len(values) // 3):
            ref_t.append(second - origin + i / 30)
            ref_xyz.append([v / 256 for v in values[3 * i : 3 * i + 3]])
    idle = np.zeros(len(t), dtype=bool)
    for start, end in stream.idle:
        idle[np.searchsorted(t, start - 1e-9) : np.searchsorted(t, end - 1e-9)] = True
    assert np.allclose(t[~idle], ref_t, rtol=0, atol=1e-9)
    assert np.array_equal(xyz[~idle], np.asarray(ref_xyz, dtype=np.float32))


def test_chunking_and_frames_keep_the_same_idle_and_samples(idle_file) -> None:
    stream, t, xyz = idle_file
    small = open_gt3x(IDLE_FILE, chunk_samples=3000)
    t2, xyz2 = read(small)
    assert np.array_equal(t, t2) and np.array_equal(xyz, xyz2) and small.idle == stream.idle
    framed = frames(open_gt3x(IDLE_FILE), 30)
    t3, _ = read(framed)
    assert np.array_equal(t, t3) and framed.idle == stream.idle and framed.aux_channels == ()


# --- synthetic edges --------------------------------------------------------------------------


def wristpy_with(edit) -> bytes:
    """The wristpy file with its log.bin changed by ``edit(log, activity records)``."""
    with zipfile.ZipFile(WRISTPY) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    log = members["log.bin"]
    acts = [(at, s) for at, k, s, p in records(log) if k == 0 and len(p) > 1]
    members["log.bin"] = edit(log, acts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def pause(log: bytes, acts, first: int, last: int, on: int | None, off: int | None) -> bytes:
    """Remove the records of seconds ``first`` to ``last - 1`` and put the enter/leave events
    at seconds ``on`` and ``off`` (counted from the first record; None: no such event)."""
    origin = acts[0][1]
    events = b""
    if on is not None:
        events += record(0x03, origin + on, b"\x08")
    if off is not None:
        events += record(0x03, origin + off, b"\x09")
    cut_from, cut_to = acts[first][0], acts[last][0] if last < len(acts) else len(log)
    return log[:cut_from] + events + log[cut_to:]


def open_bytes(tmp_path: Path, data: bytes):
    path = tmp_path / "edge.gt3x"
    path.write_bytes(data)
    stream = open_gt3x(path)
    return stream, *read(stream)


FULL_T, FULL_XYZ = read(open_gt3x(WRISTPY))


@pytest.mark.parametrize(
    ("on", "idle", "jump"),
    [
        (20, [[20.0, 30.0]], None),  # "enter" at the next whole second, as the Link writes it
        (21, [[20.0, 30.0]], None),  # one partial second without a record: part of the pause
        (25, [[25.0, 30.0]], [20.0, 25.0]),  # five seconds lost before the pause: not idle
    ],
)
def test_a_pause_between_enter_and_leave(tmp_path: Path, on, idle, jump) -> None:
    data = wristpy_with(lambda log, acts: pause(log, acts, 20, 30, on, 30))
    stream, t, xyz = open_bytes(tmp_path, data)
    assert stream.idle == idle and stream.gaps == []
    holes = [[float(t[i]) + 1 / 60, float(t[i + 1])] for i in np.flatnonzero(np.diff(t) > 0.02)]
    assert holes == ([] if jump is None else [pytest.approx(jump)])
    before = np.flatnonzero(FULL_T < 20)[-1]
    filled = (t >= idle[0][0] - 1e-9) & (t < 30 - 1e-9)
    assert filled.sum() == round((30 - idle[0][0]) * 60)
    assert (xyz[filled] == FULL_XYZ[before]).all()
    # everything the device recorded is there, unchanged
    kept = (FULL_T < 20) | (FULL_T >= 30)
    assert np.array_equal(xyz[~filled], FULL_XYZ[kept])
    assert np.allclose(t[~filled], FULL_T[kept], atol=1e-9)


def test_a_missing_leave_event_ends_the_pause_when_samples_resume(tmp_path: Path) -> None:
    stream, t, _ = open_bytes(tmp_path, wristpy_with(lambda log, a: pause(log, a, 20, 30, 20, None)))
    assert stream.idle == [[20.0, 30.0]] and stream.gaps == []
    assert np.allclose(np.diff(t), 1 / 60)
    assert stream.info.meta["idle_without_end_event"] == 1


def test_a_pause_open_at_the_end_lasts_until_the_last_record(tmp_path: Path) -> None:
    def edit(log: bytes, acts) -> bytes:
        origin = acts[0][1]
        return (
            log[: acts[70][0]]
            + record(0x03, origin + 70, b"\x08")
            + record(0x02, origin + 80, b"\x10\x10")  # a battery record: the device was alive
        )

    stream, t, xyz = open_bytes(tmp_path, wristpy_with(edit))
    assert stream.idle == [[70.0, 80.0]]
    assert t[-1] == pytest.approx(80 - 1 / 60) and (xyz[t >= 70] == FULL_XYZ[4199]).all()


def test_leave_without_enter_and_silence_without_events_are_not_idle(tmp_path: Path) -> None:
    stream, t, _ = open_bytes(tmp_path, wristpy_with(lambda log, a: pause(log, a, 20, 30, None, 30)))
    assert stream.idle == [] and stream.info.meta["idle_end_events_without_start"] == 1
    assert stream.info.meta["seconds_without_records"] == 10
    assert np.diff(t).max() == pytest.approx(10 + 1 / 60)
