"""ActiGraph ``.gt3x`` files (GT3X+, wGT3X+, wGT3X-BT, ActiSleep, GT9X): a zip of ``info.txt`` and
``log.bin``; the older NHANES-era layout (``activity.bin``) is read too.

Format (ActiGraph's public GT3X-File-Format and NHANES-GT3X-File-Format documentation):
``info.txt`` holds ``Key: Value`` lines (``Sample Rate`` in Hz, ``Start Date`` in .NET ticks,
``TimeZone``, ``Acceleration Scale`` ...). ``log.bin`` is a sequence of records: separator
``0x1E``, type, 4-byte timestamp (seconds, device local time), 2-byte payload size, payload,
and a 1-byte checksum (one's complement of the XOR of header and payload). One ``ACTIVITY``
record (type 0x00) holds one second of samples packed as 12-bit values in YXZ order; one
``ACTIVITY2`` record (0x1A) holds one second as little-endian int16 in XYZ order; a 1-byte
payload in either marks a USB connection, not samples. Counts are divided by the
``ACCEL_SCALE`` of the ``PARAMETERS`` record (0x15) when present, else by ``info.txt``'s
``Acceleration Scale``, else by the documented default (341 for NEO/CLE serials, 256 for MOS).
``activity.bin`` (NHANES layout) is one continuous stream of 12-bit YXZ samples from
``Start Date`` at ``Sample Rate``, 341 counts per g.

Written here: pygt3x (ActiGraph's reader) is GPL-3 and needs pandas, actfast reads whole files
into memory; the format is small and documented.

Samples in a record are at ``timestamp + i / fs``. A record with a bad checksum gives no samples
and its span goes into ``stream.gaps``; after one, the reader looks for the next record that
checks out. A record whose timestamp does not move forward is dropped. Timestamps are local
time; ``info.txt``'s ``TimeZone`` gives the UTC offset.

Idle sleep mode. With it switched on (PARAMETERS ``FEATURE_ENABLE`` bit 2, reported in
``meta["idle_sleep_mode"]``) the device stops sampling while it lies still and writes no
ACTIVITY records until it moves again. Those seconds are not lost data, and read as gaps they
would cut a night into hundreds of pieces. The device says when it paused: an EVENT record
(type 0x03) with the 1-byte payload 0x08 when it enters idle sleep, 0x09 when it leaves (the
records pygt3x turns into its ``IdleSleepMode`` flag and AGread into its ``idle`` periods). A
second without records is idle only when these events bracket it, never merely because no record
is there: the seconds from the end of the last sample to the "leave" event are filled with the
last sample before the pause (forward fill, as pygt3x does and the parsers built on it, e.g.
labda-parsers, by default), listed in ``stream.idle`` and never reported as gaps. The device
stops inside a second and logs "enter" at the next whole second, so up to
:data:`_IDLE_LEAD_S` between the last sample and "enter" belongs to the pause (pygt3x fills it
too); a longer stretch before it, or one after "leave" before the next record, stays a jump in
``t`` (``seconds_without_records``) or a gap after damage: data really lost. A pause whose "leave" event is missing ends at the next
ACTIVITY record, or at the file's last record (``idle_without_end_event``). Seconds without
records and without these events are not filled in: ``t`` jumps there, as it does in the file.

Temperature and light (``stream.aux``), where the file has them (decided from the first
records and archive members, so a file without them simply has no such channel):

* SENSOR_DATA records (type 0x19, GT9X Link with the IMU on) laid out by a SENSOR_SCHEMA record
  (0x18) whose ``Temperature`` column, divided by its scale plus the PARAMETERS
  ``IMU_TEMP_OFFSET`` (21 degC when absent), is degC (ActiGraph's sample code, AGread); one mean
  per record (one second). Checked against ActiLife's IMU CSV of AGread's example file
  (inst/extdata, MIT): 23 s in common, largest difference 8e-6 degC.
* TEMPERATURE records (type 0x1E, CentrePoint Insight Watch): the accelerometer chip's reading,
  else the microcontroller's, through ``temperature_calibration.json`` (pygt3x's method 1);
  checked against pygt3x's calibrated CSVs of its test file (3201 records, both sensors, equal
  to 4e-15 degC).
* LUX records (type 0x05, one a second): counts to lux by the serial's scale and ceiling
  (AGread's table), ``light`` in lux; none when the serial is not in the table.

Each reading is placed at its record's whole-second timestamp.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hypnic.recordings.devices._packing import unpack12
from hypnic.recordings.devices._stream import (
    CHUNK_SAMPLES,
    DECODE_ERRORS,
    Batch,
    DecodeState,
    device_stream,
    placement_from_text,
)
from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

_ZIP_MAGIC = b"PK\x03\x04"
_GT3X_MEMBERS = {
    b"log.bin",
    b"info.txt",
    b"activity.bin",
    b"lux.bin",
    b"calibration.json",
    b"eeprom.bin",
}
_SEPARATOR = 0x1E
_ACTIVITY, _METADATA, _PARAMETERS, _ACTIVITY2 = 0x00, 0x06, 0x15, 0x1A
# Record types of the auxiliary readings and the idle sleep events (pygt3x's Types enum; the
# GT3X-File-Format LogRecords documents for SENSOR_SCHEMA and SENSOR_DATA).
_EVENT, _LUX, _SENSOR_SCHEMA, _SENSOR_DATA, _TEMPERATURE = 0x03, 0x05, 0x18, 0x19, 0x1E
# EVENT payloads: the device enters (0x08) and leaves (0x09) idle sleep mode (pygt3x, AGread).
_IDLE_ON, _IDLE_OFF = 0x08, 0x09
# Seconds between the last record and the "enter idle sleep" event that are taken as part of the
# pause: the device stops sampling inside a second and writes no record for that partial second,
# then logs the event at the next whole second (121 of 492 pauses of the shared Link file).
_IDLE_LEAD_S = 1.0
# PARAMETERS keys (LogRecords/Parameters.md): FEATURE_ENABLE (bit 2 = sleep mode),
# SENSOR_CONFIGURATION (bit 3 = IMU temperature), IMU_TEMP_OFFSET (degC added to the IMU's
# temperature column; 21 when absent, as ActiGraph's sample code and AGread assume).
_FEATURE_ENABLE_KEY, _SENSOR_CONFIGURATION_KEY, _IMU_TEMP_OFFSET_KEY = (1, 2), (1, 44), (0, 58)
_DEFAULT_IMU_TEMP_OFFSET = 21.0
# LUX records: counts to lux and the sensor's ceiling by serial prefix, and counts below which the
# reading is 0 (AGread's table and rule, which follow ActiLife's lux output).
_LUX_BY_SERIAL = (
    ("NEO", 1.25, 2500.0),
    ("CLE", 1.25, 2500.0),
    ("MRA", 3.25, 6000.0),
    ("MOS1", 2.05, 5000.0),
    ("MOS2", 2.05, 5000.0),
    ("MOS3", 2.67, 6500.0),
    ("MOS4", 2.67, 6500.0),
)
_LUX_FLOOR_COUNTS = 20
_TEMPERATURE_CALIBRATION = "temperature_calibration.json"
_RECORD_HEAD = struct.Struct("<BBIH")  # separator, type, timestamp, payload size
_READ_BYTES = 1 << 22
# .NET ticks (100 ns since 0001-01-01) of the Unix epoch.
_TICKS_PER_S = 10_000_000
_UNIX_EPOCH_TICKS = 621_355_968_000_000_000
# PARAMETERS record: address space 0, identifier 55 = ACCEL_SCALE (LogRecords/Parameters.md).
_ACCEL_SCALE_KEY = (0, 55)
# Counts per g when nothing in the file says (LogRecords/Activity2.md; NHANES activity.bin.md).
_SCALE_BY_SERIAL = (("NEO", 341.0), ("CLE", 341.0), ("MRA", 341.0), ("MOS", 256.0))
_NHANES_SCALE = 341.0
_INFO_MAX_BYTES = 1 << 16
# zipfile's answers to members it will not read (unknown compression, encryption).
_ZIP_REFUSALS = (NotImplementedError, RuntimeError)
_PRESCAN_BYTES = 1 << 20


def sniff(head: bytes, path: Path | None = None) -> bool:
    """Whether the file is a zip whose first member is a ``.gt3x`` part (``log.bin`` ...)."""
    if len(head) < 30 or head[:4] != _ZIP_MAGIC:
        return False
    name_length = int.from_bytes(head[26:28], "little")
    if head[30 : 30 + name_length] in _GT3X_MEMBERS:
        return True
    if path is None:
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, *_ZIP_REFUSALS):
        return False
    return "info.txt" in names and ("log.bin" in names or "activity.bin" in names)


def decode_parameter_float(value: int) -> float:
    """A PARAMETERS float: 24-bit two's-complement fraction (value / 2^23) times 2^exponent,
    the exponent a signed byte on top (LogRecords/Parameters.md)."""
    if value == 0x007FFFFF:
        return float("inf")
    if value == 0x00800000:
        return float("-inf")
    exponent = value >> 24
    if exponent & 0x80:
        exponent -= 256
    fraction = value & 0xFFFFFF
    if fraction & 0x800000:
        fraction -= 1 << 24
    return fraction / float(1 << 23) * 2.0**exponent


def _checksum_ok(buf: bytes, at: int, size: int) -> bool:
    block = np.frombuffer(buf, dtype=np.uint8, count=8 + size, offset=at)
    return (~int(np.bitwise_xor.reduce(block))) & 0xFF == buf[at + 8 + size]


def _checksums_ok(arr: np.ndarray, offsets: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Checksums of many records at once, grouped by payload size."""
    ok = np.zeros(len(offsets), dtype=bool)
    for size in np.unique(sizes):
        sel = np.flatnonzero(sizes == size)
        at = offsets[sel]
        rows = arr[at[:, None] + np.arange(8 + int(size))]
        xor = np.bitwise_xor.reduce(rows, axis=1)
        ok[sel] = (~xor & 0xFF) == arr[at + 8 + int(size)]
    return ok


