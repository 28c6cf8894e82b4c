"""The append-only EDF+C writer, checked byte for byte against a slow reference written here
from the EDF/EDF+ specifications (Kemp & Olivan 2003), and read back by edfio as an independent
reader after a clean close and in the state a killed writer leaves."""

from __future__ import annotations

import math
import shutil
import struct
import warnings
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import edfio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.recordings.edf_reader import parse_tals, read_edf_header
from hypnic.recordings.edf_writer import (
    PAD_DIGITAL,
    EdfAppendWriter,
    OnsetFormatter,
    decimal_str,
    event_tal,
    record_layout,
    to_digital,
)

START = datetime(2025, 11, 25, 22, 10, 3, 250000, tzinfo=timezone.utc)


def read_edfio(path: Path) -> edfio.Edf:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # edfio warns about count -1 and fixes it from the size
        return edfio.read_edf(path, lazy_load_data=False)


# ------------------------------------------------------------------------- slow references


def ref_digital(x: float, pmin: float, pmax: float) -> int:
    """EDF's linear map, one sample at a time, with -32768 kept for padding."""
    d = round((x - pmin) * 65535 / (pmax - pmin) - 32768)
    return max(-32767, min(32767, d))


def ref_field(text: str, width: int) -> bytes:
    assert len(text) <= width
    return text.encode("ascii") + b" " * (width - len(text))


def ref_file(
    fs_text: str, spr: int, n_rec: int, pmin: str, pmax: str, rows: list[tuple[int, int, int]]
) -> bytes:
    """The whole file as the EDF+ spec lays it out, built field by field and sample by sample."""
    duration = Decimal(fs_text)
    head = b"".join(
        [
            ref_field("0", 8),
            ref_field("X X X X", 80),
            ref_field("Startdate 25-NOV-2025 X X sim", 80),
            ref_field("25.11.25", 8),
            ref_field("22.10.03", 8),
            ref_field("1280", 8),
            ref_field("EDF+C", 44),
            ref_field(str(n_rec), 8),
            ref_field(fs_text, 8),
            ref_field("4", 4),
        ]
    )
    labels = ["Accel X", "Accel Y", "Accel Z", "EDF Annotations"]
    per_signal = [
        (labels, 16),
        (["MEMS accelerometer"] * 3 + [""], 80),
        (["g"] * 3 + [""], 8),
        ([pmin] * 3 + ["-1"], 8),
        ([pmax] * 3 + ["1"], 8),
        (["-32768"] * 4, 8),
        (["32767"] * 4, 8),
        ([""] * 4, 80),
        ([str(spr)] * 3 + ["60"], 8),
        ([""] * 4, 32),
    ]
    for values, width in per_signal:
        head += b"".join(ref_field(v, width) for v in values)
    body = b""
    for r in range(n_rec):
        chunk = rows[r * spr : (r + 1) * spr]
        chunk = chunk + [(PAD_DIGITAL,) * 3] * (spr - len(chunk))
        for axis in range(3):
            body += b"".join(struct.pack("<h", row[axis]) for row in chunk)
        onset = Decimal("0.25") + r * duration
        text = format(onset.normalize(), "f")
        tal = f"+{text}\x14\x14\x00".encode("ascii")
        body += tal + b"\x00" * (120 - len(tal))
    return head + body


# ------------------------------------------------------------------------------- layouts


@pytest.mark.parametrize(
    ("fs", "duration", "spr"),
    [
        (12.5, "2", 25),
        (25, "1", 25),
        (52, "1", 52),
        (100, "1", 100),
        (104, "1", 104),
        (200, "1", 200),
        (1600, "1", 1600),
        (0.5, "2", 1),
        (625 / 6, "1.008", 105),  # Polar-style fractional rate: no whole second fits
        (25.6, "1.015625", 26),
        (100 / 3, "1.02", 34),
        (13.5, "2", 27),
    ],
)
def test_record_layout_is_the_shortest_whole_number_of_samples(fs, duration, spr):
    layout = record_layout(fs)
    assert layout.duration_str == duration
    assert layout.samples_per_record == spr
    assert Fraction(duration) == layout.duration <= 2
    assert math.isclose(layout.fs, fs, rel_tol=1e-12)
    assert len(layout.duration_str) <= 8


@pytest.mark.parametrize("fs", [0, -1, float("nan"), float("inf"), 0.3])
def test_record_layout_refuses_impossible_rates(fs):
    with pytest.raises(ValueError):
        record_layout(fs)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_onsets_are_exact_decimals(first_us, k):
    duration = Fraction(1008, 1000)
    fmt = OnsetFormatter(Fraction(first_us, 10**6), duration)
    expected = Decimal(first_us) / Decimal(10**6) + k * Decimal("1.008")
    assert Decimal(fmt.onset(k)) == expected
    assert fmt.onset(k).startswith("+")
    assert not fmt.onset(k).endswith(".")


