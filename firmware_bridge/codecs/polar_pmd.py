"""Polar Measurement Data (PMD) data frames: ACC decoding, encoding and sample times.

Verity Sense, H10 and OH1 stream acceleration as PMD frames on the data characteristic
(BLE.md §1.5; Polar SDK ``PmdDataFrame.kt``, ``model/AccData.kt`` and the PMD PDF table 6,
read for facts only, never ported):

====== =====================================================================
bytes  field
====== =====================================================================
0      measurement type (``& 0x3F``; ACC = 2)
1..8   u64 little-endian, ns since 2000-01-01T00:00:00Z on the device clock,
       the time of the **last** sample in the frame (BLE.md §1.7, Polar #700)
9      frame type: bit 7 (0x80) = delta-compressed, ``& 0x7F`` = type
10..   content
====== =====================================================================

ACC frame types and units (BLE.md §1.5):

- raw 0x00: int8 x,y,z; raw 0x01: int16 LE x,y,z; raw 0x02: int24 LE x,y,z; all in mG with no
  factor applied (the PMD PDF says raw type 0 is in G on the Verity Sense; unverified, decoded
  as mG like every other device);
- compressed 0x80 ("type 0"): 3 channels, 16-bit reference, counts x FACTOR = g;
- compressed 0x81 ("type 1"): 3 channels, 16-bit reference, counts x FACTOR = mG.

FACTOR comes from the start response (:mod:`~firmware_bridge.codecs.polar_pmd_control`).
The SDK converts to integer mG by truncation; :attr:`AccFrame.g` keeps the unrounded value
``float32(count) * float32(factor)`` (whose ``trunc(g * 1000)`` equals the SDK's mG on all 57
samples of Polar's own type-0 test frame). The control point lives in
:mod:`~firmware_bridge.codecs.polar_pmd_control`, the bit packing in
:mod:`~firmware_bridge.codecs.polar_pmd_delta`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError
from hypnic.firmware_bridge.codecs.polar_pmd_delta import decode_delta, encode_delta

PROTOCOL = "polar_pmd"

# GATT (BLE.md §1.2; SDK BlePMDClient.kt companion object)
SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

#: Add to a PMD time stamp to get Unix ns (Polar documentation/TimeSystemExplained.md).
POLAR_EPOCH_UNIX_NS = 946_684_800_000_000_000

HEADER_LENGTH = 10
_INT64_LIMIT = 1 << 63  # sample times are int64 (2**63 ns is 292 years after 2000)
COMPRESSED_BIT = 0x80
ACC_CHANNELS = 3
ACC_DELTA_RESOLUTION = 16  # AccData.kt: compressed ACC frames have a 16-bit reference


class MeasurementType(IntEnum):
    """PMD measurement types (SDK ``PmdMeasurementType.kt``; BLE.md §1.3)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAGNETOMETER = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_RECORDING = 13
    OFFLINE_HR = 14


class AccFrameType(IntEnum):
    """The ACC frame-type byte, compression bit included (``AccData.kt``; BLE.md §1.5)."""

    RAW_INT8 = 0x00
    RAW_INT16 = 0x01
    RAW_INT24 = 0x02
    DELTA_G = 0x80  # "type 0": counts * factor = g
    DELTA_MG = 0x81  # "type 1": counts * factor = mG


_RAW_BYTES_PER_AXIS = {
    AccFrameType.RAW_INT8: 1,
    AccFrameType.RAW_INT16: 2,
    AccFrameType.RAW_INT24: 3,
}


@dataclass(frozen=True)
class PmdFrame:
    """A PMD data notification split into its header fields and content.

    Attributes
    ----------
    measurement_type : int
        Byte 0 masked with 0x3F (a :class:`MeasurementType` value when known).
    timestamp_ns : int
        ns since 2000-01-01 UTC on the device clock, time of the frame's last sample.
    frame_type : int
        Byte 9 without the compression bit.
    compressed : bool
        Whether bit 0x80 of byte 9 is set.
    content : bytes
        Everything after the 10-byte header.
    """

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    content: bytes