class _Walk:
    """Splits log.bin bytes into records, resynchronising after damaged bytes."""

    def __init__(self) -> None:
        self.damage = 0  # damaged stretches met (bad separators or sizes)
        self.pending = False  # damage met since the last record returned

    def _resync(self, buf: bytes, at: int, final: bool) -> int:
        """Position of the next record that checks out, or where to wait for more bytes."""
        self.damage += 1
        self.pending = True
        while True:
            at = buf.find(bytes((_SEPARATOR,)), at)
            if at < 0:
                return len(buf)
            if at + 8 > len(buf):
                return len(buf) if final else at
            size = int.from_bytes(buf[at + 6 : at + 8], "little")
            if at + 9 + size > len(buf):
                if not final:
                    return at
            elif _checksum_ok(buf, at, size):
                return at
            at += 1

    def split(self, buf: bytes, final: bool) -> tuple[list[tuple[int, int, int, int, bool]], int]:
        """Records ``(offset, type, timestamp, size, damage_before)`` wholly in ``buf``, and
        where to go on; ``damage_before`` says damaged bytes came before the record."""
        records = []
        at, n = 0, len(buf)
        while at < n:
            byte = buf[at]
            if byte == 0x00:
                at += 1  # "extra bytes with 0's between valid records" (README) are harmless
                continue
            if byte != _SEPARATOR:
                at = self._resync(buf, at + 1, final)
                continue
            if at + 8 > n:
                if final:
                    at = self._resync(buf, at + 1, final)
                    continue
                break
            _, kind, timestamp, size = _RECORD_HEAD.unpack_from(buf, at)
            end = at + 9 + size
            if end > n:
                if final:
                    at = self._resync(buf, at + 1, final)
                    continue
                break
            if end < n and buf[end] not in (_SEPARATOR, 0x00) and not _checksum_ok(buf, at, size):
                at = self._resync(buf, at + 1, final)  # the size field itself is damaged
                continue
            records.append((at, kind, timestamp, size, self.pending))
            self.pending = False
            at = end
        return records, at


