"""EDF, EDF+ (C and D) and BDF input, damaged: samples and gaps, or one InputError line.

tests/test_devices_edf.py changes one byte and cuts the file; here hypothesis makes several
edits at once, rewrites whole header fields (record counts, durations, signal counts, ranges,
samples per record, dates) with edge values and junk, and rewrites the time-keeping
annotations (TALs) that give EDF+D records their onsets: huge, negative, malformed. The
reader (:func:`recordings.devices.edf_input.open_edf`) is called as ``open_input`` calls it.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import edfio
import numpy as np
from hypothesis import strategies as st

from hypnic.recordings.devices.edf_input import open_edf
from hypnic.recordings.edf_writer import EdfAppendWriter, record_layout, to_digital
from tests.test_fuzz_mutations import (
    ascii_fields,
    fuzz_pair,
    mutated,
    read_or_refuse,
)

START = dt.datetime(2024, 3, 1, 22, 30, 1, 250000)


def _edfio_file(bdf: bool, discontinuous: bool) -> bytes:
    """An EDF+ (or BDF+) file: three accelerometer axes in mg, an EEG channel, annotations."""
    rng = np.random.default_rng(7)
    n, fs = 400, 50.0
    signal_class, file_class = (edfio.BdfSignal, edfio.Bdf) if bdf else (edfio.EdfSignal, edfio.Edf)
    signals = [
        signal_class(
            np.sin(np.arange(n) / 5), sampling_frequency=fs, label="EEG Fz", physical_dimension="uV"
        )
    ]
    signals += [
        signal_class(rng.uniform(-2000, 2000, n), sampling_frequency=fs, label=f"Acc {axis}",
                     physical_dimension="mg", physical_range=(-8000, 8000))
        for axis in "XYZ"
    ]  # fmt: skip
    edf = file_class(
        signals,
        starttime=START.time(),
        recording=edfio.Recording(startdate=START.date()),
        annotations=[edfio.EdfAnnotation(1.0, 0.5, "jerk"), edfio.EdfAnnotation(3.0, None, "x")],
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("f.bdf" if bdf else "f.edf")
        edf.write(path)
        data = bytearray(path.read_bytes())
    if discontinuous:  # EDF+D: the same records, the reserved field says they may be apart
        data[192:197] = b"BDF+D" if bdf else b"EDF+D"
    return bytes(data)


def _hypnic_signal_file() -> bytes:
    """hypnic's own signal.edf (EDF+C with padding), as another program would hand it in."""
    fs = 25.0
    layout = record_layout(fs)
    xyz = np.random.default_rng(3).uniform(-1, 1, size=(300, 3))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "signal.edf"
        writer = EdfAppendWriter(path, layout, 8.0, START.replace(tzinfo=dt.timezone.utc))
        digital, _ = to_digital(xyz, writer.physical_min, writer.physical_max)
        digital[100:140] = -32768
        writer.write(digital)
        writer.close()
        return path.read_bytes()


SEEDS = {
    "edf_plus_c": _edfio_file(bdf=False, discontinuous=False),
    "edf_plus_d": _edfio_file(bdf=False, discontinuous=True),
    "bdf_plus": _edfio_file(bdf=True, discontinuous=False),
    "hypnic": _hypnic_signal_file(),
}
HEADER_FIELDS = (  # (offset, width) of the main header's fields
    (0, 8), (8, 80), (88, 80), (168, 8), (176, 8), (184, 8), (192, 44), (236, 8), (244, 8), (252, 4),
)  # fmt: skip
SIGNAL_WIDTHS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
_TAL_ONSET = re.compile(rb"[+-]\d+(?:\.\d*)?(?=[\x14\x15])")


def _fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of every header field, the signal headers' included."""
    try:
        ns = int(data[252:256])
    except ValueError:
        ns = 0
    out = list(HEADER_FIELDS)
    offset = 256
    for width in SIGNAL_WIDTHS:
        out.extend((offset + i * width, width) for i in range(ns))
        offset += width * ns
    return out


def check_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.edf"
        path.write_bytes(data)
        read_or_refuse(lambda: open_edf(path, chunk_samples=64), path)


# --- several byte edits --------------------------------------------------------------------


@st.composite
def edited_bytes(draw: st.DrawFn) -> bytes:
    return draw(mutated(SEEDS[draw(st.sampled_from(sorted(SEEDS)))]))


def check_byte_edits(data: bytes) -> None:
    """One to three byte edits anywhere (flips, cuts, inserts, zero runs, overwrites)."""
    check_file(data)


test_byte_edits, test_byte_edits_long = fuzz_pair({"data": edited_bytes()}, check_byte_edits)


# --- whole header fields ----------------------------------------------------------------------


@st.composite
def edited_fields(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    fields = _fields(bytes(data))
    for _ in range(draw(st.integers(1, 3))):
        offset, width = draw(st.sampled_from(fields))
        data[offset : offset + width] = draw(ascii_fields(width))
    return bytes(data)


def check_header_fields(data: bytes) -> None:
    """Header fields (counts, duration, ranges, samples per record, dates) set to edge values."""
    check_file(data)


test_header_fields, test_header_fields_long = fuzz_pair(
    {"data": edited_fields()}, check_header_fields
)


# --- time-keeping annotations ---------------------------------------------------------------

onsets = st.one_of(
    st.from_regex(rb"\A[+-][0-9]{1,400}(\.[0-9]{0,30})?\Z"),
    st.sampled_from([b"+0", b"-0", b"+1e9", b"+", b"+.", b"+99999999999999999999", b"-86400"]),
    st.binary(min_size=1, max_size=12),
)


@st.composite
def edited_onsets(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(["edf_plus_c", "edf_plus_d", "bdf_plus", "hypnic"]))
    data = SEEDS[name]
    header_bytes = int(data[184:192])
    body = bytearray(data[header_bytes:])
    spots = [m.span() for m in _TAL_ONSET.finditer(bytes(body))]
    for a, b in sorted(draw(st.lists(st.sampled_from(spots), min_size=1, max_size=4, unique=True)),
                       reverse=True):  # fmt: skip
        new = draw(onsets)
        end = body.index(b"\x14\x00", b) + 2  # the end of this TAL
        # Same length: the new onset shifts the TAL's rest into (or out of) the zero padding
        # after it; an onset longer than the padding runs on into the next samples.
        body[a:end] = new + body[b:end]
        grow, end = len(new) - (b - a), end + len(new) - (b - a)
        if grow > 0:
            del body[end : end + grow]
        else:
            body[end:end] = bytes(-grow)
    return data[:header_bytes] + bytes(body[: len(data) - header_bytes])


def check_onsets(data: bytes) -> None:
    """Record onsets (EDF+ time-keeping TALs) huge, negative, out of order or malformed."""
    check_file(data)


test_onsets, test_onsets_long = fuzz_pair({"data": edited_onsets()}, check_onsets)


def test_the_seeds_read_whole() -> None:
    for name, data in SEEDS.items():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "f.edf"
            path.write_bytes(data)
            got = read_or_refuse(lambda p=path: open_edf(p), path)
            assert not isinstance(got, Exception), (name, got)
            assert got[0].size in (400, 300 - 40), name