def parse_frame(data: bytes | bytearray | memoryview) -> PmdFrame:
    """Split a PMD data notification into header fields and content.

    Raises
    ------
    CodecError
        Fewer than the 10 header bytes.
    """
    data = bytes(data)
    if len(data) < HEADER_LENGTH:
        raise CodecError(PROTOCOL, f"frame of {len(data)} bytes is shorter than the 10-byte header")
    frame_byte = data[9]
    return PmdFrame(
        measurement_type=data[0] & 0x3F,
        timestamp_ns=int.from_bytes(data[1:9], "little"),
        frame_type=frame_byte & 0x7F,
        compressed=bool(frame_byte & COMPRESSED_BIT),
        content=data[HEADER_LENGTH:],
    )


def build_frame(
    measurement_type: int, timestamp_ns: int, frame_type: int, compressed: bool, content: bytes
) -> bytes:
    """Assemble a PMD data notification from header fields and content (the device side)."""
    if not 0 <= measurement_type <= 0x3F:
        raise ValueError(f"measurement type {measurement_type} outside 0..63")
    if not 0 <= timestamp_ns < 1 << 64:
        raise ValueError(f"timestamp {timestamp_ns} does not fit an unsigned 64-bit integer")
    if not 0 <= frame_type <= 0x7F:
        raise ValueError(f"frame type {frame_type} outside 0..127")
    return (
        bytes((measurement_type,))
        + int(timestamp_ns).to_bytes(8, "little")
        + bytes((frame_type | (COMPRESSED_BIT if compressed else 0),))
        + bytes(content)
    )


class TimestampError(CodecError):
    """Per-sample times cannot be spread over a frame (Polar ``PmdTimeStampUtils`` errors)."""


def sample_timestamps(
    frame_timestamp_ns: int,
    n: int,
    *,
    sample_rate: float | None = None,
    prev_timestamp_ns: int = 0,
) -> np.ndarray:
    """Spread a frame's time stamp over its ``n`` samples (SDK ``PmdTimeStampUtils``).

    The frame time belongs to the last sample. With a previous frame time (``prev != 0``,
    kept per measurement type and frame type, cleared on stop and disconnect) the samples
    fill ``(prev, ts]`` evenly: ``delta = (ts - prev) / n``, ``t[i] = prev + delta * (i + 1)``.
    On the first frame (``prev == 0``) the sample rate gives ``delta = 1e9 / rate`` and
    ``t[i] = ts - delta * (n - 1 - i)``. Every time but the last is rounded half to even like
    Kotlin's ``round``; the last is ``ts`` exactly (BLE.md §1.7).

    The offsets are computed relative to ``prev`` (or ``ts``) and added as integers, so real
    frame times (~8e17 ns) keep ns precision where the SDK's doubles keep ~128 ns; the
    results equal the SDK's on all its test vectors.

    Parameters
    ----------
    frame_timestamp_ns : int
        The frame's time stamp (last sample), ns.
    n : int
        Samples in the frame, >= 1.
    sample_rate : float, optional
        Hz; needed when ``prev_timestamp_ns`` is 0.
    prev_timestamp_ns : int
        Time stamp of the previous frame of the same measurement and frame type, or 0.

    Returns
    -------
    ndarray of int64, shape (n,)

    Raises
    ------
    TimestampError
        ``prev == 0`` without a positive sample rate, a first sample at or before the
        epoch, or a frame time not after ``prev`` (device clock reset: call again with
        ``prev_timestamp_ns=0``).
    """
    if n < 1:
        raise ValueError(f"a frame has at least one sample, got n={n}")
    ts = int(frame_timestamp_ns)
    if ts >= _INT64_LIMIT:
        raise TimestampError(PROTOCOL, f"frame time {ts} ns is beyond the int64 range")
    if prev_timestamp_ns == 0:
        if sample_rate is None or not 0 < sample_rate < float("inf"):
            raise TimestampError(
                PROTOCOL, "no previous frame time and no positive sample rate to space samples"
            )
        delta = 1e9 / float(sample_rate)
        if not delta * (n - 1) < ts:  # also catches an infinite spacing
            raise TimestampError(
                PROTOCOL,
                f"first sample would fall at or before the epoch (frame time {ts} ns, "
                f"{n} samples at {sample_rate} Hz)",
            )
        times = _round_half_even(ts, -delta * (n - 1) + delta * np.arange(n, dtype=np.float64))
    else:
        prev = int(prev_timestamp_ns)
        if ts <= prev:
            raise TimestampError(
                PROTOCOL, f"frame time {ts} ns is not after the previous frame time {prev} ns"
            )
        delta = (ts - prev) / n
        times = _round_half_even(prev, delta + delta * np.arange(n, dtype=np.float64))
    times[-1] = ts
    return times