def _member_chunks(
    source: Path, info: zipfile.ZipInfo, read_bytes: int, state: DecodeState
) -> Iterator[bytes]:
    """The bytes of one archive member, read without zipfile's whole-member CRC check.

    log.bin checks every record itself, so one damaged byte should cost one record, not the
    file (zipfile raises on a CRC mismatch at the member's end). A deflate stream that stops
    decoding ends the member there; ``state`` records how many bytes were not read.
    """
    if info.flag_bits & 0x1:
        raise InputError(source, ".gt3x archive is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(
            source, f".gt3x archive uses compression method {info.compress_type}, not read here"
        )
    with open(source, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != _ZIP_MAGIC:
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        name_length, extra_length = struct.unpack_from("<HH", local, 26)
        fh.seek(info.header_offset + 30 + name_length + extra_length)
        inflate = (
            zlib.decompressobj(-zlib.MAX_WBITS)
            if info.compress_type == zipfile.ZIP_DEFLATED
            else None
        )
        remaining, produced = info.compress_size, 0
        while remaining > 0:
            raw = fh.read(min(read_bytes, remaining))
            if not raw:
                break
            remaining -= len(raw)
            if inflate is None:
                produced += len(raw)
                yield raw
                continue
            try:
                while raw:
                    # Bounded output per call: a small damaged input cannot expand without limit.
                    out = inflate.decompress(raw, read_bytes)
                    raw = inflate.unconsumed_tail
                    produced += len(out)
                    if out:
                        yield out
            except zlib.error:
                break
    if produced < info.file_size:
        state.count("log_bin_bytes_unread", info.file_size - produced)


def _records(
    chunks: Iterator[bytes], walk: _Walk
) -> Iterator[tuple[bytes, list[tuple[int, int, int, int, bool]]]]:
    """``(buffer, records)`` pairs over the chunks of log.bin."""
    carry = b""
    for more in chunks:
        buf = carry + more
        records, used = walk.split(buf, final=False)
        yield buf, records
        carry = buf[used:]
    if carry:
        records, _ = walk.split(carry, final=True)
        yield carry, records


def _samples_in(kind: int, size: int) -> int:
    return size * 8 // 36 if kind == _ACTIVITY else size // 6


@dataclass(frozen=True)
class SensorColumn:
    """One column of a SENSOR_SCHEMA record (LogRecords/SensorSchema.md)."""

    label: str
    offset: int  # bytes from the start of a row
    size: int  # bytes
    signed: bool
    big_endian: bool
    scale: float  # the encoded value divided by this gives the unit (0: not scaled)


def parse_sensor_schema(payload: bytes) -> tuple[int, list[SensorColumn]] | None:
    """The id and columns of a SENSOR_SCHEMA payload, or None when it is malformed.

    Layout (ActiGraph's sample code): id, column count and samples per record as int16, then 23
    bytes a column: flags (bit 0 big-endian, bit 1 signed), bit offset, bit size, a PARAMETERS
    float scale factor and a 16-byte space-padded ASCII label.
    """
    if len(payload) < 6:
        return None
    schema_id, columns, _ = struct.unpack_from("<hhh", payload, 0)
    if columns < 0 or 6 + 23 * columns > len(payload):
        return None
    out = []
    for i in range(columns):
        at = 6 + 23 * i
        flags, offset, size = payload[at], payload[at + 1], payload[at + 2]
        (value,) = struct.unpack_from("<I", payload, at + 3)
        scale = decode_parameter_float(value)
        label = payload[at + 7 : at + 23].decode("ascii", errors="replace").strip(" \x00")
        out.append(
            SensorColumn(
                label=label,
                offset=offset // 8,
                size=size // 8,
                signed=bool(flags & 2),
                big_endian=bool(flags & 1),
                scale=round(scale, 6) if np.isfinite(scale) else 0.0,
            )
        )
    return schema_id, out


def _temperature_column(columns: list[SensorColumn]) -> SensorColumn | None:
    return next((c for c in columns if c.label.lower() == "temperature"), None)


def sensor_data_temperature(
    payload: bytes, columns: list[SensorColumn], offset_c: float
) -> float | None:
    """Mean temperature (degC) of one SENSOR_DATA record, or None when it has none.

    Each row holds every column in turn; the temperature column's value divided by its scale,
    plus the IMU temperature offset of the PARAMETERS record, is degC (ActiGraph's sample code,
    AGread). The IMU samples the temperature with every row (up to 100 a second); one mean per
    record (one second) is plenty for skin temperature and keeps the channel small.
    """
    column = _temperature_column(columns)
    row = sum(c.size for c in columns)
    if column is None or row <= 0 or column.size not in (1, 2) or column.offset + column.size > row:
        return None
    n = (len(payload) - 2) // row
    if n <= 0:
        return None
    rows = np.frombuffer(payload, dtype=np.uint8, count=n * row, offset=2).reshape(n, row)
    raw = np.ascontiguousarray(rows[:, column.offset : column.offset + column.size])
    if column.size == 2:
        kind = (">" if column.big_endian else "<") + ("i2" if column.signed else "u2")
        values = raw.view(kind).reshape(-1).astype(np.float64)
    else:
        values = raw.reshape(-1).view(np.int8 if column.signed else np.uint8).astype(np.float64)
    if column.scale:
        values = values / column.scale
    return float(values.mean()) + offset_c


class TemperatureCalibration:
    """Turns TEMPERATURE records (type 30) into degC with ``temperature_calibration.json``.

    A record holds 3-byte entries: a sensor byte (0 = the microcontroller's ADC, unsigned; 1 =
    the accelerometer chip's, signed) and a 16-bit little-endian reading. Calibration method 1
    maps each sensor's readings at two chamber temperatures linearly (pygt3x's
    ``calibrate_temperature``); ``isCalibrated`` true means the readings are degC already. The
    accelerometer chip's sensor is used when the file has it: it draws little current, so it
    warms itself less than the microcontroller and follows the skin more closely.

    Parameters
    ----------
    calibration : dict
        The parsed ``temperature_calibration.json``.

    Raises
    ------
    ValueError
        A calibration method or fields this reader does not know.
    """

    _KEYS = {0: ("mcuTempLow", "mcuTempHigh"), 1: ("adxlTempLow", "adxlTempHigh")}

    def __init__(self, calibration: dict[str, Any]) -> None:
        if not isinstance(calibration, dict):
            raise ValueError("temperature calibration is not a JSON object")
        self.identity = bool(calibration.get("isCalibrated"))
        self.maps: dict[int, tuple[float, float]] = {}
        if self.identity:
            return
        if calibration.get("calibrationMethod") != 1:
            method = calibration.get("calibrationMethod")
            raise ValueError(f"temperature calibration method {method!r}")
        low, high = float(calibration["tempLow"]), float(calibration["tempHigh"])
        for sensor, (lo_key, hi_key) in self._KEYS.items():
            if lo_key in calibration and hi_key in calibration:
                lo, hi = float(calibration[lo_key]), float(calibration[hi_key])
                if hi != lo:
                    gain = (high - low) / (hi - lo)
                    self.maps[sensor] = (gain, low - lo * gain)
        if not self.maps:
            raise ValueError("temperature calibration without sensor readings")

    def celsius(self, payload: bytes) -> float | None:
        """degC of one TEMPERATURE record (accelerometer chip first), or None."""
        readings: dict[int, int] = {}
        for at in range(0, len(payload) - len(payload) % 3, 3):
            sensor = payload[at]
            if sensor in (0, 1):
                raw = payload[at + 1 : at + 3]
                readings[sensor] = int.from_bytes(raw, "little", signed=sensor == 1)
        for sensor in (1, 0):
            if sensor in readings:
                if self.identity:
                    return float(readings[sensor])
                if sensor in self.maps:
                    gain, offset = self.maps[sensor]
                    return readings[sensor] * gain + offset
        return None


def lux_from_counts(counts: int, scale: float, ceiling: float) -> float:
    """Lux of a LUX record's 16-bit count: counts below 20 read 0, others ``round(counts *
    scale)`` up to the sensor's ceiling (AGread's conversion of ActiLife's lux)."""
    if counts < _LUX_FLOOR_COUNTS:
        return 0.0
    return float(min(round(counts * scale), ceiling))


def lux_scale(serial: str) -> tuple[float, float] | None:
    """Counts-to-lux factor and ceiling of a device by its serial prefix, or None if unknown."""
    serial = serial.upper()
    for prefix, scale, ceiling in _LUX_BY_SERIAL:
        if serial.startswith(prefix):
            return scale, ceiling
    return None


@dataclass
class _AuxConfig:
    """How this file's auxiliary records become channels (decided before reading)."""

    temperature: TemperatureCalibration | None = None
    imu_temp_offset: float = _DEFAULT_IMU_TEMP_OFFSET
    lux: tuple[float, float] | None = None
    channels: tuple[str, ...] = ()


class _LogDecoder:
    """log.bin records to batches of samples, auxiliary readings and idle spans."""

    def __init__(
        self,
        source: Path,
        zf: zipfile.ZipFile,
        fs: float,
        scale: float,
        state: DecodeState,
        chunk_samples: int,
        aux: _AuxConfig | None = None,
    ) -> None:
        self.source = source
        self.zf = zf
        self.fs = fs
        self.scale = scale
        self.state = state
        self.read_bytes = max(1 << 16, min(_READ_BYTES, int(chunk_samples / fs) * 300))
        self.walk = _Walk()
        self.last_second: int | None = None
        self.floor: float | None = None  # end of the last record handed on (s from origin)
        self.seen_damage = 0
        self.aux = aux or _AuxConfig()
        self.schemas: dict[int, list[SensorColumn]] = {}
        self.idle_from: float | None = None  # second (from origin) of an open "enter idle" event
        self.last_record: int | None = None  # second of the last good record of any type
        self.last_xyz: np.ndarray | None = None  # the last sample handed on (for idle fills)

    def _decode(self, arr: np.ndarray, picked: list[tuple[int, int, int, int]]) -> Batch:
        counts = np.fromiter(
            (_samples_in(k, s) for _, k, _, s in picked), dtype=np.int64, count=len(picked)
        )
        total = int(counts.sum())
        out_at = np.cumsum(counts) - counts
        xyz = np.empty((total, 3), dtype=np.float32)
        kinds = np.fromiter((k for _, k, _, _ in picked), dtype=np.int64, count=len(picked))
        sizes = np.fromiter((s for _, _, _, s in picked), dtype=np.int64, count=len(picked))
        offsets = np.fromiter((o for o, _, _, _ in picked), dtype=np.int64, count=len(picked))
        for kind, size in {(int(k), int(s)) for k, s in zip(kinds, sizes, strict=True)}:
            sel = np.flatnonzero((kinds == kind) & (sizes == size))
            n = _samples_in(kind, size)
            payload = arr[(offsets[sel] + 8)[:, None] + np.arange(size)]
            if kind == _ACTIVITY:
                width = -(-size // 3) * 3
                padded = np.zeros((len(sel), width), dtype=np.uint8)
                padded[:, :size] = payload
                yxz = unpack12(padded)[:, : 3 * n].reshape(len(sel), n, 3)
                values = yxz[:, :, [1, 0, 2]]
            else:
                values = payload[:, : 6 * n].copy().view("<i2").reshape(len(sel), n, 3)
            rows = out_at[sel][:, None] + np.arange(n)
            xyz[rows.ravel()] = (values.reshape(-1, 3) / self.scale).astype(np.float32)
        seconds = np.fromiter((ts for _, _, ts, _ in picked), dtype=np.int64, count=len(picked))
        first = np.repeat(out_at, counts)
        t = (
            np.repeat((seconds - self.state.origin).astype(np.float64), counts)
            + (np.arange(total) - first) / self.fs
        )
        return Batch(t, xyz)

    # -- idle sleep mode

    def _idle_fill(self, end: float) -> tuple[float, int] | None:
        """Close the open pause at ``end`` (s from origin): where its fill starts and how many
        samples it holds, or None when there is nothing to fill."""
        start, self.idle_from = self.idle_from, None
        if start is None or self.floor is None:
            return None  # a pause before the first sample: nothing to repeat, before t = 0
        if self.floor < start <= self.floor + _IDLE_LEAD_S + 1e-9:
            start = self.floor
        start = max(start, self.floor)
        n = int(round((end - start) * self.fs))
        if n <= 0:
            return None
        if start > self.floor:
            # Records stopped well before the device said it went idle: those seconds are lost
            # (or damaged), not idle; they stay a jump in t as any other stretch without records.
            self._no_records(start)
        self.state.idle.append([start, start + n / self.fs])
        self.state.count("idle_seconds", int(round(n / self.fs)))
        self.floor = start + n / self.fs
        self.last_second = int(np.ceil(self.state.origin + end)) - 1
        self.seen_damage = 0  # the device was asleep: nothing was lost in between
        return start, n

    def _no_records(self, start: float) -> None:
        assert self.floor is not None
        if self.seen_damage:
            self.state.gaps.append([self.floor, start])
        else:
            self.state.count("seconds_without_records", int(round(start - self.floor)))

    # -- auxiliary readings

    def _aux_record(
        self, kind: int, second: int, payload: bytes, found: dict[str, tuple[list, list]]
    ) -> None:
        value: float | None = None
        channel = "temperature"
        if kind == _SENSOR_SCHEMA:
            schema = parse_sensor_schema(payload)
            if schema is not None:
                self.schemas[schema[0]] = schema[1]
            return
        if kind == _SENSOR_DATA and len(payload) >= 2:
            columns = self.schemas.get(int.from_bytes(payload[:2], "little", signed=True))
            if columns is not None:
                value = sensor_data_temperature(payload, columns, self.aux.imu_temp_offset)
        elif kind == _TEMPERATURE and self.aux.temperature is not None:
            value = self.aux.temperature.celsius(payload)
        elif kind == _LUX and self.aux.lux is not None and len(payload) >= 2:
            channel = "light"
            value = lux_from_counts(int.from_bytes(payload[:2], "little"), *self.aux.lux)
        if value is not None and channel in self.aux.channels:
            times, values = found.setdefault(channel, ([], []))
            times.append(float(second - self.state.origin))
            values.append(value if np.isfinite(value) else np.nan)

    def _pick(
        self, buf: bytes, records: list[tuple[int, int, int, int, bool]]
    ) -> tuple[list, dict[str, tuple[list, list]]]:
        """Runs of activity records and idle fills in file order, and the auxiliary readings.

        The list holds lists of records ``(offset, type, second, size)`` and fills
        ``(start_s, n_samples)``.
        """
        arr = np.frombuffer(buf, dtype=np.uint8)
        offsets = np.fromiter((r[0] for r in records), dtype=np.int64, count=len(records))
        sizes = np.fromiter((r[3] for r in records), dtype=np.int64, count=len(records))
        ok = _checksums_ok(arr, offsets, sizes).tolist()
        per_second = round(self.fs)
        segments: list = []
        run: list[tuple[int, int, int, int]] = []
        found: dict[str, tuple[list, list]] = {}

        def fill(end: float) -> None:
            nonlocal run
            done = self._idle_fill(end)
            if done is not None:
                if run:
                    segments.append(run)
                    run = []
                segments.append(done)

        for (at, kind, second, size, damage_before), good in zip(records, ok, strict=True):
            if damage_before:
                self.seen_damage += 1
            if not good:
                self.state.count("records_damaged")
                self.seen_damage += 1
                continue
            self.last_record = second
            if kind == _EVENT and size == 1:
                code = buf[at + 8]
                if code == _IDLE_ON:
                    if self.idle_from is None:
                        self.idle_from = float(second - self.state.origin)
                elif code == _IDLE_OFF:
                    if self.idle_from is None:
                        self.state.count("idle_end_events_without_start")
                    else:
                        fill(float(second - self.state.origin))
                continue
            if kind in (_SENSOR_SCHEMA, _SENSOR_DATA, _TEMPERATURE, _LUX):
                self._aux_record(kind, second, buf[at + 8 : at + 8 + size], found)
                continue
            if kind not in (_ACTIVITY, _ACTIVITY2) or size <= 1:
                continue  # other records, and the 1-byte USB-connection marker
            n = _samples_in(kind, size)
            if n == 0 or n > per_second:
                self.state.count("records_damaged")
                self.seen_damage += 1
                continue
            if self.last_second is not None and second <= self.last_second:
                self.state.count("records_dropped_clock")
                continue
            if self.idle_from is not None:
                # Samples again without a "leave idle" event (a lost record): the pause ended
                # when sampling resumed.
                self.state.count("idle_without_end_event")
                fill(float(second - self.state.origin))
            start = float(second - self.state.origin)
            if self.floor is not None and start > self.floor:
                self._no_records(start)
            self.seen_damage = 0
            self.last_second = second
            self.floor = start + n / self.fs
            run.append((at, kind, second, size))
        if run:
            segments.append(run)
        return segments, found

    def _batch(self, arr: np.ndarray, segments: list, found: dict) -> Batch | None:
        parts: list[Batch] = []
        for segment in segments:
            if isinstance(segment, list):
                part = self._decode(arr, segment)
            else:
                start, n = segment
                xyz = np.repeat(self.last_xyz[None, :], n, axis=0)
                part = Batch(start + np.arange(n) / self.fs, xyz)
            if len(part.t):
                self.last_xyz = part.xyz[-1].copy()
                parts.append(part)
        aux = {
            name: (np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64))
            for name, (times, values) in found.items()
        }
        if not parts:
            return Batch(np.empty(0), np.empty((0, 3), dtype=np.float32), aux) if aux else None
        if len(parts) == 1:
            return Batch(parts[0].t, parts[0].xyz, aux)
        return Batch(
            np.concatenate([p.t for p in parts]), np.concatenate([p.xyz for p in parts]), aux
        )

    def batches(self) -> Iterator[Batch]:
        info = self.zf.getinfo("log.bin")
        bytes_done = seconds_done = 0
        for buf, records in _records(
            _member_chunks(self.source, info, self.read_bytes, self.state), self.walk
        ):
            segments, found = self._pick(buf, records)
            self.state.counts["damaged_stretches"] = self.walk.damage
            picked = [r for segment in segments if isinstance(segment, list) for r in segment]
            bytes_done += sum(9 + size for _, _, _, size in picked)
            seconds_done += len(picked)
            batch = self._batch(np.frombuffer(buf, dtype=np.uint8), segments, found)
            if batch is not None:
                yield batch
        if self.idle_from is not None and self.last_record is not None:
            # Still idle when the file ends: the device lay still until its last record.
            self.state.count("idle_without_end_event")
            done = self._idle_fill(float(self.last_record - self.state.origin))
            if done is not None:
                batch = self._batch(np.empty(0, dtype=np.uint8), [done], {})
                if batch is not None:
                    yield batch
        unread = self.state.counts.get("log_bin_bytes_unread", 0)
        if (self.seen_damage or self.walk.pending or unread) and self.floor is not None:
            # Damage at the very end: how long it lasted is not in the file. Bytes not read
            # are turned into seconds at the rate so far; otherwise one record is marked.
            per_second = bytes_done / seconds_done if seconds_done else 0.0
            lost = unread / per_second if unread and per_second else 1.0
            self.state.gaps.append([self.floor, self.floor + lost])


def _nhanes_batches(
    zf: zipfile.ZipFile, fs: float, scale: float, offset_s: float, chunk_samples: int
) -> Iterator[Batch]:
    """activity.bin: one continuous stream of 4.5-byte YXZ samples (NHANES layout)."""
    pairs = max(1, chunk_samples // 2)
    done = 0
    with zf.open("activity.bin") as stream:
        while True:
            raw = stream.read(9 * pairs)
            if not raw:
                return
            n = len(raw) * 2 // 9  # an odd count leaves the last nibble unused
            padded = np.zeros(-(-len(raw) // 3) * 3, dtype=np.uint8)
            padded[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
            yxz = unpack12(padded[None, :])[0, : 3 * n].reshape(n, 3)
            xyz = (yxz[:, [1, 0, 2]] / scale).astype(np.float32)
            t = offset_s + (done + np.arange(n)) / fs
            done += n
            yield Batch(t, xyz)
            if len(raw) < 9 * pairs:
                return


def _info(source: Path, zf: zipfile.ZipFile) -> dict[str, str]:
    try:
        raw = zf.open("info.txt").read(_INFO_MAX_BYTES)
    except KeyError:
        raise InputError(source, ".gt3x archive has no info.txt") from None
    fields = {}
    for line in raw.decode("utf-8-sig", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields


def _float(fields: dict[str, str], key: str) -> float | None:
    try:
        value = float(fields.get(key, ""))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _ticks_to_epoch(text: str) -> float | None:
    try:
        ticks = int(text)
    except ValueError:
        return None
    return (ticks - _UNIX_EPOCH_TICKS) / _TICKS_PER_S if ticks > 0 else None


def _time_zone_s(text: str) -> float | None:
    match = re.fullmatch(r"([+-])?(\d{1,2}):(\d{2})(?::(\d{2}))?", text.strip())
    if not match:
        return None
    sign = -1 if match.group(1) == "-" else 1
    return sign * (int(match.group(2)) * 3600 + int(match.group(3)) * 60 + int(match.group(4) or 0))


class _Prescan:
    """What the start of log.bin says: the accel scale, the wearer's limb, the first second,
    and which auxiliary records and idle sleep setting the file has."""

    def __init__(self, source: Path, zf: zipfile.ZipFile) -> None:
        self.scale: float | None = None
        self.limb = ""
        self.first_second: int | None = None
        self.parameters: dict[tuple[int, int], int] = {}
        self.kinds: set[int] = set()
        self.schema_temperature = False
        parts, size = [], 0
        for chunk in _member_chunks(source, zf.getinfo("log.bin"), 1 << 16, DecodeState()):
            parts.append(chunk)
            size += len(chunk)
            if size >= _PRESCAN_BYTES:
                break
        buf = b"".join(parts)
        records, _ = _Walk().split(buf, final=True)
        for at, kind, second, size, _ in records:
            if self.first_second is not None:
                # Past the first samples only the kinds of records matter (which auxiliary
                # channels the file has); scale and limb come from the records before them.
                if kind not in self.kinds and kind in (_SENSOR_SCHEMA, _TEMPERATURE, _LUX):
                    if _checksum_ok(buf, at, size):
                        self._aux_kind(kind, buf[at + 8 : at + 8 + size])
                continue
            if not _checksum_ok(buf, at, size):
                continue
            payload = buf[at + 8 : at + 8 + size]
            if kind == _PARAMETERS and self.scale is None:
                for i in range(0, size - size % 8, 8):
                    space, ident, value = struct.unpack_from("<HHI", payload, i)
                    self.parameters.setdefault((space, ident), value)
                    if (space, ident) == _ACCEL_SCALE_KEY:
                        scale = decode_parameter_float(value)
                        if np.isfinite(scale) and 1 <= scale <= 1e6:
                            self.scale = scale
            elif kind == _METADATA and not self.limb:
                try:
                    subject = json.loads(payload.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    continue
                if isinstance(subject, dict):
                    self.limb = " ".join(
                        str(subject.get(k) or "") for k in ("Side", "Limb")
                    ).strip()
            elif kind in (_ACTIVITY, _ACTIVITY2) and size > 1:
                self.first_second = second
            elif kind in (_SENSOR_SCHEMA, _TEMPERATURE, _LUX):
                self._aux_kind(kind, payload)

    def _aux_kind(self, kind: int, payload: bytes) -> None:
        self.kinds.add(kind)
        if kind == _SENSOR_SCHEMA:
            schema = parse_sensor_schema(payload)
            if schema is not None and _temperature_column(schema[1]) is not None:
                self.schema_temperature = True

    @property
    def idle_sleep_mode(self) -> bool | None:
        """FEATURE_ENABLE's sleep mode bit, or None when the file has no such parameter."""
        value = self.parameters.get(_FEATURE_ENABLE_KEY)
        return None if value is None else bool(value & 0x4)

    @property
    def imu_temperature(self) -> bool:
        """Whether the IMU's temperature column is switched on (SENSOR_CONFIGURATION bit 3)."""
        return bool(self.parameters.get(_SENSOR_CONFIGURATION_KEY, 0) & 0x8)

    def imu_temp_offset(self) -> float:
        """IMU_TEMP_OFFSET in degC (21 when the file does not say)."""
        value = self.parameters.get(_IMU_TEMP_OFFSET_KEY)
        offset = decode_parameter_float(value) if value is not None else _DEFAULT_IMU_TEMP_OFFSET
        return offset if np.isfinite(offset) and abs(offset) < 100 else _DEFAULT_IMU_TEMP_OFFSET


def _temperature_calibration(
    zf: zipfile.ZipFile, meta: dict[str, Any]
) -> TemperatureCalibration | None:
    if _TEMPERATURE_CALIBRATION not in zf.namelist():
        meta["temperature_note"] = (
            f"TEMPERATURE records without {_TEMPERATURE_CALIBRATION}: their raw readings are "
            "not degC, no temperature"
        )
        return None
    try:
        raw = zf.open(_TEMPERATURE_CALIBRATION).read(_INFO_MAX_BYTES)
        return TemperatureCalibration(json.loads(raw.decode("utf-8-sig")))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, *DECODE_ERRORS) as exc:
        meta["temperature_note"] = f"{_TEMPERATURE_CALIBRATION} not usable ({exc}): no temperature"
        return None


def _aux_config(
    zf: zipfile.ZipFile, prescan: _Prescan, serial: str, meta: dict[str, Any]
) -> _AuxConfig:
    """Which auxiliary channels the file gives, from its first records and archive members."""
    config = _AuxConfig(imu_temp_offset=prescan.imu_temp_offset())
    channels = []
    if _TEMPERATURE in prescan.kinds:
        config.temperature = _temperature_calibration(zf, meta)
    if (
        config.temperature is not None
        or prescan.schema_temperature
        or prescan.imu_temperature
    ):
        channels.append("temperature")
    if _LUX in prescan.kinds:
        config.lux = lux_scale(serial)
        if config.lux is not None:
            channels.append("light")
            meta["light_unit"] = "lux"
        else:
            meta["light_note"] = "LUX records, but no lux scale known for this serial: no light"
    config.channels = tuple(channels)
    return config


def _scale_from(
    fields: dict[str, str], prescan: _Prescan | None, legacy: bool
) -> tuple[float, str] | None:
    if prescan is not None and prescan.scale is not None:
        return prescan.scale, "PARAMETERS record"
    scale = _float(fields, "acceleration scale")
    if scale is not None and scale > 0:
        return scale, "info.txt"
    if legacy:
        return _NHANES_SCALE, "NHANES-format default"
    serial = fields.get("serial number", "").upper()
    for prefix, value in _SCALE_BY_SERIAL:
        if serial.startswith(prefix):
            return value, f"default for {prefix} serials"
    return None


def open_gt3x(
    path: str | os.PathLike[str], *, start: str | None = None, chunk_samples: int = CHUNK_SAMPLES
) -> SampleStream:
    """Open an ActiGraph ``.gt3x`` file as a stream of accelerometer samples.

    Parameters
    ----------
    path : str or path-like
        The ``.gt3x`` file (recognised by content, any name).
    start : str, optional
        ``--start``: ISO 8601 start overriding the device clock.
    chunk_samples : int
        About how many samples each chunk holds (whole seconds).

    Returns
    -------
    SampleStream
        ``t`` from the first sample; ``gaps`` the spans of damaged records (complete once the
        stream is read).

    Raises
    ------
    InputError
        Not a complete zip archive, no ``info.txt`` or ``log.bin``/``activity.bin``, no sample
        rate or acceleration scale, or no samples.
    """
    source = Path(path)
    try:
        zf = zipfile.ZipFile(source)
    except IsADirectoryError:
        raise InputError(source, "is a folder, not a .gt3x file") from None
    except (zipfile.BadZipFile, EOFError, ValueError, *_ZIP_REFUSALS):
        raise InputError(
            source, "not a complete .gt3x (zip) archive: damaged or cut short"
        ) from None
    except OSError as exc:
        raise InputError(source, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        return _open(source, zf, start, chunk_samples)
    except InputError:
        zf.close()
        raise
    except (*DECODE_ERRORS, *_ZIP_REFUSALS, KeyError) as exc:
        zf.close()
        raise InputError(
            source, f"cannot decode the .gt3x archive, it is damaged ({exc})"
        ) from None


def _open(source: Path, zf: zipfile.ZipFile, start: str | None, chunk_samples: int) -> SampleStream:
    names = set(zf.namelist())
    legacy = "log.bin" not in names
    if legacy and "activity.bin" not in names:
        raise InputError(source, ".gt3x archive has neither log.bin nor activity.bin")
    fields = _info(source, zf)
    fs = _float(fields, "sample rate")
    if fs is None or not 0 < fs <= 10_000:
        raise InputError(source, f".gt3x info.txt: bad Sample Rate {fields.get('sample rate')!r}")
    prescan = None if legacy else _Prescan(source, zf)
    found = _scale_from(fields, prescan, legacy)
    if found is None:
        raise InputError(
            source, ".gt3x: no acceleration scale in the file and an unknown serial number"
        )
    scale, scale_source = found
    start_epoch = _ticks_to_epoch(fields.get("start date", ""))
    if legacy:
        if start_epoch is None:
            raise InputError(source, ".gt3x info.txt: no readable Start Date")
        origin = int(start_epoch // 1)
    else:
        first = prescan.first_second if prescan is not None else None
        origin = (
            first if first is not None else int(start_epoch // 1) if start_epoch is not None else 0
        )
    state = DecodeState(origin=origin)
    zone = _time_zone_s(fields.get("timezone", ""))
    clock = (
        "device local time, TimeZone from info.txt"
        if zone is not None
        else ("device local time without a TimeZone in info.txt; treated as UTC")
    )
    acc_max = _float(fields, "acceleration max")
    meta = {
        "format": "ActiGraph .gt3x (NHANES activity.bin)" if legacy else "ActiGraph .gt3x",
        "device": f"ActiGraph {fields.get('device type', '')}".strip(),
        "serial": fields.get("serial number", ""),
        "firmware": fields.get("firmware", ""),
        "range_g": acc_max,
        "acceleration_scale": scale,
        "acceleration_scale_source": scale_source,
        "clock": clock,
        "gaps_note": (
            "seconds of idle sleep (the device's own enter/leave events) are filled with the last "
            "sample and listed in idle; other seconds without records are not filled in"
        ),
    }
    aux = _AuxConfig()
    if legacy:
        offset_s = start_epoch - origin if start_epoch is not None else 0.0
        batches = _nhanes_batches(zf, fs, scale, offset_s, chunk_samples)
    else:
        assert prescan is not None
        mode = prescan.idle_sleep_mode
        meta["idle_sleep_mode"] = "not in the file" if mode is None else ("on" if mode else "off")
        aux = _aux_config(zf, prescan, meta["serial"], meta)
        batches = _LogDecoder(source, zf, fs, scale, state, chunk_samples, aux).batches()
    return device_stream(
        source,
        _closing(source, zf, batches),
        state,
        fs=fs,
        utc_offset_s=zone or 0.0,
        placement=placement_from_text(prescan.limb if prescan is not None else ""),
        meta=meta,
        start=start,
        aux_channels=aux.channels,
    )


def _closing(source: Path, zf: zipfile.ZipFile, batches: Iterator[Batch]) -> Iterator[Batch]:
    try:
        yield from batches
    except _ZIP_REFUSALS as exc:
        raise InputError(source, f".gt3x archive cannot be read ({exc})") from None
    finally:
        zf.close()
