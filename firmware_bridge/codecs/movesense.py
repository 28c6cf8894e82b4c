"""Movesense sensors running the *gatt_sensordata_app* firmware sample.

The stock Movesense firmware speaks its own MDS protocol through the vendor's mobile
libraries; this codec covers the open GATT sample instead (BLE.md §3; Movesense
``samples/gatt_sensordata_app/GATTSensorDataClient.cpp`` as mirrored in
``alexisduque/movesense-device-lib``, and ``MovesenseCoreLib/resources/movesense-api/
meas/acc.yaml``; read for facts only):

- command (write): ``[command][client reference, not 0][data]`` with HELLO 0, SUBSCRIBE 1
  (data = resource path, e.g. ``/Meas/Acc/52``), UNSUBSCRIBE 2 (reference of the
  subscription);
- notification: ``[type][client reference][payload]`` with type 1 = command result and
  type 2 = subscription data; HELLO is answered ``01 ref 'Hello'``, a failed subscribe
  with a 2-byte HTTP-like code, big-endian in the firmware (507 is sent ``01 fb``);
- ``/Meas/Acc`` data: u32 LE time stamp in ms of the **first** sample (device clock), then
  N x float32 LE x, y, z in m/s^2; N = (len - 6) / 12 depends on rate and firmware, so any
  remainder is malformed (BLE.md §3 caveats).

Acceleration is converted to g with standard gravity 9.80665 m/s^2 (ISO 80000-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "movesense"

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
DATA_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

STANDARD_GRAVITY = 9.80665  # m/s^2 per g
#: Rates ``/Meas/Acc/<rate>`` accepts on common firmware (``/Meas/Acc/Info`` lists the device's).
ACC_RATES_HZ = (13, 26, 52, 104, 208, 416, 833, 1666)
HELLO_TEXT = b"Hello"
_ACC_HEADER = 2 + 4  # type, reference, u32 time stamp
_SAMPLE_BYTES = 12  # three float32


class Command(IntEnum):
    """Commands written to the command characteristic (``enum Commands``)."""

    HELLO = 0
    SUBSCRIBE = 1
    UNSUBSCRIBE = 2


class NotificationType(IntEnum):
    """First byte of a data-characteristic notification (``enum Responses``)."""

    COMMAND_RESULT = 1
    DATA = 2


def _reference(reference: int) -> int:
    if not 1 <= reference <= 255:
        raise ValueError(f"client reference must be 1..255 (0 is reserved), got {reference}")
    return reference


def acc_path(rate_hz: int) -> str:
    """The resource path of the acceleration stream at a rate, e.g. ``/Meas/Acc/52``."""
    if rate_hz not in ACC_RATES_HZ:
        raise ValueError(f"acceleration rate {rate_hz} Hz is not one of {ACC_RATES_HZ}")
    return f"/Meas/Acc/{rate_hz}"


def hello_command(reference: int) -> bytes:
    """HELLO: the device answers ``01 ref 'Hello'``."""
    return bytes((Command.HELLO, _reference(reference)))


def subscribe_command(reference: int, path: str) -> bytes:
    """SUBSCRIBE to a resource, e.g. ``subscribe_command(99, acc_path(52))``."""
    encoded = path.encode("ascii")
    if not encoded.startswith(b"/"):
        raise ValueError(f"resource path must start with '/', got {path!r}")
    return bytes((Command.SUBSCRIBE, _reference(reference))) + encoded


def unsubscribe_command(reference: int) -> bytes:
    """UNSUBSCRIBE the subscription made with ``reference``."""
    return bytes((Command.UNSUBSCRIBE, _reference(reference)))


@dataclass(frozen=True)
class MovesenseCommand:
    """A command as the device sees it; ``path`` is set for SUBSCRIBE."""

    command: Command
    reference: int
    path: str | None = None


def parse_command(data: bytes | bytearray | memoryview) -> MovesenseCommand:
    """Interpret a write to the command characteristic (device side).

    Raises
    ------
    CodecError
        Shorter than 2 bytes, an unknown command, reference 0, a SUBSCRIBE without an ASCII
        path, or trailing bytes after HELLO/UNSUBSCRIBE.
    """
    data = bytes(data)
    if len(data) < 2:
        raise CodecError(PROTOCOL, f"command of {len(data)} bytes, need at least 2")
    if data[0] not in Command._value2member_map_:
        raise CodecError(PROTOCOL, f"unknown command {data[0]}")
    command, reference = Command(data[0]), data[1]
    if reference == 0:
        raise CodecError(PROTOCOL, "client reference 0 is reserved")
    if command == Command.SUBSCRIBE:
        try:
            path = data[2:].decode("ascii")
        except UnicodeDecodeError:
            raise CodecError(PROTOCOL, "subscribe path is not ASCII") from None
        if not path.startswith("/"):
            raise CodecError(PROTOCOL, f"subscribe path {path!r} does not start with '/'")
        return MovesenseCommand(command, reference, path)
    if len(data) != 2:
        raise CodecError(PROTOCOL, f"{command.name} takes no data, got {len(data) - 2} bytes")
    return MovesenseCommand(command, reference)


@dataclass(frozen=True)
class CommandResult:
    """A type-1 notification: HELLO's answer (``hello``) or a result code."""

    reference: int
    hello: bool
    code: int | None


