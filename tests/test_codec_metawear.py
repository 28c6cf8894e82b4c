"""MetaWear acceleration notifications and commands against an independent ``struct`` encoder."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError, metawear
from hypnic.firmware_bridge.codecs.metawear import Chip

int16 = st.integers(-(1 << 15), (1 << 15) - 1)
PACKED = {Chip.BMI160: 0x1C, Chip.BMI270: 0x05}  # BLE.md §3 / metawear_acc.json


def ref_notification(register: int, samples: list[tuple[int, int, int]]) -> bytes:
    return struct.pack(f"<BB{3 * len(samples)}h", 3, register, *[v for s in samples for v in s])


@given(
    st.sampled_from(list(Chip)),
    st.booleans(),
    st.sampled_from([2, 4, 8, 16]),
    st.lists(st.tuples(int16, int16, int16), min_size=3, max_size=3),
)
def test_decode_independent_bytes_and_encode(chip, packed, range_g, samples):
    samples = samples if packed else samples[:1]
    data = ref_notification(PACKED[chip] if packed else 0x04, samples)
    frame = metawear.decode_acc(data, range_g=range_g, chip=chip)
    assert frame.counts.tolist() == [list(s) for s in samples]
    assert np.array_equal(
        frame.g,
        np.array(samples, dtype=np.float32) / {2: 16384, 4: 8192, 8: 4096, 16: 2048}[range_g],
    )
    assert frame.timestamps_ns is None and frame.protocol == "metawear"
    assert metawear.encode_acc(np.array(samples), chip, packed=packed) == data


@given(
    st.sampled_from(list(Chip)),
    st.sampled_from(sorted(metawear.ODR_CODE[Chip.BMI160])),
    st.sampled_from([2, 4, 8, 16]),
)
def test_config_command_round_trip(chip, odr, range_g):
    command = metawear.parse_command(metawear.config_command(chip, odr, range_g), chip)
    assert (command.kind, command.odr_hz, command.range_g) == ("config", odr, range_g)


def test_other_commands_parse():
    parse = metawear.parse_command
    assert parse(metawear.start_command(), Chip.BMI160) == metawear.AccCommand("power", on=True)
    assert parse(metawear.stop_command(), Chip.BMI160) == metawear.AccCommand("power", on=False)
    assert parse(metawear.sampling_command(False), Chip.BMI270).on is False
    sub = parse(metawear.subscribe_command(Chip.BMI270, packed=True), Chip.BMI270)
    assert (sub.kind, sub.on, sub.packed) == ("subscribe", True, True)
    with pytest.raises(CodecError):  # the BMI160's packed register is not the BMI270's
        parse(metawear.subscribe_command(Chip.BMI160, packed=True), Chip.BMI270)


@pytest.mark.parametrize(
    "data",
    ["0403", "0301", "030102", "0302010100", "03030000", "03032803ff", "031c02", "03ff01"],
)
def test_malformed_commands(data):
    with pytest.raises(CodecError):
        metawear.parse_command(bytes.fromhex(data), Chip.BMI160)


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ("0404" + "00" * 6, {}, "not from the accelerometer"),
        ("0304" + "00" * 5, {}, "must be 8 bytes"),
        ("031c" + "00" * 12, {}, "must be 20 bytes"),
        ("0305" + "00" * 18, {"chip": Chip.BMI160}, "not acceleration data"),
        ("0303" + "00" * 6, {}, "not acceleration data"),
    ],
)
def test_malformed_notifications(data, kwargs, message):
    with pytest.raises(CodecError, match=message):
        metawear.decode_acc(bytes.fromhex(data), range_g=8, **kwargs)


def test_encoder_arguments():
    with pytest.raises(ValueError, match="output data rate"):
        metawear.config_command(Chip.BMI160, 60, 8)
    with pytest.raises(ValueError, match="range"):
        metawear.config_command(Chip.BMI160, 100, 3)
    with pytest.raises(ValueError, match="3 samples"):
        metawear.encode_acc(np.zeros((2, 3), dtype=int), Chip.BMI160, packed=True)
    assert metawear.counts_from_g(np.array([[1.0, -20.0, 0.5]]), 8).tolist() == [
        [4096, -32768, 2048]
    ]
