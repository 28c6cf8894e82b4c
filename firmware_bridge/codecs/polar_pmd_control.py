"""Polar PMD control point: requests, responses, settings TLVs and the device side.

Facts from BLE.md §1.3 (Polar SDK ``PmdControlPointCommand.kt``,
``PmdControlPointResponse.kt``, ``PmdSetting.kt``, ``PmdMeasurementType.kt``,
``PmdRecordingType.kt``; PMD PDF tables 4-5; read for facts only, never ported):

- request: ``[op code][(recording type << 7) | measurement type][parameters]``;
  a start request's parameters are the selected settings, each with count 1, FACTOR never sent.
- response notification: ``[0xF0][op code][measurement type][status][more][parameters]``;
  ``more`` (read only when status is SUCCESS) says further notifications follow, whose
  bytes from index 5 on continue the parameters.
- a control-point notification whose byte 0 is not 0xF0 is a device-initiated command;
  ``0x01`` = ONLINE_MEASUREMENT_STOPPED followed by the stopped measurement types.
- the control point's plain read (features): ``[0x0F][bitmap lo][bitmap hi]``; bit k of
  the little-endian bitmap is measurement type k.
- settings TLV: ``[type u8][count u8][count x value]`` little-endian; sizes by type below.

The device-side pieces (:func:`parse_request`, :func:`build_response`,
:func:`split_response`, :class:`PmdControlPointServer`) let a simulated sensor speak the
same bytes. Which status a real device answers in each failure case is not documented;
the choices in :class:`PmdControlPointServer` are ours and are listed in its docstring.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from hypnic.firmware_bridge.codecs.errors import CodecError
from hypnic.firmware_bridge.codecs.polar_pmd import MeasurementType

PROTOCOL = "polar_pmd"

RESPONSE_CODE = 0xF0
FEATURES_CODE = 0x0F
RESPONSE_HEADER_LENGTH = 5


class OpCode(IntEnum):
    """Client-to-device commands (``PmdControlPointCommandClientToService``)."""

    GET_MEASUREMENT_SETTINGS = 1
    REQUEST_MEASUREMENT_START = 2
    STOP_MEASUREMENT = 3
    GET_SDK_MODE_MEASUREMENT_SETTINGS = 4
    GET_MEASUREMENT_STATUS = 5
    GET_SDK_MODE_STATUS = 6
    GET_OFFLINE_RECORDING_TRIGGER_STATUS = 7
    SET_OFFLINE_RECORDING_TRIGGER_MODE = 8
    SET_OFFLINE_RECORDING_TRIGGER_SETTINGS = 9


class DeviceCommand(IntEnum):
    """Device-initiated control-point commands (``processPmdCpCommand``)."""

    ONLINE_MEASUREMENT_STOPPED = 1


class RecordingType(IntEnum):
    """Bit 7 of the request's measurement byte (``PmdRecordingType.asBitField``)."""

    ONLINE = 0
    OFFLINE = 1


class Status(IntEnum):
    """Response status codes (``PmdControlPointResponse.kt``)."""

    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13
    DISK_FULL = 14


#: What each status means, in words a user can act on.
STATUS_MEANING: dict[Status, str] = {
    Status.SUCCESS: "success",
    Status.INVALID_OP_CODE: "the device does not know this command",
    Status.INVALID_MEASUREMENT_TYPE: "the device does not know this measurement type",
    Status.NOT_SUPPORTED: "the device does not support this measurement or command",
    Status.INVALID_LENGTH: "the request has the wrong length",
    Status.INVALID_PARAMETER: "a setting in the request is not valid",
    Status.ALREADY_IN_STATE: "the measurement is already started (or already stopped)",
    Status.INVALID_RESOLUTION: "the requested resolution is not supported",
    Status.INVALID_SAMPLE_RATE: "the requested sample rate is not supported",
    Status.INVALID_RANGE: "the requested range is not supported",
    Status.INVALID_MTU: "the connection's MTU is too small for this stream",
    Status.INVALID_NUMBER_OF_CHANNELS: "the requested number of channels is not supported",
    Status.INVALID_STATE: "the device is in a state that forbids this (e.g. SDK mode change while streaming)",
    Status.DEVICE_IN_CHARGER: "the device is in its charger",
    Status.DISK_FULL: "the device's storage is full",
}


