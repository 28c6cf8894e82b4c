"""micro:bit accelerometer notifications and period writes against ``struct``."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError, microbit

int16 = st.integers(-(1 << 15), (1 << 15) - 1)


@given(int16, int16, int16)
def test_decode_independent_bytes_and_encode(x, y, z):
    data = struct.pack("<3h", x, y, z)
    frame = microbit.decode_acc(data)
    assert frame.counts.tolist() == [[x, y, z]]
    assert np.array_equal(frame.g, np.array([[x, y, z]], dtype=np.float32) / np.float32(1000))
    assert microbit.encode_acc([x, y, z]) == data


@pytest.mark.parametrize("n", [0, 5, 7, 12])
def test_wrong_length(n):
    with pytest.raises(CodecError, match="6 bytes"):
        microbit.decode_acc(bytes(n))


@given(st.sampled_from(microbit.PERIODS_MS))
def test_period_round_trip(period):
    data = microbit.encode_period(period)
    assert data == struct.pack("<H", period)
    assert microbit.decode_period(data) == microbit.parse_period_write(data) == period
    assert microbit.effective_period(period) == period


@given(st.integers(0, 0xFFFF))
def test_effective_period_is_nearest(requested):
    chosen = microbit.effective_period(requested)
    assert chosen in microbit.PERIODS_MS
    assert all(abs(chosen - requested) <= abs(p - requested) for p in microbit.PERIODS_MS)


def test_period_writes():
    assert microbit.parse_period_write(b"\x14\x00\xff") == 20  # the DAL reads the first two bytes
    assert microbit.effective_period(50) == 20  # tie between 20 and 80: the shorter
    for bad in (b"", b"\x14"):
        with pytest.raises(CodecError):
            microbit.parse_period_write(bad)
    with pytest.raises(CodecError):
        microbit.decode_period(b"\x14\x00\x00")
    with pytest.raises(ValueError):
        microbit.encode_period(50)