def _round_half_even(base: int, offsets: np.ndarray) -> np.ndarray:
    """Return ``round_half_even(base + offsets)`` for an exact integer ``base``.

    Rounding the offset alone would break ties toward an even *offset*; Kotlin rounds the
    absolute time, so a tie's direction depends on the parity of ``base``.
    """
    whole = np.floor(offsets)
    frac = offsets - whole
    whole_i = whole.astype(np.int64)
    odd = ((base & 1) ^ (whole_i & 1)).astype(bool)
    up = (frac > 0.5) | ((frac == 0.5) & odd)
    return base + whole_i + up


def acc_scale_g(frame_type: int, factor: float | None) -> tuple[np.float32, float]:
    """Return ``(multiplier, divisor)`` with ``g = float32(count) * multiplier / divisor``.

    Raises
    ------
    CodecError
        A compressed type-0 frame without the FACTOR from the start response.
    """
    if frame_type == AccFrameType.DELTA_G:
        if factor is None:
            raise CodecError(
                PROTOCOL,
                "compressed type-0 ACC frame (0x80) needs the FACTOR of the start response",
            )
        return np.float32(factor), 1.0
    if frame_type == AccFrameType.DELTA_MG:
        return np.float32(1.0 if factor is None else factor), 1000.0
    return np.float32(1.0), 1000.0  # raw frames are mG; the SDK applies no factor


def decode_acc(
    data: bytes | bytearray | memoryview,
    *,
    factor: float | None = None,
    sample_rate: float | None = None,
    prev_timestamp_ns: int = 0,
) -> AccFrame:
    """Decode one PMD ACC notification.

    Parameters
    ----------
    data : bytes-like
        The whole notification, header included.
    factor : float, optional
        FACTOR from the start response; required for compressed type 0 (0x80), defaults to
        1 for compressed type 1, ignored by raw frames (as in the SDK).
    sample_rate : float, optional
        The stream's sample rate in Hz (from the settings it was started with).
    prev_timestamp_ns : int
        Time stamp of the previous ACC frame of the same frame type, 0 for the first frame.

    Returns
    -------
    AccFrame
        ``timestamps_ns`` is filled when ``sample_rate`` or ``prev_timestamp_ns`` is given,
        else ``None`` (``frame_time_ns`` is always set).

    Raises
    ------
    CodecError
        Not an ACC frame, an unknown frame type, a content length that is not whole samples,
        an empty frame, malformed delta blocks, a missing FACTOR; :class:`TimestampError`
        when the sample times cannot be computed.
    """
    frame = parse_frame(data)
    if frame.measurement_type != MeasurementType.ACC:
        raise CodecError(
            PROTOCOL,
            f"measurement type {frame.measurement_type} is not ACC ({MeasurementType.ACC})",
        )
    frame_type = frame.frame_type | (COMPRESSED_BIT if frame.compressed else 0)
    if frame_type not in AccFrameType._value2member_map_:
        raise CodecError(PROTOCOL, f"unsupported ACC frame type 0x{frame_type:02x}")
    if frame.compressed:
        counts = decode_delta(frame.content, ACC_CHANNELS, ACC_DELTA_RESOLUTION)
    else:
        counts = _decode_raw(frame.content, _RAW_BYTES_PER_AXIS[AccFrameType(frame_type)])
    multiplier, divisor = acc_scale_g(frame_type, factor)
    g = counts.astype(np.float32) * multiplier
    if divisor != 1.0:
        g = (g / np.float32(divisor)).astype(np.float32)
    times = None
    if sample_rate is not None or prev_timestamp_ns:
        times = sample_timestamps(
            frame.timestamp_ns,
            counts.shape[0],
            sample_rate=sample_rate,
            prev_timestamp_ns=prev_timestamp_ns,
        )
    return AccFrame(
        g=g,
        counts=counts,
        timestamps_ns=times,
        frame_time_ns=frame.timestamp_ns,
        frame_time_index=counts.shape[0] - 1,
        sample_rate=None if sample_rate is None else float(sample_rate),
        frame_type=frame_type,
        protocol=PROTOCOL,
    )