def test_decimal_str_refuses_non_terminating():
    assert decimal_str(Fraction(1, 8)) == "0.125"
    assert decimal_str(Fraction(2)) == "2"
    with pytest.raises(ValueError):
        decimal_str(Fraction(1, 3))


# ------------------------------------------------------------------------ quantisation


@settings(max_examples=200)
@given(
    st.lists(st.floats(-20, 20, allow_nan=False), min_size=3, max_size=60),
    st.sampled_from([2, 4, 8, 16]),
)
def test_to_digital_matches_the_scalar_reference_and_never_makes_the_marker(values, range_g):
    n = len(values) // 3
    xyz = np.array(values[: 3 * n], dtype=np.float64).reshape(n, 3)
    dig, clipped = to_digital(xyz, -range_g, range_g)
    ref = [[ref_digital(v, -range_g, range_g) for v in row] for row in xyz.tolist()]
    assert dig.tolist() == ref
    assert not (dig == PAD_DIGITAL).any()
    assert clipped == sum(
        1 for row in xyz if (np.abs(row) > range_g).any() or (row <= -range_g).any()
    )


@given(st.floats(-7.9997, 8, allow_nan=False))
def test_quantisation_error_is_at_most_half_a_step(x):
    dig, _ = to_digital(np.array([[x, x, x]]), -8.0, 8.0)
    step = 16 / 65535
    back = (int(dig[0, 0]) + 32768) * step - 8
    assert abs(back - x) <= step / 2 + 1e-12


# ---------------------------------------------------------------- writer vs reference bytes


def write_rows(
    path: Path, fs: float, rows: np.ndarray, cuts: list[int], close: bool
) -> EdfAppendWriter:
    writer = EdfAppendWriter(path, record_layout(fs), 8, START, equipment="sim")
    edges = [0, *sorted(set(cuts)), rows.shape[0]]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        writer.write(rows[a:b])
    if close:
        writer.close()
    return writer


