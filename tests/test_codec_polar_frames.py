"""Polar PMD ACC frames and per-sample time stamps: properties against slow references.

The frame builder here packs headers and raw samples with ``struct``/``int.to_bytes``
independently of the module's encoder; time stamps are checked against exact rational
arithmetic (``fractions.Fraction``, rounded half to even like Kotlin's ``round``).
"""

from __future__ import annotations

import struct
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError
from hypnic.firmware_bridge.codecs.polar_pmd import (
    POLAR_EPOCH_UNIX_NS,
    AccFrameType,
    MeasurementType,
    TimestampError,
    build_frame,
    counts_from_g,
    decode_acc,
    encode_acc,
    parse_frame,
    sample_timestamps,
)

RAW_BYTES = {AccFrameType.RAW_INT8: 1, AccFrameType.RAW_INT16: 2, AccFrameType.RAW_INT24: 3}
REAL_TIME = 820_000_000_000_000_000  # ~2026 in ns since 2000: where real frame times live


def ref_raw_frame(counts: list[tuple[int, int, int]], timestamp: int, frame_type: int) -> bytes:
    nb = RAW_BYTES[frame_type]
    body = b"".join(v.to_bytes(nb, "little", signed=True) for row in counts for v in row)
    return struct.pack("<BQB", 2, timestamp, frame_type) + body


def raw_counts(nbytes: int):
    lim = 1 << (8 * nbytes - 1)
    return st.lists(st.tuples(*[st.integers(-lim, lim - 1)] * 3), min_size=1, max_size=70)


@given(st.sampled_from(list(RAW_BYTES)), st.data(), st.integers(0, (1 << 63) - 1))
def test_raw_frames_decode_independent_bytes(frame_type, data, timestamp):
    counts = data.draw(raw_counts(RAW_BYTES[frame_type]))
    frame = decode_acc(ref_raw_frame(counts, timestamp, frame_type))
    assert frame.counts.tolist() == [list(c) for c in counts]
    assert np.allclose(frame.g, np.array(counts) / 1000.0, rtol=1e-6)
    assert frame.frame_time_ns == timestamp and frame.frame_time_index == len(counts) - 1
    assert frame.frame_type == frame_type and frame.timestamps_ns is None
    assert encode_acc(np.array(counts), timestamp, frame_type) == ref_raw_frame(
        counts, timestamp, frame_type
    )


@given(
    st.sampled_from(list(AccFrameType)),
    st.lists(st.tuples(*[st.integers(-128, 127)] * 3), min_size=1, max_size=60),
    st.integers(REAL_TIME, REAL_TIME + 10**12),
    st.sampled_from([25, 50, 52, 100, 200, 416]),
    st.integers(1, 255),
)
def test_module_encoder_round_trip(frame_type, counts, timestamp, rate, block_size):
    arr = np.array(counts, dtype=np.int64)
    data = encode_acc(arr, timestamp, frame_type, block_size=block_size)
    frame = decode_acc(data, factor=0.000244, sample_rate=rate)
    assert frame.counts.tolist() == arr.tolist()
    assert frame.timestamps_ns[-1] == timestamp
    assert np.all(np.diff(frame.timestamps_ns) > 0)


@given(
    st.lists(st.floats(-7.9, 7.9), min_size=3, max_size=90).map(
        lambda v: np.array(v[: len(v) // 3 * 3]).reshape(-1, 3)
    )
)
def test_g_quantise_round_trip(g):
    """counts_from_g inverts the scaling to within half a count for every frame type."""
    for frame_type, factor, lsb in [
        (AccFrameType.RAW_INT16, None, 1e-3),
        (AccFrameType.DELTA_G, 0.000244, 0.000244),
        (AccFrameType.DELTA_MG, 0.5, 0.5e-3),
    ]:
        counts = counts_from_g(g, frame_type, factor)
        frame = decode_acc(encode_acc(counts, 10**18, frame_type), factor=factor)
        assert np.all(np.abs(frame.g - g) <= lsb * 0.5 + 1e-6)


def test_scaling_per_frame_type():
    counts = np.array([[1000, -2000, 4096]])
    raw = decode_acc(encode_acc(counts, 1, AccFrameType.RAW_INT16), factor=99.0)
    assert raw.g.tolist() == np.float32([[1.0, -2.0, 4.096]]).tolist()  # mG; factor ignored
    g_type = decode_acc(encode_acc(counts, 1, AccFrameType.DELTA_G), factor=0.00025)
    assert np.allclose(g_type.g, counts * 0.00025)
    mg_type = decode_acc(encode_acc(counts, 1, AccFrameType.DELTA_MG), factor=2.0)
    assert np.allclose(mg_type.g, counts * 2.0 / 1000)
    assert np.allclose(decode_acc(encode_acc(counts, 1, AccFrameType.DELTA_MG)).g, counts / 1000)


def test_compressed_type0_needs_factor():
    data = encode_acc(np.zeros((2, 3), dtype=int), 1, AccFrameType.DELTA_G)
    with pytest.raises(CodecError, match="FACTOR"):
        decode_acc(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes(9), "shorter than the 10-byte header"),
        (build_frame(MeasurementType.ECG, 1, 0, False, bytes(6)), "not ACC"),
        (
            build_frame(MeasurementType.ACC, 1, 3, False, bytes(6)),
            "unsupported ACC frame type 0x03",
        ),
        (build_frame(MeasurementType.ACC, 1, 2, True, bytes(6)), "unsupported ACC frame type 0x82"),
        (build_frame(MeasurementType.ACC, 1, 1, False, b""), "non-empty multiple of 6"),
        (build_frame(MeasurementType.ACC, 1, 1, False, bytes(7)), "non-empty multiple of 6"),
        (build_frame(MeasurementType.ACC, 1, 2, False, bytes(8)), "multiple of 9"),
    ],
)
def test_malformed_frames(data, message):
    with pytest.raises(CodecError, match=message):
        decode_acc(data, factor=1.0)


