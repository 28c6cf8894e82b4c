"""MbientLab MetaWear / MetaMotion accelerometer (Bosch BMI160 and BMI270) notifications.

Facts from BLE.md §3 and ``vectors/metawear_acc.json`` (MbientLab MetaWear-SDK-Cpp
``test/test_accelerometer_bmi160.py``, ``test_accelerometer_bmi270.py``,
``src/metawear/sensor/cpp/accelerometer_bosch_register.h`` and ``accelerometer_bosch.cpp``;
proprietary licence: read for facts only, never ported):

- every command and notification is ``[module][register][payload]``; the accelerometer is
  module 0x03 with registers POWER_MODE 1, DATA_INTERRUPT_ENABLE 2, DATA_CONFIG 3,
  DATA_INTERRUPT 4, packed data 0x1C (BMI160) or 0x05 (BMI270);
- a single sample is ``03 04`` + int16 LE x, y, z; a packed notification is ``03 1c`` (or
  ``03 05``) + three such samples;
- counts / LSB-per-g = g, with 16384, 8192, 4096, 2048 LSB/g at 2, 4, 8, 16 g;
- DATA_CONFIG's payload is ``[odr byte][range byte]``; the bytes per chip are the SDK tests'
  tables below (range codes 0x03/0x05/0x08/0x0C on the BMI160, 0..3 on the BMI270, from the
  SDK's ``FSR_BITMASKS``/``BMI270_FSR_BITMASKS``);
- start is POWER_MODE = 1 (``mbl_mw_acc_bosch_start``), stop POWER_MODE = 0 (symmetric,
  not in a vendor test); sampling is enabled with ``03 02 01 00`` and disabled with
  ``03 02 00 01`` (enable mask, disable mask).

Streamed packets carry no time stamp (the host stamps them on receipt, BLE.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

import numpy as np

from hypnic.firmware_bridge.codecs._bytes import int16_values_bytes, read_int16_triplets, triplets
from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "metawear"

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

MODULE_ACCELEROMETER = 0x03
PACKED_SAMPLES = 3


class Chip(str, Enum):
    """The Bosch accelerometer on the board."""

    BMI160 = "bmi160"  # MetaMotion R/C, MetaWear RG/RPro
    BMI270 = "bmi270"  # MetaMotion S


class Register(IntEnum):
    """Accelerometer module registers (``AccelerometerBoschRegister``)."""

    POWER_MODE = 0x01
    DATA_INTERRUPT_ENABLE = 0x02
    DATA_CONFIG = 0x03
    DATA_INTERRUPT = 0x04
    PACKED_DATA_BMI270 = 0x05
    PACKED_DATA_BMI160 = 0x1C


PACKED_REGISTER = {
    Chip.BMI160: Register.PACKED_DATA_BMI160,
    Chip.BMI270: Register.PACKED_DATA_BMI270,
}

#: LSB per g for each full-scale range in g (SDK ``FSR_SCALE``).
LSB_PER_G = {2: 16384, 4: 8192, 8: 4096, 16: 2048}

RANGE_CODE = {
    Chip.BMI160: {2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C},
    Chip.BMI270: {2: 0x00, 4: 0x01, 8: 0x02, 16: 0x03},
}

#: DATA_CONFIG odr byte per output data rate in Hz (SDK tests ``test_set_odr``).
ODR_CODE = {
    Chip.BMI160: {
        0.78125: 0x81, 1.5625: 0x82, 3.125: 0x83, 6.25: 0x84, 12.5: 0x25, 25.0: 0x26,
        50.0: 0x27, 100.0: 0x28, 200.0: 0x29, 400.0: 0x2A, 800.0: 0x2B, 1600.0: 0x2C,
    },
    Chip.BMI270: {
        0.78125: 0x21, 1.5625: 0x22, 3.125: 0x23, 6.25: 0x24, 12.5: 0xA5, 25.0: 0xA6,
        50.0: 0xA7, 100.0: 0xA8, 200.0: 0xA9, 400.0: 0xAA, 800.0: 0xAB, 1600.0: 0xAC,
    },
}  # fmt: skip


def _command(register: int, *payload: int) -> bytes:
    return bytes((MODULE_ACCELEROMETER, register, *payload))


def start_command() -> bytes:
    """Switch the accelerometer to active mode: ``03 01 01``."""
    return _command(Register.POWER_MODE, 1)


def stop_command() -> bytes:
    """Switch the accelerometer to standby: ``03 01 00``."""
    return _command(Register.POWER_MODE, 0)


def sampling_command(enable: bool) -> bytes:
    """Enable (``03 02 01 00``) or disable (``03 02 00 01``) acceleration sampling."""
    return _command(Register.DATA_INTERRUPT_ENABLE, *((1, 0) if enable else (0, 1)))


def config_command(chip: Chip | str, odr_hz: float, range_g: int) -> bytes:
    """DATA_CONFIG for an output data rate and range, e.g. BMI160 200 Hz 8 g: ``03 03 29 08``."""
    chip = Chip(chip)
    odr = ODR_CODE[chip].get(float(odr_hz))
    if odr is None:
        raise ValueError(
            f"{chip.value} has no output data rate {odr_hz} Hz; one of {sorted(ODR_CODE[chip])}"
        )
    code = RANGE_CODE[chip].get(int(range_g)) if float(range_g).is_integer() else None
    if code is None:
        raise ValueError(
            f"{chip.value} has no range {range_g} g; one of {sorted(RANGE_CODE[chip])}"
        )
    return _command(Register.DATA_CONFIG, odr, code)


def subscribe_command(chip: Chip | str, *, packed: bool, subscribe: bool = True) -> bytes:
    """(Un)subscribe single-sample (``03 04 01``) or packed (``03 1c 01`` / ``03 05 01``) data."""
    register = PACKED_REGISTER[Chip(chip)] if packed else Register.DATA_INTERRUPT
    return _command(register, 1 if subscribe else 0)


@dataclass(frozen=True)
class AccCommand:
    """An accelerometer command as the device sees it.

    Attributes
    ----------
    kind : str
        ``"power"``, ``"sampling"``, ``"config"`` or ``"subscribe"``.
    on : bool or None
        Power on, sampling enabled, subscribed (``None`` for config).
    packed : bool or None
        For subscriptions: the packed data signal.
    odr_hz, range_g : float, int or None
        For config.
    """

    kind: str
    on: bool | None = None
    packed: bool | None = None
    odr_hz: float | None = None
    range_g: int | None = None


def parse_command(data: bytes | bytearray | memoryview, chip: Chip | str) -> AccCommand:
    """Interpret a command written to the MetaWear (device side).

    Raises
    ------
    CodecError
        Not an accelerometer command this codec knows, or a payload of the wrong size/value.
    """
    data = bytes(data)
    chip = Chip(chip)
    if len(data) < 2 or data[0] != MODULE_ACCELEROMETER:
        raise CodecError(PROTOCOL, f"command {data.hex()} is not for the accelerometer module")
    register, payload = data[1], data[2:]
    if register == Register.POWER_MODE and payload in (b"\x00", b"\x01"):
        return AccCommand("power", on=payload == b"\x01")
    if register == Register.DATA_INTERRUPT_ENABLE and payload in (b"\x01\x00", b"\x00\x01"):
        return AccCommand("sampling", on=payload == b"\x01\x00")
    if register == Register.DATA_CONFIG and len(payload) == 2:
        odr = {code: hz for hz, code in ODR_CODE[chip].items()}.get(payload[0])
        rng = {code: g for g, code in RANGE_CODE[chip].items()}.get(payload[1])
        if odr is None or rng is None:
            raise CodecError(
                PROTOCOL, f"{chip.value} config bytes {payload.hex()} are not a known odr/range"
            )
        return AccCommand("config", odr_hz=odr, range_g=rng)
    if register in (Register.DATA_INTERRUPT, PACKED_REGISTER[chip]) and payload in (
        b"\x00",
        b"\x01",
    ):
        return AccCommand(
            "subscribe", on=payload == b"\x01", packed=register != Register.DATA_INTERRUPT
        )
    raise CodecError(
        PROTOCOL, f"unknown or malformed {chip.value} accelerometer command {data.hex()}"
    )


def decode_acc(
    data: bytes | bytearray | memoryview, *, range_g: int, chip: Chip | str | None = None
) -> AccFrame:
    """Decode a single-sample or packed acceleration notification.

    Parameters
    ----------
    data : bytes-like
        ``03 04`` + 6 bytes, or ``03 1c``/``03 05`` + 18 bytes.
    range_g : int
        The range the accelerometer was configured with (2, 4, 8 or 16).
    chip : Chip, optional
        When given, the packed register must be this chip's.

    Raises
    ------
    CodecError
        Another module or register, or the wrong length for the register.
    """
    data = bytes(data)
    if range_g not in LSB_PER_G:
        raise ValueError(f"range_g must be one of {sorted(LSB_PER_G)}, got {range_g}")
    if len(data) < 2 or data[0] != MODULE_ACCELEROMETER:
        raise CodecError(PROTOCOL, f"notification {data[:2].hex()} is not from the accelerometer")
    register = data[1]
    packed_registers = (
        {PACKED_REGISTER[Chip(chip)]} if chip is not None else set(PACKED_REGISTER.values())
    )
    if register == Register.DATA_INTERRUPT:
        expected = 2 + 6
    elif register in packed_registers:
        expected = 2 + 6 * PACKED_SAMPLES
    else:
        raise CodecError(PROTOCOL, f"register 0x{register:02x} is not acceleration data")
    if len(data) != expected:
        raise CodecError(
            PROTOCOL,
            f"register 0x{register:02x} notification must be {expected} bytes, got {len(data)}",
        )
    counts = read_int16_triplets(PROTOCOL, data[2:], "acceleration data")
    return AccFrame(
        g=counts.astype(np.float32) / np.float32(LSB_PER_G[range_g]),
        counts=counts,
        timestamps_ns=None,
        frame_time_ns=None,
        frame_time_index=None,
        sample_rate=None,
        frame_type=register,
        protocol=PROTOCOL,
    )


def counts_from_g(g: np.ndarray, range_g: int) -> np.ndarray:
    """Quantise g to counts for a range, clipped to int16 as the sensor saturates."""
    scaled = np.rint(np.asarray(g, dtype=np.float64) * LSB_PER_G[range_g])
    return np.clip(scaled, -(1 << 15), (1 << 15) - 1).astype(np.int64)


def encode_acc(counts: np.ndarray, chip: Chip | str, *, packed: bool) -> bytes:
    """Build an acceleration notification (device side).

    Parameters
    ----------
    counts : array of int, shape (1, 3) or (3,) single, (3, 3) packed
    chip : Chip
    packed : bool
    """
    arr = triplets(counts, "counts")
    want = PACKED_SAMPLES if packed else 1
    if arr.shape[0] != want:
        raise ValueError(
            f"a {'packed' if packed else 'single'} notification holds {want} samples, got {arr.shape[0]}"
        )
    register = PACKED_REGISTER[Chip(chip)] if packed else Register.DATA_INTERRUPT
    return bytes((MODULE_ACCELEROMETER, register)) + int16_values_bytes(arr, "counts")
