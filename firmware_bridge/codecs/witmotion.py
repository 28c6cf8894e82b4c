"""WitMotion BLE 5.0 IMUs (WT901BLECL, BWT901BLE and relatives).

Facts from BLE.md §3 and the WT901BLECL datasheet/manual §6 (manualshive.com and
38.142.81.21 mirrors of "WT901BLECL Datasheet v20-0707"; wit-motion.gitbook.io BLE 5.0
protocol):

- service ``0000ffe5-…-00805f9a34fb`` (note ``9a34fb``, not the SIG base), notify
  ``ffe4``, write ``ffe9``;
- data packet ``55 61`` + 9 x int16 LE: acceleration x, y, z, angular velocity x, y, z,
  angle roll, pitch, yaw = 20 bytes, no checksum; acc = raw / 32768 x 16 g,
  gyro = raw / 32768 x 2000 deg/s, angle = raw / 32768 x 180 deg;
- register read ``FF AA 27 <reg> 00`` is answered ``55 71 <reg lo> <reg hi>`` + 8 x int16
  (the register and the seven after it) = 20 bytes;
- register write ``FF AA <reg> <lo> <hi>``; unlock (10 s) ``FF AA 69 88 B5``; save
  ``FF AA 00 00 00``; register 0x03 is the return rate (RATE).

Packet lengths differ between models: a third party's WT901BLE68 captures
(``obedier/vib``) hold 16-byte 0x61 packets, i.e. acceleration, angular velocity and roll
only. The model's 0x61 length is therefore a parameter (``packet_length``, 20 by default);
fields a shorter packet lacks decode as NaN. A notification holds one or more whole
packets; the same ``55 61`` flag carries other payloads on other WitMotion product lines
(the WTVB vibration sensor), so identify the model first (BLE.md §3 caveats). Which RATE
register value gives which rate on the BLE models is not verified here, so no Hz table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hypnic.firmware_bridge.codecs._bytes import int16_values_bytes
from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "witmotion"

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

HEADER = 0x55
FLAG_DATA = 0x61
FLAG_REGISTERS = 0x71
DATA_PACKET_LENGTH = 20
REGISTER_PACKET_LENGTH = 20
REGISTERS_PER_REPLY = 8
MIN_DATA_PACKET_LENGTH = 8  # header + acceleration x, y, z

ACC_FULL_SCALE_G = 16.0
GYRO_FULL_SCALE_DPS = 2000.0
ANGLE_FULL_SCALE_DEG = 180.0
_FULL_SCALE = np.array(
    [ACC_FULL_SCALE_G] * 3 + [GYRO_FULL_SCALE_DPS] * 3 + [ANGLE_FULL_SCALE_DEG] * 3
)

COMMAND_PREFIX = b"\xff\xaa"
REGISTER_SAVE = 0x00
REGISTER_RATE = 0x03
REGISTER_READ = 0x27
REGISTER_KEY = 0x69
UNLOCK_KEY = 0xB588


@dataclass(frozen=True)
class DataPackets:
    """The 0x61 data packets of one notification, in physical units.

    Attributes
    ----------
    counts : ndarray of int32, shape (n, present)
        Raw fields as sent, in the order acceleration, angular velocity, angle.
    present : int
        Fields each packet carries (9 for 20-byte packets, 7 for the 16-byte variant).
    acc_g, gyro_dps, angle_deg : ndarray of float64, shape (n, 3)
        NaN where the packet lacks the field.
    """

    counts: np.ndarray
    present: int
    acc_g: np.ndarray
    gyro_dps: np.ndarray
    angle_deg: np.ndarray


@dataclass(frozen=True)
class RegisterReply:
    """A 0x71 register reply: ``values[i]`` is register ``start + i``."""

    start: int
    values: tuple[int, ...]


def _check_packet_length(packet_length: int) -> None:
    if packet_length % 2 or not MIN_DATA_PACKET_LENGTH <= packet_length <= DATA_PACKET_LENGTH:
        raise ValueError(
            f"packet_length must be even and {MIN_DATA_PACKET_LENGTH}..{DATA_PACKET_LENGTH}, "
            f"got {packet_length}"
        )


def split_notification(
    data: bytes | bytearray | memoryview, *, packet_length: int = DATA_PACKET_LENGTH
) -> tuple[list[bytes], list[bytes]]:
    """Split a notification into its 0x61 data packets and 0x71 register replies.

    Raises
    ------
    CodecError
        Empty, a byte where a packet should start that is not 0x55, an unknown flag, or a
        packet cut short.
    """
    _check_packet_length(packet_length)
    data = bytes(data)
    if not data:
        raise CodecError(PROTOCOL, "empty notification")
    lengths = {FLAG_DATA: packet_length, FLAG_REGISTERS: REGISTER_PACKET_LENGTH}
    data_packets, replies = [], []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 2 or data[offset] != HEADER:
            raise CodecError(PROTOCOL, f"no 55 <flag> packet header at byte {offset}")
        flag = data[offset + 1]
        if flag not in lengths:
            raise CodecError(PROTOCOL, f"unknown packet flag 0x{flag:02x} at byte {offset}")
        size = lengths[flag]
        if len(data) - offset < size:
            raise CodecError(
                PROTOCOL,
                f"0x{flag:02x} packet at byte {offset} has {len(data) - offset} of {size} bytes",
            )
        (data_packets if flag == FLAG_DATA else replies).append(data[offset : offset + size])
        offset += size
    return data_packets, replies


def decode_data(
    data: bytes | bytearray | memoryview, *, packet_length: int = DATA_PACKET_LENGTH
) -> DataPackets:
    """Decode every 0x61 data packet of a notification.

    Raises
    ------
    CodecError
        Malformed packets (see :func:`split_notification`) or no data packet at all.
    """
    packets, _ = split_notification(data, packet_length=packet_length)
    if not packets:
        raise CodecError(PROTOCOL, "notification holds no 0x61 data packet")
    present = (packet_length - 2) // 2
    raw = np.frombuffer(b"".join(p[2:] for p in packets), dtype="<i2").reshape(-1, present)
    counts = raw.astype(np.int32)
    physical = np.full((raw.shape[0], 9), np.nan)
    physical[:, :present] = raw / 32768.0 * _FULL_SCALE[:present]
    return DataPackets(counts, present, physical[:, 0:3], physical[:, 3:6], physical[:, 6:9])


def decode_acc(
    data: bytes | bytearray | memoryview,
    *,
    packet_length: int = DATA_PACKET_LENGTH,
    sample_rate: float | None = None,
) -> AccFrame:
    """Decode the accelerations of a notification's 0x61 packets (one sample each)."""
    packets = decode_data(data, packet_length=packet_length)
    return AccFrame(
        g=packets.acc_g.astype(np.float32),
        counts=packets.counts[:, 0:3],
        timestamps_ns=None,
        frame_time_ns=None,
        frame_time_index=None,
        sample_rate=sample_rate,
        frame_type=FLAG_DATA,
        protocol=PROTOCOL,
    )


