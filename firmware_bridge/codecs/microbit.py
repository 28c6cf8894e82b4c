"""BBC micro:bit accelerometer service (DAL/CODAL Bluetooth profile).

Facts from BLE.md §3, the Lancaster micro:bit profile documentation
(lancaster-university.github.io/microbit-docs/ble/accelerometer-service/) and the DAL's
``MicroBitAccelerometerService.cpp`` (read for facts only):

- data characteristic: int16 LE x, y, z in milli-g, **one sample per notification**;
- period characteristic: u16 LE milliseconds; the documented values are 1, 2, 5, 10, 20, 80,
  160 and 640; the DAL hands any written value to ``setPeriod``, which picks the nearest
  period the accelerometer supports, and writes the period actually used back into the
  characteristic (its ``onDataWritten`` reads the first two bytes of a write of >= 2).

No time stamp is sent.
"""

from __future__ import annotations

import numpy as np

from hypnic.firmware_bridge.codecs._bytes import (
    int16_values_bytes,
    need_length,
    read_int16_triplets,
    triplets,
)
from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "microbit"

SERVICE_UUID = "e95d0753-251d-470a-a062-fa1922dfa9a8"
DATA_UUID = "e95dca4b-251d-470a-a062-fa1922dfa9a8"
PERIOD_UUID = "e95dfb24-251d-470a-a062-fa1922dfa9a8"

PERIODS_MS = (1, 2, 5, 10, 20, 80, 160, 640)
DATA_LENGTH = 6


def decode_acc(
    data: bytes | bytearray | memoryview, *, sample_rate: float | None = None
) -> AccFrame:
    """Decode one accelerometer notification (6 bytes, milli-g) as a one-sample frame.

    Raises
    ------
    CodecError
        Not 6 bytes.
    """
    data = bytes(data)
    need_length(PROTOCOL, data, DATA_LENGTH, "accelerometer notification")
    counts = read_int16_triplets(PROTOCOL, data, "accelerometer notification")
    return AccFrame(
        g=counts.astype(np.float32) / np.float32(1000.0),
        counts=counts,
        timestamps_ns=None,
        frame_time_ns=None,
        frame_time_index=None,
        sample_rate=sample_rate,
        frame_type=0,
        protocol=PROTOCOL,
    )


def encode_acc(milli_g: np.ndarray) -> bytes:
    """Build one accelerometer notification from an x, y, z triple in milli-g (device side)."""
    arr = triplets(milli_g, "milli_g")
    if arr.shape[0] != 1:
        raise ValueError(f"a micro:bit notification holds one sample, got {arr.shape[0]}")
    return int16_values_bytes(arr, "milli_g")


def encode_period(period_ms: int) -> bytes:
    """The value a client writes to select a documented period (u16 LE ms)."""
    if period_ms not in PERIODS_MS:
        raise ValueError(f"period {period_ms} ms is not one of the documented {PERIODS_MS}")
    return int(period_ms).to_bytes(2, "little")


def decode_period(data: bytes | bytearray | memoryview) -> int:
    """Read the period characteristic (u16 LE ms).

    Raises
    ------
    CodecError
        Not 2 bytes.
    """
    data = bytes(data)
    need_length(PROTOCOL, data, 2, "period value")
    return int.from_bytes(data, "little")


def parse_period_write(data: bytes | bytearray | memoryview) -> int:
    """The requested period of a write to the period characteristic (device side).

    Like the DAL, the first two bytes of a write of two or more bytes are used.

    Raises
    ------
    CodecError
        Fewer than 2 bytes.
    """
    data = bytes(data)
    if len(data) < 2:
        raise CodecError(PROTOCOL, f"period write of {len(data)} bytes, need 2")
    return int.from_bytes(data[:2], "little")


def effective_period(requested_ms: int) -> int:
    """The period the device settles on: the nearest documented one (ties: the shorter).

    The DAL's choice on an exact tie is not documented; the shorter period is ours.
    """
    return min(PERIODS_MS, key=lambda p: (abs(p - requested_ms), p))
