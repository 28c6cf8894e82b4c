"""WitMotion 0x61 data and 0x71 register packets, commands, against an independent encoder."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError, witmotion

int16 = st.integers(-(1 << 15), (1 << 15) - 1)
SCALE = [16.0] * 3 + [2000.0] * 3 + [180.0] * 3  # g, deg/s, deg per 32768 counts


def ref_packet(fields: list[int]) -> bytes:
    return b"\x55\x61" + struct.pack(f"<{len(fields)}h", *fields)


def ref_reply(start: int, values: list[int]) -> bytes:
    return b"\x55\x71" + struct.pack("<H8h", start, *values)


@st.composite
def notifications(draw):
    length = draw(st.sampled_from([8, 10, 12, 14, 16, 18, 20]))
    k = (length - 2) // 2
    packets = draw(st.lists(st.lists(int16, min_size=k, max_size=k), min_size=1, max_size=4))
    return length, packets


@given(notifications())
def test_decode_independent_bytes_and_encode(notification):
    length, packets = notification
    data = b"".join(ref_packet(p) for p in packets)
    decoded = witmotion.decode_data(data, packet_length=length)
    k = (length - 2) // 2
    assert decoded.present == k
    assert decoded.counts.tolist() == packets
    physical = np.hstack([decoded.acc_g, decoded.gyro_dps, decoded.angle_deg])
    assert np.allclose(physical[:, :k], np.array(packets) / 32768 * np.array(SCALE[:k]))
    assert np.isnan(physical[:, k:]).all()
    frame = witmotion.decode_acc(data, packet_length=length)
    assert frame.counts.tolist() == [p[:3] for p in packets]
    assert witmotion.encode_data(np.array(packets), packet_length=length) == data


@given(
    st.integers(0, 0xFFFF),
    st.lists(int16, min_size=8, max_size=8),
    st.lists(int16, min_size=9, max_size=9),
)
def test_register_replies_mixed_with_data(start, values, fields):
    data = ref_packet(fields) + ref_reply(start, values) + ref_packet(fields)
    (reply,) = witmotion.decode_register_replies(data)
    assert (reply.start, list(reply.values)) == (start, values)
    assert len(witmotion.decode_acc(data)) == 2
    assert witmotion.build_register_reply(start, values) == ref_reply(start, values)
    with pytest.raises(CodecError, match="no 0x61"):
        witmotion.decode_acc(ref_reply(start, values))


def test_commands():
    assert witmotion.unlock_command() == bytes.fromhex("ffaa6988b5")
    assert witmotion.save_command() == bytes.fromhex("ffaa000000")
    assert witmotion.read_register_command(0x3A) == bytes.fromhex("ffaa273a00")
    assert witmotion.write_register_command(witmotion.REGISTER_RATE, 3) == bytes.fromhex(
        "ffaa030300"
    )
    assert witmotion.parse_command(witmotion.unlock_command()).is_unlock
    read = witmotion.parse_command(bytes.fromhex("ffaa274000"))
    assert read.is_read and read.value == 0x40
    for bad in ("ffaa0000", "ffab000000", "ffaa00000000"):
        with pytest.raises(CodecError):
            witmotion.parse_command(bytes.fromhex(bad))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "empty"),
        ("5561" + "00" * 17, "has 19 of 20"),
        ("5561" + "00" * 18 + "55", "no 55 <flag>"),
        ("5661" + "00" * 18, "no 55 <flag>"),
        ("5562" + "00" * 18, "unknown packet flag 0x62"),
        ("5571" + "00" * 17, "has 19 of 20"),
    ],
)
def test_malformed_notifications(data, message):
    with pytest.raises(CodecError, match=message):
        witmotion.decode_acc(bytes.fromhex(data))


def test_counts_from_physical():
    counts = witmotion.counts_from_physical([1.0, -1.0, 20.0], [99.975586, 0, 0], [45.0, 0, -180.0])
    assert counts.tolist() == [2048, -2048, 32767, 1638, 0, 0, 8192, 0, -32768]
    with pytest.raises(ValueError):
        witmotion.decode_acc(b"\x55\x61", packet_length=7)