def _decode_raw(content: bytes, nbytes: int) -> np.ndarray:
    stride = nbytes * ACC_CHANNELS
    if len(content) == 0 or len(content) % stride:
        raise CodecError(
            PROTOCOL,
            f"raw ACC content of {len(content)} bytes is not a non-empty multiple of "
            f"{stride} (3 x int{8 * nbytes})",
        )
    raw = np.frombuffer(content, dtype=np.uint8).reshape(-1, nbytes).astype(np.int64)
    values = np.zeros(raw.shape[0], dtype=np.int64)
    for k in range(nbytes):  # little-endian bytes
        values |= raw[:, k] << (8 * k)
    sign = np.int64(1) << (8 * nbytes - 1)
    values = (values ^ sign) - sign
    return values.reshape(-1, ACC_CHANNELS)


def counts_from_g(g: np.ndarray, frame_type: int, factor: float | None = None) -> np.ndarray:
    """Quantise acceleration in g to the integers a frame type carries (the device side).

    The inverse of the scaling in :func:`decode_acc`, rounded to the nearest count.
    """
    multiplier, divisor = acc_scale_g(AccFrameType(frame_type), factor)
    return np.rint(np.asarray(g, dtype=np.float64) * divisor / float(multiplier)).astype(np.int64)


def encode_acc(
    counts: np.ndarray,
    timestamp_ns: int,
    frame_type: int = AccFrameType.RAW_INT16,
    *,
    block_size: int = 255,
) -> bytes:
    """Build one PMD ACC notification from integer samples (the device side).

    Parameters
    ----------
    counts : array of int, shape (n, 3), n >= 1
        Samples in the frame type's units (mG for raw, factor units for compressed).
    timestamp_ns : int
        Device time of the last sample, ns since 2000-01-01 UTC.
    frame_type : int
        An :class:`AccFrameType`.
    block_size : int
        Deltas per block for compressed types.

    Returns
    -------
    bytes
    """
    arr = np.asarray(counts)
    if arr.ndim != 2 or arr.shape[1] != ACC_CHANNELS or arr.shape[0] == 0:
        raise ValueError(f"counts must have shape (n, 3) with n >= 1, got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"counts must be integers, got {arr.dtype}")
    kind = AccFrameType(frame_type)
    if kind & COMPRESSED_BIT:
        content = encode_delta(arr, ACC_DELTA_RESOLUTION, block_size=block_size)
    else:
        nbytes = _RAW_BYTES_PER_AXIS[kind]
        half = 1 << (8 * nbytes - 1)
        if arr.min() < -half or arr.max() >= half:
            raise ValueError(f"counts {arr.min()}..{arr.max()} do not fit int{8 * nbytes}")
        values = arr.astype(np.int64).ravel() & ((1 << (8 * nbytes)) - 1)
        shifts = 8 * np.arange(nbytes, dtype=np.int64)
        content = ((values[:, None] >> shifts) & 0xFF).astype(np.uint8).tobytes()
    compressed = bool(kind & COMPRESSED_BIT)
    return build_frame(MeasurementType.ACC, timestamp_ns, kind & 0x7F, compressed, content)