def decode_register_replies(data: bytes | bytearray | memoryview) -> list[RegisterReply]:
    """Decode the 0x71 register replies of a notification (it may also hold data packets)."""
    _, replies = split_notification(data)
    return [
        RegisterReply(
            int.from_bytes(r[2:4], "little"),
            tuple(int(v) for v in np.frombuffer(r[4:], dtype="<i2")),
        )
        for r in replies
    ]


def encode_data(counts: np.ndarray, *, packet_length: int = DATA_PACKET_LENGTH) -> bytes:
    """Build a notification of 0x61 packets (device side).

    Parameters
    ----------
    counts : array of int, shape (n, k)
        Per packet the first ``k = (packet_length - 2) / 2`` fields (acceleration, angular
        velocity, angle); a shorter row is an error.
    """
    _check_packet_length(packet_length)
    arr = np.asarray(counts)
    present = (packet_length - 2) // 2
    if arr.ndim != 2 or arr.shape[1] != present or arr.shape[0] == 0:
        raise ValueError(f"counts must have shape (n, {present}) with n >= 1, got {arr.shape}")
    return b"".join(bytes((HEADER, FLAG_DATA)) + int16_values_bytes(row, "counts") for row in arr)


def counts_from_physical(acc_g=(0, 0, 0), gyro_dps=(0, 0, 0), angle_deg=(0, 0, 0)) -> np.ndarray:
    """Quantise one packet's physical values to the nine int16 fields, clipped to range."""
    values = np.concatenate(
        [np.asarray(v, dtype=np.float64).reshape(3) for v in (acc_g, gyro_dps, angle_deg)]
    )
    return np.clip(np.rint(values / _FULL_SCALE * 32768.0), -32768, 32767).astype(np.int64)


def build_register_reply(start: int, values: tuple[int, ...] | list[int]) -> bytes:
    """The device's 0x71 answer to a register read."""
    if len(values) != REGISTERS_PER_REPLY:
        raise ValueError(
            f"a register reply carries {REGISTERS_PER_REPLY} values, got {len(values)}"
        )
    return (
        bytes((HEADER, FLAG_REGISTERS))
        + int(start).to_bytes(2, "little")
        + int16_values_bytes(list(values), "register values")
    )


def write_register_command(register: int, value: int) -> bytes:
    """``FF AA <reg> <lo> <hi>``: set a register (unlock first, save after)."""
    if not 0 <= register <= 0xFF:
        raise ValueError(f"register {register} outside 0..255")
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"register value {value} does not fit 16 bits")
    return COMMAND_PREFIX + bytes((register,)) + value.to_bytes(2, "little")


def read_register_command(register: int) -> bytes:
    """``FF AA 27 <reg> 00``: ask for a 0x71 reply starting at ``register``."""
    return write_register_command(REGISTER_READ, register)


def unlock_command() -> bytes:
    """``FF AA 69 88 B5``: allow register writes for 10 s."""
    return write_register_command(REGISTER_KEY, UNLOCK_KEY)


def save_command() -> bytes:
    """``FF AA 00 00 00``: store the configuration."""
    return write_register_command(REGISTER_SAVE, 0)


@dataclass(frozen=True)
class RegisterWrite:
    """A command as the device sees it: ``value`` written to ``register``."""

    register: int
    value: int

    @property
    def is_read(self) -> bool:
        """A register read request (the value is the register to read)."""
        return self.register == REGISTER_READ

    @property
    def is_unlock(self) -> bool:
        """The unlock key."""
        return self.register == REGISTER_KEY and self.value == UNLOCK_KEY


def parse_command(data: bytes | bytearray | memoryview) -> RegisterWrite:
    """Interpret a write to the write characteristic (device side).

    Raises
    ------
    CodecError
        Not 5 bytes starting ``FF AA``.
    """
    data = bytes(data)
    if len(data) != 5 or data[:2] != COMMAND_PREFIX:
        raise CodecError(PROTOCOL, f"command {data.hex()} is not FF AA <reg> <lo> <hi>")
    return RegisterWrite(data[2], int.from_bytes(data[3:5], "little"))