def test_header_fields():
    frame = parse_frame(bytes.fromhex("c2") + (123).to_bytes(8, "little") + b"\x81abc")
    assert (frame.measurement_type, frame.timestamp_ns, frame.frame_type, frame.compressed) == (
        2,
        123,
        1,
        True,
    )
    assert frame.content == b"abc"
    assert POLAR_EPOCH_UNIX_NS == 946_684_800 * 10**9  # 2000-01-01T00:00:00Z


# --- time stamps ------------------------------------------------------------------------


def exact_times(ts: int, n: int, rate: float | None, prev: int) -> list[int]:
    """PmdTimeStampUtils in exact rationals; Python's round() on a Fraction ties to even."""
    if prev == 0:
        delta = Fraction(10**9) / Fraction(rate)
        first = ts - delta * (n - 1)
    else:
        delta = Fraction(ts - prev, n)
        first = prev + delta
    return [round(first + delta * i) for i in range(n - 1)] + [ts]


@given(st.integers(1, 10**18), st.integers(1, 10**11), st.integers(1, 300))
def test_times_after_previous_frame_match_exact_rationals(prev, gap, n):
    ts = prev + gap
    got = sample_timestamps(ts, n, prev_timestamp_ns=prev)
    want = exact_times(ts, n, None, prev)
    # float64 offsets may miss an exact .5 tie by an ulp: at most 1 ns apart, never more
    assert np.max(np.abs(got - np.array(want))) <= 1
    assert got[-1] == ts and np.all(np.diff(got) >= 0)
    if gap >= n:
        assert np.all(np.diff(got) > 0) and got[0] > prev


@given(
    st.integers(REAL_TIME, REAL_TIME + 10**15),
    st.integers(1, 300),
    st.sampled_from([12.5, 25, 26, 50, 52, 100, 104, 200, 208, 416, 1600]),
)
def test_times_from_rate_match_exact_rationals(ts, n, rate):
    got = sample_timestamps(ts, n, sample_rate=rate)
    assert np.max(np.abs(got - np.array(exact_times(ts, n, rate, 0)))) <= 1
    assert got[-1] == ts
    assert np.allclose(np.diff(got), 1e9 / rate, atol=1.0)


@given(st.integers(1, 10**9), st.integers(1, 10**6), st.integers(1, 50))
def test_times_equal_sdk_double_arithmetic_on_small_values(prev, gap, n):
    """Where the SDK's doubles are exact (small times) we agree with its formula literally."""
    ts = prev + gap
    delta = (ts - prev) / n
    first = prev + delta
    sdk = [round(first + delta * i) for i in range(n - 1)] + [ts]
    assert np.max(np.abs(sample_timestamps(ts, n, prev_timestamp_ns=prev) - np.array(sdk))) <= 1


def test_ties_round_half_even_on_absolute_time():
    # (ts - prev) / n = 0.5: Kotlin's round(prev + 0.5) goes to the even neighbour
    assert sample_timestamps(101, 2, prev_timestamp_ns=100).tolist() == [100, 101]
    assert sample_timestamps(102, 2, prev_timestamp_ns=101).tolist() == [102, 102]
    assert sample_timestamps(REAL_TIME + 1, 2, prev_timestamp_ns=REAL_TIME).tolist() == [
        REAL_TIME,
        REAL_TIME + 1,
    ]


def test_real_epoch_times_keep_nanoseconds():
    """At ~8e17 ns a double spaces values 128 ns apart; our offsets stay exact."""
    got = sample_timestamps(REAL_TIME + 3, 3, prev_timestamp_ns=REAL_TIME)
    assert got.tolist() == [REAL_TIME + 1, REAL_TIME + 2, REAL_TIME + 3]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((10**9, 5), {}, "no positive sample rate"),
        ((10**9, 5), {"sample_rate": float("nan")}, "no positive sample rate"),
        ((10**9, 5), {"sample_rate": 1e-300}, "before the epoch"),
        ((100, 5), {"prev_timestamp_ns": 100}, "not after the previous"),
        ((99, 5), {"prev_timestamp_ns": 100}, "not after the previous"),
        ((1 << 63, 1), {"sample_rate": 50}, "int64"),
    ],
)
def test_timestamp_errors(args, kwargs, message):
    with pytest.raises(TimestampError, match=message):
        sample_timestamps(*args, **kwargs)


def test_decode_passes_timestamp_errors_on():
    data = encode_acc(np.zeros((3, 3), dtype=int), 500, AccFrameType.RAW_INT16)
    with pytest.raises(TimestampError):
        decode_acc(data, prev_timestamp_ns=600)
    frame = decode_acc(data, prev_timestamp_ns=497)
    assert frame.timestamps_ns.tolist() == [498, 499, 500]


# Bits 6-7 of byte 0 are not part of the measurement type: the first byte is drawn below 0x40
# (an assume() threw away three inputs in four and failed Hypothesis's health check at random).
@given(st.tuples(st.integers(0, 0x3F), st.binary(min_size=9, max_size=39)).map(lambda t: bytes([t[0]]) + t[1]))
def test_header_round_trip(data):
    frame = parse_frame(data)
    rebuilt = build_frame(
        frame.measurement_type,
        frame.timestamp_ns,
        frame.frame_type,
        frame.compressed,
        frame.content,
    )
    assert rebuilt == data
