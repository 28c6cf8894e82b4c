"""Our own recording folder, damaged every way: samples and gaps, or one InputError line.

A small recording (12.5 and 25 Hz, a gap, events, closed or killed mid-write) is written by
:class:`recordings.recording.RecordingWriter`; hypothesis then changes one or more of its files
(byte edits, header fields of ``signal.edf`` replaced by edge values, random JSON in
``meta.json``, torn or junk lines in ``events.jsonl`` and ``gaps.jsonl``, files missing) and
reads it back with :func:`~recordings.recording.open_recording`,
:func:`~recordings.recording.read_events` and :func:`~recordings.recording.repair`.

Besides "samples or one line", two properties hold on any damage: ``repair`` never loses or
changes a sample a reader got before it (it may recover more, such as records a damaged header
count hid), and a second ``repair`` finds nothing to fix. test_recording.py and
test_recording_kill.py cover the damage a real crash makes; this file covers damage no crash
makes (bit rot, hand edits, other programs).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from hypnic.recordings.edf_writer import _HEADER_FIELDS, _SIGNAL_FIELDS
from hypnic.recordings.errors import InputError
from hypnic.recordings.recording import (
    EVENTS_FILE,
    GAPS_FILE,
    META_FILE,
    SIGNAL_FILE,
    RecordingWriter,
    open_recording,
    read_events,
    repair,
)
from tests.test_fuzz_mutations import (
    ascii_fields,
    fuzz_pair,
    json_values,
    mutated,
    one_line_naming,
    read_or_refuse,
)

FILES = (SIGNAL_FILE, META_FILE, EVENTS_FILE, GAPS_FILE)


def _recording(fs: float, seconds: float, close: bool) -> dict[str, bytes]:
    """The files of a small recording with one gap and a few events."""
    rng = np.random.default_rng(int(fs))
    n = int(seconds * fs)
    idx = np.r_[np.arange(n // 2), np.arange(n // 2 + int(2 * fs), n + int(2 * fs))]
    xyz = rng.uniform(-1.5, 1.5, size=(idx.size, 3))
    with tempfile.TemporaryDirectory() as folder:
        rec = Path(folder) / "rec"
        writer = RecordingWriter(
            rec, fs=fs, range_g=8, start_utc="2025-11-25T22:10:03.25Z", sensor="sim",
            placement="ankle",
        )  # fmt: skip
        for a in range(0, idx.size, 17):
            writer.append(idx[a : a + 17] / fs, xyz[a : a + 17])
            if a % 85 == 0:
                writer.add_event({"onset_s": a / fs, "duration_s": 0.5, "label": "burst"})
        if close:
            writer.close()
        else:
            writer._edf.abort()  # as if killed: record count -1, last partial record lost
        return {name: (rec / name).read_bytes() for name in FILES}


SEEDS = {
    "closed_25hz": _recording(25.0, 12.0, close=True),
    "killed_12hz": _recording(12.5, 9.0, close=False),
}


def _header_offsets(n_signals: int = 4) -> list[tuple[str, int, int]]:
    """(name, offset, width) of every field of an EDF header with ``n_signals`` signals."""
    out, offset = [], 0
    for name, width in _HEADER_FIELDS:
        out.append((name, offset, width))
        offset += width
    for name, width in _SIGNAL_FIELDS:
        for i in range(n_signals):
            out.append((f"{name}[{i}]", offset, width))
            offset += width
    return out


FIELDS = _header_offsets()


def check_folder(files: dict[str, bytes | None]) -> None:
    """Samples or one line, for reading, events and repair; repair keeps the samples."""
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "rec"
        rec.mkdir()
        for name, data in files.items():
            if data is not None:
                (rec / name).write_bytes(data)
        before = read_or_refuse(lambda: open_recording(rec, chunk_samples=40), rec)
        try:
            events = read_events(rec)
            assert all(isinstance(e, dict) for e in events)
        except InputError as err:
            one_line_naming(err, rec)
        try:
            first = repair(rec)
        except InputError as err:
            one_line_naming(err, rec)
            return
        assert "\n" not in first.summary()
        after = read_or_refuse(lambda: open_recording(rec, chunk_samples=40), rec)
        if not isinstance(before, InputError):
            assert not isinstance(after, InputError), "repair made a readable folder unreadable"
            kept(before, after)
        assert repair(rec).fixes == [], "a second repair found more to fix"


def kept(before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray]) -> None:
    """Every sample read before is read after, unchanged (repair may recover more: records a
    damaged header count hid)."""
    where = np.searchsorted(after[0], before[0])
    assert np.all(where < after[0].size), "repair lost samples"
    assert np.array_equal(after[0][where], before[0]), "repair lost or moved samples"
    assert np.array_equal(after[1][where], before[1]), "repair changed samples"


# --- byte edits in any one file, or in several ---------------------------------------------


@st.composite
def damaged_files(draw: st.DrawFn) -> dict[str, bytes | None]:
    files: dict[str, bytes | None] = dict(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for name in draw(st.lists(st.sampled_from(FILES), min_size=1, max_size=3, unique=True)):
        if draw(st.integers(0, 9)) == 0:
            files[name] = None  # missing
        else:
            files[name] = draw(mutated(files[name] or b""))
    return files


def check_damaged_files(files: dict[str, bytes | None]) -> None:
    """Byte edits in one to three files of the folder."""
    check_folder(files)


test_damaged_files, test_damaged_files_long = fuzz_pair(
    {"files": damaged_files()}, check_damaged_files
)


# --- the EDF header, field by field -------------------------------------------------------


@st.composite
def header_edits(draw: st.DrawFn) -> dict[str, bytes | None]:
    files: dict[str, bytes | None] = dict(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    signal = bytearray(files[SIGNAL_FILE] or b"")
    for _ in range(draw(st.integers(1, 3))):
        _, offset, width = draw(st.sampled_from(FIELDS))
        signal[offset : offset + width] = draw(ascii_fields(width))
    files[SIGNAL_FILE] = bytes(signal)
    return files


def check_header_fields(files: dict[str, bytes | None]) -> None:
    """signal.edf with header fields replaced by edge values, words and junk."""
    check_folder(files)


test_header_fields, test_header_fields_long = fuzz_pair(
    {"files": header_edits()}, check_header_fields
)


# --- meta.json with random JSON where its values were ----------------------------------------


@st.composite
def meta_edits(draw: st.DrawFn) -> dict[str, bytes | None]:
    files: dict[str, bytes | None] = dict(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    meta = json.loads(files[META_FILE] or b"{}")
    if draw(st.integers(0, 5)) == 0:
        meta = draw(json_values)
    else:
        for key in draw(st.lists(st.sampled_from(sorted(meta)), min_size=1, max_size=4)):
            if draw(st.booleans()):
                meta[key] = draw(json_values)
            else:
                meta.pop(key, None)
    files[META_FILE] = json.dumps(meta).encode()  # NaN and Infinity included, as Python writes them
    return files


def check_meta_values(files: dict[str, bytes | None]) -> None:
    """meta.json with values replaced by random JSON (NaN, huge integers, lists, objects)."""
    check_folder(files)


test_meta_values, test_meta_values_long = fuzz_pair({"files": meta_edits()}, check_meta_values)


# --- JSON-lines logs with foreign lines ------------------------------------------------------


@st.composite
def log_edits(draw: st.DrawFn) -> dict[str, bytes | None]:
    files: dict[str, bytes | None] = dict(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for name in draw(st.lists(st.sampled_from([EVENTS_FILE, GAPS_FILE]), min_size=1, unique=True)):
        lines = (files[name] or b"").splitlines(keepends=True)
        extra = draw(
            st.lists(
                st.one_of(
                    json_values.map(lambda v: json.dumps(v).encode() + b"\n"),
                    st.binary(max_size=40),
                    st.just(b"\n"),
                    st.just(b'{"onset_s": 1.0, "label": "tor'),  # torn
                ),
                min_size=1,
                max_size=4,
            )
        )
        at = draw(st.integers(0, len(lines)))
        files[name] = b"".join(lines[:at] + extra + lines[at:])
    return files


def check_log_lines(files: dict[str, bytes | None]) -> None:
    """events.jsonl and gaps.jsonl with random JSON, junk, blank and torn lines anywhere."""
    check_folder(files)


test_log_lines, test_log_lines_long = fuzz_pair({"files": log_edits()}, check_log_lines)


def test_the_seeds_read_back_whole() -> None:
    for files in SEEDS.values():
        check_folder(dict(files))
