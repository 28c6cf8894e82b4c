"""Nordic Thingy:52 (stock firmware) motion service: raw motion data and configuration.

Facts from BLE.md §3 and Nordic-Thingy52-FW ``include/ble_services/ble_tms.h``
(``ble_tms_raw_t``, ``ble_tms_config_t`` and its ``BLE_TMS_CONFIG_*`` limits),
``source/.../ble_tms.c`` (UUIDs) and ``m_motion.c`` (``RAW_Q_FORMAT_*_INTEGER_BITS``); read
for facts only:

- raw data characteristic, 18 bytes, one sample per notification: int16 LE accelerometer
  x, y, z in Q6.10 (/1024 -> g), gyroscope x, y, z in Q11.5 (/32 -> deg/s), compass x, y, z
  in Q12.4 (/16 -> uT); the accelerometer is signed (DevZone 47415/65198: the iOS app's
  unsigned read was a bug);
- configuration characteristic, 9 bytes packed: u16 pedometer interval ms (100..5000),
  u16 temperature interval ms (100..5000), u16 compass interval ms (100..5000),
  u16 motion processing frequency Hz (1..200), u8 wake-on-motion (0..1).

No time stamp is sent; the raw rate is ``motion_freq_hz``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from hypnic.firmware_bridge.codecs._bytes import (
    int16_values_bytes,
    need_length,
    read_int16_triplets,
    triplets,
)
from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "thingy52"

MOTION_SERVICE_UUID = "ef680400-9b35-4933-9b10-52ffa9740042"
CONFIG_UUID = "ef680401-9b35-4933-9b10-52ffa9740042"
RAW_DATA_UUID = "ef680406-9b35-4933-9b10-52ffa9740042"

RAW_LENGTH = 18
ACCEL_FRACTION_BITS = 10  # Q6.10
GYRO_FRACTION_BITS = 5  # Q11.5
COMPASS_FRACTION_BITS = 4  # Q12.4

_CONFIG_FORMAT = "<HHHHB"
CONFIG_LENGTH = struct.calcsize(_CONFIG_FORMAT)
# inclusive limits per config field, from ble_tms.h
_CONFIG_LIMITS = {
    "pedometer_interval_ms": (100, 5000),
    "temperature_interval_ms": (100, 5000),
    "compass_interval_ms": (100, 5000),
    "motion_freq_hz": (1, 200),
    "wake_on_motion": (0, 1),
}


@dataclass(frozen=True)
class MotionConfig:
    """The motion service configuration (``ble_tms_config_t``)."""

    pedometer_interval_ms: int
    temperature_interval_ms: int
    compass_interval_ms: int
    motion_freq_hz: int
    wake_on_motion: int

    def problems(self) -> list[str]:
        """Fields outside the firmware's limits, as readable strings (empty when valid)."""
        out = []
        for name, (lo, hi) in _CONFIG_LIMITS.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                out.append(f"{name}={value} outside {lo}..{hi}")
        return out


def parse_config(data: bytes | bytearray | memoryview) -> MotionConfig:
    """Parse the configuration characteristic (a client's read, or a write on the device).

    Raises
    ------
    CodecError
        Not 9 bytes, or a field outside the firmware's limits.
    """
    data = bytes(data)
    need_length(PROTOCOL, data, CONFIG_LENGTH, "motion configuration")
    config = MotionConfig(*struct.unpack(_CONFIG_FORMAT, data))
    if problems := config.problems():
        raise CodecError(PROTOCOL, "motion configuration " + ", ".join(problems))
    return config


def build_config(config: MotionConfig) -> bytes:
    """Serialise a configuration (raises ``ValueError`` outside the firmware's limits)."""
    if problems := config.problems():
        raise ValueError("motion configuration " + ", ".join(problems))
    return struct.pack(
        _CONFIG_FORMAT,
        config.pedometer_interval_ms,
        config.temperature_interval_ms,
        config.compass_interval_ms,
        config.motion_freq_hz,
        config.wake_on_motion,
    )


@dataclass(frozen=True)
class RawMotion:
    """One raw-data notification in physical units.

    Attributes
    ----------
    counts : ndarray of int32, shape (3, 3)
        Rows accelerometer, gyroscope, compass as sent.
    accel_g, gyro_dps, compass_ut : ndarray of float64, shape (3,)
    """

    counts: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray
    compass_ut: np.ndarray


def decode_raw(data: bytes | bytearray | memoryview) -> RawMotion:
    """Decode the 18-byte raw motion notification.

    Raises
    ------
    CodecError
        Not 18 bytes.
    """
    data = bytes(data)
    need_length(PROTOCOL, data, RAW_LENGTH, "raw motion notification")
    counts = read_int16_triplets(PROTOCOL, data, "raw motion notification")
    return RawMotion(
        counts=counts,
        accel_g=counts[0] / float(1 << ACCEL_FRACTION_BITS),
        gyro_dps=counts[1] / float(1 << GYRO_FRACTION_BITS),
        compass_ut=counts[2] / float(1 << COMPASS_FRACTION_BITS),
    )


def decode_acc(
    data: bytes | bytearray | memoryview, *, sample_rate: float | None = None
) -> AccFrame:
    """Decode the accelerometer part of a raw motion notification as a one-sample frame."""
    raw = decode_raw(data)
    return AccFrame(
        g=raw.accel_g[None, :].astype(np.float32),
        counts=raw.counts[:1],
        timestamps_ns=None,
        frame_time_ns=None,
        frame_time_index=None,
        sample_rate=sample_rate,
        frame_type=0,
        protocol=PROTOCOL,
    )


def encode_raw(
    accel_counts: np.ndarray,
    gyro_counts: np.ndarray = (0, 0, 0),
    compass_counts: np.ndarray = (0, 0, 0),
) -> bytes:
    """Build a raw motion notification from int16 counts (device side)."""
    parts = [
        triplets(c, name)
        for c, name in ((accel_counts, "accel"), (gyro_counts, "gyro"), (compass_counts, "compass"))
    ]
    for part, name in zip(parts, ("accel", "gyro", "compass"), strict=True):
        if part.shape[0] != 1:
            raise ValueError(f"{name} must be one x, y, z triple, got shape {part.shape}")
    return int16_values_bytes(np.concatenate(parts), "raw motion counts")


def accel_counts_from_g(g: np.ndarray) -> np.ndarray:
    """Quantise g to Q6.10 counts, clipped to int16 (+-32 g)."""
    scaled = np.rint(np.asarray(g, dtype=np.float64) * (1 << ACCEL_FRACTION_BITS))
    return np.clip(scaled, -(1 << 15), (1 << 15) - 1).astype(np.int64)