@settings(max_examples=30, deadline=None)
@given(
    fs=st.sampled_from([12.5, 52.0, 625 / 6]),
    n=st.integers(0, 400),
    cuts=st.lists(st.integers(0, 400), max_size=8),
    seed=st.integers(0, 2**32 - 1),
    close=st.booleans(),
)
def test_writer_bytes_equal_the_reference(tmp_path_factory, fs, n, cuts, seed, close):
    rows = np.random.default_rng(seed).integers(-32767, 32768, size=(n, 3), dtype=np.int16)
    path = tmp_path_factory.mktemp("w") / "s.edf"
    writer = write_rows(path, fs, rows, [c for c in cuts if c <= n], close)
    layout = record_layout(fs)
    spr = layout.samples_per_record
    n_rec = -(-n // spr) if close else n // spr
    shown = n_rec if close else -1
    expected = ref_file(
        layout.duration_str, spr, n_rec, "-8", "8", [tuple(r) for r in rows.tolist()]
    )
    expected = expected[:236] + ref_field(str(shown), 8) + expected[244:]
    assert path.read_bytes() == expected
    assert writer.samples_buffered == (0 if close else n % spr)
    if not close:
        writer.close()


def test_header_fields_follow_edf_plus(tmp_path):
    path = tmp_path / "s.edf"
    writer = EdfAppendWriter(path, record_layout(52), 8, START, equipment="Polar Verity Sense")
    header = read_edf_header(path)
    assert header.n_records == -1  # "-1 if unknown" while recording
    assert header.reserved == "EDF+C"
    assert header.patient == "X X X X"
    assert header.recording == "Startdate 25-NOV-2025 X X Polar_Verity_Sense"
    assert header.start == datetime(2025, 11, 25, 22, 10, 3)
    assert header.header_bytes == 1280
    assert [s.label for s in header.signals] == ["Accel X", "Accel Y", "Accel Z", "EDF Annotations"]
    assert [s.samples_per_record for s in header.signals] == [52, 52, 52, 60]
    assert header.signals[0].physical_min == -8 and header.signals[0].physical_max == 8
    assert header.signals[0].gain == pytest.approx(0.000244, rel=1e-3)  # 0.244 mg per step
    writer.write(np.zeros((130, 3), dtype=np.int16))
    assert read_edf_header(path).n_records == -1
    assert writer.close() == 3
    assert read_edf_header(path).n_records == 3
    assert path.stat().st_size == 1280 + 3 * (6 * 52 + 120)


def test_start_year_outside_the_two_digit_window(tmp_path):
    path = tmp_path / "s.edf"
    EdfAppendWriter(path, record_layout(25), 4, datetime(2090, 1, 2, tzinfo=timezone.utc)).close()
    raw = path.read_bytes()
    assert (
        raw[168:176] == b"02.01.yy"
    )  # EDF+: after 2084 the year lives only in the recording field
    assert read_edf_header(path).start.year == 2090


# --------------------------------------------------------------------- edfio as a reader


def test_edfio_reads_a_closed_file_with_events(tmp_path):
    path = tmp_path / "s.edf"
    rng = np.random.default_rng(1)
    xyz = rng.uniform(-7.9, 7.9, size=(1003, 3))
    writer = EdfAppendWriter(path, record_layout(100), 8, START, equipment="sim")
    dig, _ = to_digital(xyz, -8.0, 8.0)
    writer.write(dig[:500])
    writer.annotate(3.5, 0.25, "hypnic_jerk")
    writer.annotate(1.0, None, "late\x14name")  # an event placed after its onset's record
    writer.write(dig[500:])
    writer.close()
    edf = read_edfio(path)
    assert edf.num_data_records == 11
    assert edf.data_record_duration == 1
    assert edf.starttime.microsecond == 250000  # sub-second start in the first record's TAL
    assert edf.startdate.isoformat() == "2025-11-25"
    for axis in range(3):
        data = edf.signals[axis].data[:1003]
        assert np.abs(data - xyz[:, axis]).max() <= 16 / 65535 / 2 + 1e-9
    anns = sorted((a.onset, a.duration, a.text) for a in edf.annotations)
    assert anns == [(1.0, None, "late name"), (3.5, 0.25, "hypnic_jerk")]
    # the last, partial record is padded with the marker (-8 g on every axis)
    assert np.all(edf.signals[0].data[1003:] == pytest.approx(-8.0))


def test_edfio_reads_what_a_killed_writer_leaves(tmp_path):
    path = tmp_path / "s.edf"
    writer = EdfAppendWriter(path, record_layout(50), 8, START)
    writer.write(np.full((50 * 7 + 13, 3), 1000, dtype=np.int16))
    snapshot = tmp_path / "killed.edf"
    shutil.copyfile(path, snapshot)  # the page cache is what survives SIGKILL
    with open(snapshot, "ab") as fh:
        fh.write(b"\x01" * 77)  # a torn record after the complete ones
    edf = read_edfio(snapshot)
    assert edf.num_data_records == 7
    assert np.all(edf.signals[1].data == pytest.approx(1000 * 16 / 65535 + 8 / 65535))
    writer.close()


def test_event_tals_fit_and_parse():
    tal = event_tal(12.3456789, 0.5, "x" * 500, 88)
    assert len(tal) <= 88
    (parsed,) = parse_tals(tal)
    assert parsed.onset == "+12.345679" and parsed.duration == "0.5"
    assert set(parsed.texts[0]) == {"x"}
    assert parse_tals(event_tal(-0.5, None, "été", 88))[0].texts == ["été"]
    with pytest.raises(ValueError):
        event_tal(float("nan"), None, "x", 88)
    with pytest.raises(ValueError):
        event_tal(1.0, -1.0, "x", 88)


def test_many_events_spill_into_later_records_and_close_writes_them(tmp_path):
    path = tmp_path / "s.edf"
    writer = EdfAppendWriter(path, record_layout(25), 8, START)
    for i in range(15):  # about 5 fit in one record
        writer.annotate(0.1 * i, None, f"event number {i:02d}")
    writer.write(np.zeros((30, 3), dtype=np.int16))
    writer.close()
    edf = read_edfio(path)
    assert sorted(a.text for a in edf.annotations) == [f"event number {i:02d}" for i in range(15)]
    assert edf.num_data_records >= 3  # two records of samples, then marker records with the rest


def test_writer_refuses_an_existing_file_and_use_after_close(tmp_path):
    path = tmp_path / "s.edf"
    path.write_bytes(b"x")
    with pytest.raises(FileExistsError):
        EdfAppendWriter(path, record_layout(25), 8, START)
    other = EdfAppendWriter(tmp_path / "t.edf", record_layout(25), 8, START)
    with pytest.raises(ValueError):
        other.write(np.zeros((3, 2), dtype=np.int16))
    other.close()
    assert other.close() == 0
    with pytest.raises(ValueError):
        other.write(np.zeros((3, 3), dtype=np.int16))
    with pytest.raises(ValueError):
        EdfAppendWriter(tmp_path / "u.edf", record_layout(25), 8, datetime(2025, 1, 1))