def parse_command_result(data: bytes | bytearray | memoryview) -> CommandResult:
    """Parse a command-result notification.

    Raises
    ------
    CodecError
        Not type 1, or a payload that is neither ``Hello`` nor a 2-byte code.
    """
    data = bytes(data)
    if len(data) < 2 or data[0] != NotificationType.COMMAND_RESULT:
        raise CodecError(PROTOCOL, f"notification {data[:2].hex()} is not a command result")
    payload = data[2:]
    if payload == HELLO_TEXT:
        return CommandResult(data[1], True, None)
    if len(payload) != 2:
        raise CodecError(PROTOCOL, f"command result payload {payload.hex()} is not a 2-byte code")
    return CommandResult(data[1], False, int.from_bytes(payload, "big"))


def build_hello_response(reference: int) -> bytes:
    """Device answer to HELLO."""
    return bytes((NotificationType.COMMAND_RESULT, _reference(reference))) + HELLO_TEXT


def build_command_result(reference: int, code: int) -> bytes:
    """Device result code for a command, big-endian like the firmware's ``01 fb`` for 507."""
    if not 0 <= code <= 0xFFFF:
        raise ValueError(f"result code {code} does not fit 2 bytes")
    return bytes((NotificationType.COMMAND_RESULT, _reference(reference))) + code.to_bytes(2, "big")


def decode_acc(
    data: bytes | bytearray | memoryview, *, sample_rate: float | None = None
) -> AccFrame:
    """Decode a ``/Meas/Acc`` data notification.

    Parameters
    ----------
    data : bytes-like
        The whole notification: ``02 ref`` + u32 ms + N x 3 float32.
    sample_rate : float, optional
        The subscribed rate; when given, sample ``i`` is stamped ``t0 + i / rate``.

    Returns
    -------
    AccFrame
        ``counts`` is ``None`` (the device sends floats); ``frame_time_ns`` is the first
        sample's device time.

    Raises
    ------
    CodecError
        Not a data notification, no samples, a partial sample, or a non-finite value.
    """
    data = bytes(data)
    if len(data) < 2 or data[0] != NotificationType.DATA:
        raise CodecError(PROTOCOL, f"notification {data[:2].hex()} is not subscription data")
    body = len(data) - _ACC_HEADER
    if body <= 0 or body % _SAMPLE_BYTES:
        raise CodecError(
            PROTOCOL,
            f"acceleration notification of {len(data)} bytes is not 6 + a non-zero multiple of 12",
        )
    if data[1] == 0:
        raise CodecError(PROTOCOL, "data notification has the reserved client reference 0")
    t0_ms = int.from_bytes(data[2:6], "little")
    m_s2 = np.frombuffer(data, dtype="<f4", offset=_ACC_HEADER).reshape(-1, 3)
    if not np.isfinite(m_s2).all():
        raise CodecError(PROTOCOL, "acceleration notification holds NaN or infinite values")
    n = m_s2.shape[0]
    times = None
    if sample_rate is not None:
        if not 0 < sample_rate < float("inf"):
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        times = t0_ms * 1_000_000 + np.rint(np.arange(n) * (1e9 / sample_rate)).astype(np.int64)
    return AccFrame(
        g=(m_s2.astype(np.float64) / STANDARD_GRAVITY).astype(np.float32),
        counts=None,
        timestamps_ns=times,
        frame_time_ns=t0_ms * 1_000_000,
        frame_time_index=0,
        sample_rate=None if sample_rate is None else float(sample_rate),
        frame_type=NotificationType.DATA,
        protocol=PROTOCOL,
    )


def encode_acc(reference: int, timestamp_ms: int, m_s2: np.ndarray) -> bytes:
    """Build a ``/Meas/Acc`` data notification (device side).

    Parameters
    ----------
    reference : int
        The subscription's client reference.
    timestamp_ms : int
        Device time of the first sample, ms (u32, wraps like the device's).
    m_s2 : array of float, shape (n, 3), n >= 1
        Acceleration in m/s^2 (multiply g by :data:`STANDARD_GRAVITY`).
    """
    arr = np.asarray(m_s2, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] == 0:
        raise ValueError(f"m_s2 must have shape (n, 3) with n >= 1, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("m_s2 must be finite")
    header = bytes((NotificationType.DATA, _reference(reference)))
    return (
        header
        + (int(timestamp_ms) & 0xFFFFFFFF).to_bytes(4, "little")
        + arr.astype("<f4").tobytes()
    )