class SettingType(IntEnum):
    """Settings TLV types (``PmdSetting.kt``; PDF table 5)."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6


# struct format of one value per setting type; RANGE_MILLIUNIT is signed (Polar's
# PmdSettingTest reads ff ff ff ff as -1), FACTOR an IEEE-754 float32, SECURITY 16 raw bytes
_VALUE_FORMAT: dict[SettingType, str] = {
    SettingType.SAMPLE_RATE: "<H",
    SettingType.RESOLUTION: "<H",
    SettingType.RANGE: "<H",
    SettingType.RANGE_MILLIUNIT: "<i",
    SettingType.CHANNELS: "<B",
    SettingType.FACTOR: "<f",
    SettingType.SECURITY: "16s",
}

SettingValue = int | float | bytes
Settings = dict[SettingType, tuple[SettingValue, ...]]


def _value_size(setting: SettingType) -> int:
    return struct.calcsize(_VALUE_FORMAT[setting])


def parse_settings(data: bytes | bytearray | memoryview) -> Settings:
    """Parse a settings TLV block (a GET_SETTINGS or start response's parameters).

    Returns
    -------
    dict
        :class:`SettingType` -> tuple of values (int; float for FACTOR; bytes for SECURITY).

    Raises
    ------
    CodecError
        Unknown setting type, a setting given twice, or a truncated entry.
    """
    data = bytes(data)
    settings: Settings = {}
    offset = 0
    while offset < len(data):
        if len(data) - offset < 2:
            raise CodecError(PROTOCOL, f"settings entry header truncated at byte {offset}")
        code, count = data[offset], data[offset + 1]
        offset += 2
        if code not in SettingType._value2member_map_:
            raise CodecError(PROTOCOL, f"unknown setting type {code} at byte {offset - 2}")
        setting = SettingType(code)
        if setting in settings:
            raise CodecError(PROTOCOL, f"setting {setting.name} appears twice")
        size = _value_size(setting)
        if len(data) - offset < count * size:
            raise CodecError(
                PROTOCOL,
                f"setting {setting.name} announces {count} values of {size} bytes, "
                f"only {len(data) - offset} bytes left",
            )
        fmt = _VALUE_FORMAT[setting]
        settings[setting] = tuple(
            struct.unpack_from(fmt, data, offset + i * size)[0] for i in range(count)
        )
        offset += count * size
    return settings


def build_settings(settings: Mapping[int, Sequence[SettingValue]]) -> bytes:
    """Serialise settings as a TLV block, in setting-type order (device side of GET_SETTINGS)."""
    out = bytearray()
    for code in sorted(settings):
        setting = SettingType(code)
        values = tuple(settings[code])
        if len(values) > 255:
            raise ValueError(f"setting {setting.name} has {len(values)} values, at most 255 fit")
        out += bytes((setting, len(values)))
        for value in values:
            try:
                out += struct.pack(_VALUE_FORMAT[setting], value)
            except struct.error as exc:
                raise ValueError(f"setting {setting.name} value {value!r}: {exc}") from None
    return bytes(out)


def measurement_byte(measurement_type: int, recording_type: int = RecordingType.ONLINE) -> int:
    """The request's second byte: ``(recording type << 7) | measurement type``."""
    if not 0 <= measurement_type <= 0x3F:
        raise ValueError(f"measurement type {measurement_type} outside 0..63")
    return (RecordingType(recording_type) << 7) | measurement_type


def build_request(
    op_code: int,
    measurement_type: int,
    *,
    recording_type: int = RecordingType.ONLINE,
    parameters: bytes = b"",
) -> bytes:
    """Assemble a control-point write (client side)."""
    return bytes((OpCode(op_code), measurement_byte(measurement_type, recording_type))) + parameters


def get_settings_request(measurement_type: int = MeasurementType.ACC) -> bytes:
    """GET_MEASUREMENT_SETTINGS, e.g. ``01 02`` for ACC."""
    return build_request(OpCode.GET_MEASUREMENT_SETTINGS, measurement_type)


def start_request(measurement_type: int, selected: Mapping[int, SettingValue]) -> bytes:
    """REQUEST_MEASUREMENT_START with one value per selected setting (FACTOR is never sent).

    ``start_request(ACC, {SAMPLE_RATE: 200, RESOLUTION: 16, RANGE: 8})`` gives
    ``02 02 00 01 c8 00 01 01 10 00 02 01 08 00`` (BLE.md §1.3).
    """
    if SettingType.FACTOR in selected:
        raise ValueError("FACTOR is read from the start response, never sent in a start request")
    tlv = build_settings({code: (value,) for code, value in selected.items()})
    return build_request(OpCode.REQUEST_MEASUREMENT_START, measurement_type, parameters=tlv)


def stop_request(measurement_type: int = MeasurementType.ACC) -> bytes:
    """STOP_MEASUREMENT, e.g. ``03 02`` for ACC (send it on every shutdown, BLE.md §1.8)."""
    return build_request(OpCode.STOP_MEASUREMENT, measurement_type)


@dataclass(frozen=True)
class PmdRequest:
    """A control-point write as the device sees it.

    Attributes
    ----------
    op_code : int
        An :class:`OpCode` value when known.
    measurement_type : int
    recording_type : RecordingType
    parameters : bytes
        Everything after the two command bytes.
    """

    op_code: int
    measurement_type: int
    recording_type: RecordingType
    parameters: bytes

    def settings(self) -> Settings:
        """The parameters parsed as a settings TLV (for a start request)."""
        return parse_settings(self.parameters)


def parse_request(data: bytes | bytearray | memoryview) -> PmdRequest:
    """Split a control-point write into its fields (device side).

    Raises
    ------
    CodecError
        Fewer than two bytes.
    """
    data = bytes(data)
    if len(data) < 2:
        raise CodecError(PROTOCOL, f"control-point request of {len(data)} bytes, need at least 2")
    return PmdRequest(
        op_code=data[0],
        measurement_type=data[1] & 0x3F,
        recording_type=RecordingType(data[1] >> 7),
        parameters=data[2:],
    )


@dataclass(frozen=True)
class PmdResponse:
    """A control-point response notification.

    Attributes
    ----------
    op_code : int
        The request's op code, echoed.
    measurement_type : int
    status : int
        A :class:`Status` value when known.
    more : bool
        Further notifications continue the parameters.
    parameters : bytes
    """

    op_code: int
    measurement_type: int
    status: int
    more: bool
    parameters: bytes

    @property
    def ok(self) -> bool:
        """Whether the status is SUCCESS."""
        return self.status == Status.SUCCESS

    @property
    def status_text(self) -> str:
        """The status's name and meaning, e.g. ``"INVALID_RANGE: the requested range ..."``."""
        if self.status in Status._value2member_map_:
            status = Status(self.status)
            return f"{status.name}: {STATUS_MEANING[status]}"
        return f"status {self.status}: not a documented PMD status"

    def settings(self) -> Settings:
        """The parameters parsed as a settings TLV (GET_SETTINGS and start responses)."""
        return parse_settings(self.parameters)


def parse_response(data: bytes | bytearray | memoryview) -> PmdResponse:
    """Parse one control-point response notification (client side).

    Raises
    ------
    CodecError
        Not starting with 0xF0, shorter than 4 bytes, or a SUCCESS without its ``more`` byte.
    """
    data = bytes(data)
    if len(data) < 4:
        raise CodecError(PROTOCOL, f"control-point response of {len(data)} bytes, need at least 4")
    if data[0] != RESPONSE_CODE:
        raise CodecError(PROTOCOL, f"control-point response starts with 0x{data[0]:02x}, not 0xf0")
    status = data[3]
    if status != Status.SUCCESS:
        return PmdResponse(data[1], data[2] & 0x3F, status, False, b"")
    if len(data) < RESPONSE_HEADER_LENGTH:
        raise CodecError(PROTOCOL, "successful control-point response lacks its 'more' byte")
    return PmdResponse(data[1], data[2] & 0x3F, status, data[4] != 0, data[RESPONSE_HEADER_LENGTH:])


def join_responses(parts: Sequence[PmdResponse]) -> PmdResponse:
    """Join a response continued over several notifications (``more`` set on all but the last).

    Raises
    ------
    CodecError
        No parts, parts of different commands, a part after one without ``more``, or a last
        part that still announces more.
    """
    if not parts:
        raise CodecError(PROTOCOL, "no response notifications to join")
    first = parts[0]
    for i, part in enumerate(parts):
        if (part.op_code, part.measurement_type) != (first.op_code, first.measurement_type):
            raise CodecError(PROTOCOL, f"response part {i} answers a different command")
        if part.more != (i < len(parts) - 1):
            raise CodecError(PROTOCOL, f"response part {i} has more={part.more} out of sequence")
    return PmdResponse(
        first.op_code,
        first.measurement_type,
        first.status,
        False,
        b"".join(p.parameters for p in parts),
    )


def build_response(
    op_code: int,
    measurement_type: int,
    status: int = Status.SUCCESS,
    parameters: bytes = b"",
    *,
    more: bool = False,
) -> bytes:
    """Assemble one response notification (device side)."""
    if status != Status.SUCCESS and (parameters or more):
        raise ValueError("an error response carries no parameters and no continuation")
    return bytes((RESPONSE_CODE, op_code, measurement_type, status, 1 if more else 0)) + parameters


def split_response(
    op_code: int,
    measurement_type: int,
    status: int,
    parameters: bytes,
    max_length: int,
) -> list[bytes]:
    """Split a response into notifications of at most ``max_length`` bytes (MTU - 3).

    Every notification repeats the 5-byte header; all but the last have ``more`` set.
    """
    room = max_length - RESPONSE_HEADER_LENGTH
    if room < 1:
        raise ValueError(f"max_length {max_length} leaves no room after the 5-byte header")
    if status != Status.SUCCESS or len(parameters) <= room:
        return [build_response(op_code, measurement_type, status, parameters)]
    chunks = [parameters[i : i + room] for i in range(0, len(parameters), room)]
    return [
        build_response(op_code, measurement_type, status, chunk, more=i < len(chunks) - 1)
        for i, chunk in enumerate(chunks)
    ]


@dataclass(frozen=True)
class MeasurementStopped:
    """Device-initiated ONLINE_MEASUREMENT_STOPPED: the stream ended on the device's side."""

    measurement_types: tuple[int, ...]


def parse_control_notification(
    data: bytes | bytearray | memoryview,
) -> PmdResponse | MeasurementStopped:
    """Parse any control-point notification: a response, or a device-initiated command.

    Raises
    ------
    CodecError
        An empty notification, an unknown device command, or a malformed response.
    """
    data = bytes(data)
    if not data:
        raise CodecError(PROTOCOL, "empty control-point notification")
    if data[0] == RESPONSE_CODE:
        return parse_response(data)
    if data[0] == DeviceCommand.ONLINE_MEASUREMENT_STOPPED:
        return MeasurementStopped(tuple(b & 0x3F for b in data[1:]))
    raise CodecError(PROTOCOL, f"unknown device-initiated control-point command 0x{data[0]:02x}")


def build_measurement_stopped(measurement_types: Iterable[int]) -> bytes:
    """The device-initiated ONLINE_MEASUREMENT_STOPPED notification (device side)."""
    return bytes((DeviceCommand.ONLINE_MEASUREMENT_STOPPED, *measurement_types))


def parse_features(data: bytes | bytearray | memoryview) -> frozenset[int]:
    """Parse the control point's read value into the measurement types the device offers.

    Raises
    ------
    CodecError
        Not starting with 0x0F, or no bitmap byte.
    """
    data = bytes(data)
    if len(data) < 2 or data[0] != FEATURES_CODE:
        raise CodecError(PROTOCOL, f"feature read {data.hex()} is not 0x0f followed by a bitmap")
    bitmap = int.from_bytes(data[1:3], "little")
    return frozenset(k for k in range(16) if bitmap >> k & 1)


def build_features(measurement_types: Iterable[int]) -> bytes:
    """The control point's read value for the given measurement types (device side)."""
    bitmap = 0
    for code in measurement_types:
        if not 0 <= code < 16:
            raise ValueError(f"measurement type {code} has no bit in the 16-bit feature map")
        bitmap |= 1 << code
    return bytes((FEATURES_CODE,)) + bitmap.to_bytes(2, "little")


# status answered when a start request's setting is not among the offered values
_INVALID_SETTING_STATUS = {
    SettingType.SAMPLE_RATE: Status.INVALID_SAMPLE_RATE,
    SettingType.RESOLUTION: Status.INVALID_RESOLUTION,
    SettingType.RANGE: Status.INVALID_RANGE,
    SettingType.RANGE_MILLIUNIT: Status.INVALID_RANGE,
    SettingType.CHANNELS: Status.INVALID_NUMBER_OF_CHANNELS,
}


@dataclass
class PmdControlPointServer:
    """The device side of the control point, for a simulated sensor.

    Parameters
    ----------
    available : mapping
        Measurement type -> the settings it offers (what GET_MEASUREMENT_SETTINGS returns).
    factors : mapping
        Measurement type -> FACTOR returned in its start response (Verity Sense ACC);
        types without one get an empty start response, like the H10.
    max_notification_length : int
        Longest response notification (ATT MTU - 3); longer responses are split with ``more``.

    Notes
    -----
    Statuses for failures are our choice where Polar documents none: an unparsable request
    gets INVALID_LENGTH, an undefined op code INVALID_OP_CODE, an undefined measurement type
    INVALID_MEASUREMENT_TYPE, a type or command the device lacks (and any offline request)
    NOT_SUPPORTED, a start of a running or stop of an idle stream ALREADY_IN_STATE, a
    setting value not offered the matching INVALID_* status, a setting type not offered or
    sent with a count other than 1 INVALID_PARAMETER. Settings a start request leaves out
    take the first offered value.
    """

    available: Mapping[int, Mapping[int, Sequence[SettingValue]]]
    factors: Mapping[int, float] = field(default_factory=dict)
    max_notification_length: int = 512
    running: dict[int, dict[SettingType, SettingValue]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for mt, offered in self.available.items():
            for code, values in offered.items():
                if not tuple(values):
                    raise ValueError(f"measurement {mt} offers no value for setting {code}")

    def features(self) -> bytes:
        """The value a client reads from the control point."""
        return build_features(self.available)

    def handle(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Answer one control-point write with its response notification(s)."""
        data = bytes(data)
        if not data:
            raise CodecError(PROTOCOL, "empty control-point write")
        if len(data) < 2:
            return [build_response(data[0], 0, Status.INVALID_LENGTH)]
        request = parse_request(data)
        status, parameters = self._answer(request)
        return split_response(
            request.op_code,
            request.measurement_type,
            status,
            parameters if status == Status.SUCCESS else b"",
            self.max_notification_length,
        )

    def stop_all(self) -> bytes | None:
        """End every running stream from the device's side; the notification to send, if any."""
        if not self.running:
            return None
        stopped = build_measurement_stopped(sorted(self.running))
        self.running.clear()
        return stopped

    def _answer(self, request: PmdRequest) -> tuple[Status, bytes]:
        if request.op_code not in OpCode._value2member_map_:
            return Status.INVALID_OP_CODE, b""
        if request.measurement_type not in MeasurementType._value2member_map_:
            return Status.INVALID_MEASUREMENT_TYPE, b""
        offered = self.available.get(request.measurement_type)
        if offered is None or request.recording_type != RecordingType.ONLINE:
            return Status.NOT_SUPPORTED, b""
        op = OpCode(request.op_code)
        mt = request.measurement_type
        if op == OpCode.GET_MEASUREMENT_SETTINGS:
            if request.parameters:
                return Status.INVALID_LENGTH, b""
            return Status.SUCCESS, build_settings(offered)
        if op == OpCode.REQUEST_MEASUREMENT_START:
            return self._start(mt, request, offered)
        if op == OpCode.STOP_MEASUREMENT:
            if mt not in self.running:
                return Status.ALREADY_IN_STATE, b""
            del self.running[mt]
            return Status.SUCCESS, b""
        return Status.NOT_SUPPORTED, b""

    def _start(
        self, mt: int, request: PmdRequest, offered: Mapping[int, Sequence[SettingValue]]
    ) -> tuple[Status, bytes]:
        if mt in self.running:
            return Status.ALREADY_IN_STATE, b""
        try:
            requested = request.settings()
        except CodecError:
            return Status.INVALID_LENGTH, b""
        chosen: dict[SettingType, SettingValue] = {}
        for setting in map(SettingType, sorted(offered)):
            values = requested.pop(setting, None)
            if values is None:  # left out: the device's first offered value
                chosen[setting] = tuple(offered[setting])[0]
            elif len(values) != 1:
                return Status.INVALID_PARAMETER, b""
            elif values[0] not in tuple(offered[setting]):
                return _INVALID_SETTING_STATUS.get(setting, Status.INVALID_PARAMETER), b""
            else:
                chosen[setting] = values[0]
        if requested:  # a setting type this measurement does not offer
            return Status.INVALID_PARAMETER, b""
        self.running[mt] = chosen
        factor = self.factors.get(mt)
        if factor is None:
            return Status.SUCCESS, b""
        return Status.SUCCESS, build_settings({SettingType.FACTOR: (factor,)})
