"""Thingy:52 raw motion data and configuration against an independent ``struct`` encoder."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError, thingy52
from hypnic.firmware_bridge.codecs.thingy52 import MotionConfig

int16 = st.integers(-(1 << 15), (1 << 15) - 1)


@given(st.lists(int16, min_size=9, max_size=9))
def test_raw_decode_independent_bytes_and_encode(values):
    data = struct.pack("<9h", *values)
    raw = thingy52.decode_raw(data)
    assert raw.counts.ravel().tolist() == values
    assert raw.accel_g.tolist() == [v / 1024 for v in values[0:3]]  # Q6.10
    assert raw.gyro_dps.tolist() == [v / 32 for v in values[3:6]]  # Q11.5
    assert raw.compass_ut.tolist() == [v / 16 for v in values[6:9]]  # Q12.4
    frame = thingy52.decode_acc(data, sample_rate=60)
    assert frame.counts.tolist() == [values[0:3]] and frame.sample_rate == 60
    assert thingy52.encode_raw(values[0:3], values[3:6], values[6:9]) == data


valid_configs = st.builds(
    MotionConfig,
    st.integers(100, 5000),
    st.integers(100, 5000),
    st.integers(100, 5000),
    st.integers(1, 200),
    st.integers(0, 1),
)


@given(valid_configs)
def test_config_round_trip(config):
    data = thingy52.build_config(config)
    assert data == struct.pack("<4HB", *vars(config).values())
    assert thingy52.parse_config(data) == config


@pytest.mark.parametrize(
    "fields",
    [
        (99, 1000, 1000, 100, 0),
        (100, 5001, 1000, 100, 0),
        (100, 100, 0, 100, 0),
        (100, 100, 100, 0, 0),
        (100, 100, 100, 201, 1),
        (100, 100, 100, 60, 2),
    ],
)
def test_config_limits(fields):
    with pytest.raises(CodecError, match="outside"):
        thingy52.parse_config(struct.pack("<4HB", *fields))
    with pytest.raises(ValueError):
        thingy52.build_config(MotionConfig(*fields))


@pytest.mark.parametrize("n", [0, 6, 17, 19, 36])
def test_raw_wrong_length(n):
    with pytest.raises(CodecError, match="18 bytes"):
        thingy52.decode_raw(bytes(n))
    with pytest.raises(CodecError, match="9 bytes"):
        thingy52.parse_config(bytes(n // 2 if n // 2 != 9 else 10))


def test_accel_counts_from_g():
    assert thingy52.accel_counts_from_g(np.array([0.5, -1.0, 40.0])).tolist() == [512, -1024, 32767]
