"""Heart Rate Measurement (0x2A37) against an independent encoder of the SIG layout."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError, heart_rate


def ref_encode(bpm, wide, contact, energy, rr) -> bytes:
    flags = (1 if wide else 0) | {None: 0, False: 4, True: 6}[contact]
    flags |= (8 if energy is not None else 0) | (16 if rr else 0)
    out = struct.pack("<BH" if wide else "<BB", flags, bpm)
    if energy is not None:
        out += struct.pack("<H", energy)
    return out + struct.pack(f"<{len(rr)}H", *rr)


@given(
    st.integers(0, 0xFFFF),
    st.booleans(),
    st.sampled_from([None, False, True]),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.lists(st.integers(0, 0xFFFF), max_size=9),
)
def test_decode_independent_bytes(bpm, wide, contact, energy, rr):
    wide = wide or bpm > 255
    m = heart_rate.decode(ref_encode(bpm, wide, contact, energy, rr))
    assert (m.bpm, m.sensor_contact, m.energy_expended_kj, list(m.rr_intervals)) == (
        bpm,
        contact,
        energy,
        rr,
    )
    assert m.rr_s == tuple(v / 1024 for v in rr)
    again = heart_rate.decode(heart_rate.encode(m))
    assert again == m


@pytest.mark.parametrize(
    "data", ["", "01", "0154", "0854", "085400", "1054", "105401", "0054ff", "e054"]
)
def test_malformed(data):
    if data == "e054":  # reserved flag bits are ignored, not errors
        assert heart_rate.decode(bytes.fromhex(data)).bpm == 0x54
        return
    with pytest.raises(CodecError):
        heart_rate.decode(bytes.fromhex(data))
