"""Movesense gatt_sensordata_app commands and ``/Meas/Acc`` notifications against ``struct``."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError, movesense

finite32 = st.floats(-2000, 2000, width=32)


def ref_notification(ref: int, t_ms: int, samples: list[tuple[float, float, float]]) -> bytes:
    return struct.pack(f"<BBI{3 * len(samples)}f", 2, ref, t_ms, *[v for s in samples for v in s])


@given(
    st.integers(1, 255),
    st.integers(0, 0xFFFFFFFF),
    st.lists(st.tuples(finite32, finite32, finite32), min_size=1, max_size=16),
    st.sampled_from([None, *movesense.ACC_RATES_HZ]),
)
def test_decode_independent_bytes_and_encode(ref, t_ms, samples, rate):
    data = ref_notification(ref, t_ms, samples)
    frame = movesense.decode_acc(data, sample_rate=rate)
    assert np.allclose(frame.g * 9.80665, np.array(samples), rtol=1e-6, atol=1e-6)
    assert (
        frame.counts is None and frame.frame_time_ns == t_ms * 10**6 and frame.frame_time_index == 0
    )
    if rate is None:
        assert frame.timestamps_ns is None
    else:
        assert frame.timestamps_ns[0] == t_ms * 10**6
        assert np.allclose(np.diff(frame.timestamps_ns), 1e9 / rate, atol=1)
    assert movesense.encode_acc(ref, t_ms, np.array(samples, dtype=np.float32)) == data


@given(st.integers(1, 255), st.sampled_from(movesense.ACC_RATES_HZ))
def test_commands_round_trip(ref, rate):
    parsed = movesense.parse_command(movesense.subscribe_command(ref, movesense.acc_path(rate)))
    assert (parsed.command, parsed.reference, parsed.path) == (
        movesense.Command.SUBSCRIBE,
        ref,
        f"/Meas/Acc/{rate}",
    )
    assert (
        movesense.parse_command(movesense.unsubscribe_command(ref)).command
        == movesense.Command.UNSUBSCRIBE
    )
    assert movesense.parse_command(movesense.hello_command(ref)).command == movesense.Command.HELLO


def test_command_results():
    hello = movesense.parse_command_result(movesense.build_hello_response(7))
    assert (hello.reference, hello.hello, hello.code) == (7, True, None)
    # the firmware sends 507 (no free subscription slot) as 01 fb
    assert movesense.build_command_result(7, 507) == bytes((1, 7, 0x01, 0xFB))
    assert movesense.parse_command_result(bytes((1, 7, 0x01, 0xFB))).code == 507


@pytest.mark.parametrize(
    "data",
    ["00", "0300", "0100", "0163", "0163ff", "0063aa", "0263aa", "0163" + b"Meas".hex()],
)
def test_malformed_commands(data):
    with pytest.raises(CodecError):
        movesense.parse_command(bytes.fromhex(data))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("0163" + "00" * 16, "not subscription data"),
        ("0263" + "00" * 4, "non-zero multiple of 12"),
        ("0263" + "00" * 15, "non-zero multiple of 12"),
        ("0200" + "00" * 16, "reference 0"),
        ("0263" + "00" * 4 + "0000c07f" + "00" * 8, "NaN"),
    ],
)
def test_malformed_notifications(data, message):
    with pytest.raises(CodecError, match=message):
        movesense.decode_acc(bytes.fromhex(data))


def test_malformed_results():
    for data in (b"\x02\x01\x00\x00", b"\x01\x01\x00", b"\x01\x01Hell"):
        with pytest.raises(CodecError):
            movesense.parse_command_result(data)
    with pytest.raises(ValueError):
        movesense.acc_path(50)
    with pytest.raises(ValueError):
        movesense.hello_command(0)
