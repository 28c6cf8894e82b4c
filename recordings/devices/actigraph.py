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
checks out. Seconds with no record at all (idle sleep mode, when the device stops sampling while
still, or lost data) are not filled in: ``t`` jumps there, as it does in the file (tallied as
``seconds_without_records``). A record whose timestamp does not move forward is dropped.
Timestamps are local time; ``info.txt``'s ``TimeZone`` gives the UTC offset.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hypnic.errors import InputError
from recordings.devices._packing import unpack12
from recordings.devices._stream import (
    CHUNK_SAMPLES,
    DECODE_ERRORS,
    Batch,
    DecodeState,
    device_stream,
    placement_from_text,
)
from recordings.samples import SampleStream

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


class _LogDecoder:
    """log.bin records to batches of samples."""

    def __init__(
        self,
        source: Path,
        zf: zipfile.ZipFile,
        fs: float,
        scale: float,
        state: DecodeState,
        chunk_samples: int,
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

    def _pick(
        self, buf: bytes, records: list[tuple[int, int, int, int, bool]]
    ) -> list[tuple[int, int, int, int]]:
        arr = np.frombuffer(buf, dtype=np.uint8)
        offsets = np.fromiter((r[0] for r in records), dtype=np.int64, count=len(records))
        sizes = np.fromiter((r[3] for r in records), dtype=np.int64, count=len(records))
        ok = _checksums_ok(arr, offsets, sizes).tolist()
        per_second = round(self.fs)
        picked = []
        for (at, kind, second, size, damage_before), good in zip(records, ok, strict=True):
            if damage_before:
                self.seen_damage += 1
            if not good:
                self.state.count("records_damaged")
                self.seen_damage += 1
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
            start = float(second - self.state.origin)
            if self.floor is not None and start > self.floor:
                if self.seen_damage:
                    self.state.gaps.append([self.floor, start])
                else:
                    self.state.count("seconds_without_records", int(round(start - self.floor)))
            self.seen_damage = 0
            self.last_second = second
            self.floor = start + n / self.fs
            picked.append((at, kind, second, size))
        return picked

    def batches(self) -> Iterator[Batch]:
        info = self.zf.getinfo("log.bin")
        bytes_done = seconds_done = 0
        for buf, records in _records(
            _member_chunks(self.source, info, self.read_bytes, self.state), self.walk
        ):
            picked = self._pick(buf, records)
            self.state.counts["damaged_stretches"] = self.walk.damage
            bytes_done += sum(9 + size for _, _, _, size in picked)
            seconds_done += len(picked)
            if picked:
                yield self._decode(np.frombuffer(buf, dtype=np.uint8), picked)
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
    """What the start of log.bin says: the accel scale, the wearer's limb, the first second."""

    def __init__(self, source: Path, zf: zipfile.ZipFile) -> None:
        self.scale: float | None = None
        self.limb = ""
        self.first_second: int | None = None
        parts, size = [], 0
        for chunk in _member_chunks(source, zf.getinfo("log.bin"), 1 << 16, DecodeState()):
            parts.append(chunk)
            size += len(chunk)
            if size >= _PRESCAN_BYTES:
                break
        buf = b"".join(parts)
        records, _ = _Walk().split(buf, final=True)
        for at, kind, second, size, _ in records:
            if not _checksum_ok(buf, at, size):
                continue
            payload = buf[at + 8 : at + 8 + size]
            if kind == _PARAMETERS and self.scale is None:
                for i in range(0, size - size % 8, 8):
                    space, ident, value = struct.unpack_from("<HHI", payload, i)
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
                break


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
        "gaps_note": "seconds without records (idle sleep mode, lost data) are not filled in",
    }
    if legacy:
        offset_s = start_epoch - origin if start_epoch is not None else 0.0
        batches = _nhanes_batches(zf, fs, scale, offset_s, chunk_samples)
    else:
        batches = _LogDecoder(source, zf, fs, scale, state, chunk_samples).batches()
    return device_stream(
        source,
        _closing(source, zf, batches),
        state,
        fs=fs,
        utc_offset_s=zone or 0.0,
        placement=placement_from_text(prescan.limb if prescan is not None else ""),
        meta=meta,
        start=start,
    )


def _closing(source: Path, zf: zipfile.ZipFile, batches: Iterator[Batch]) -> Iterator[Batch]:
    try:
        yield from batches
    except _ZIP_REFUSALS as exc:
        raise InputError(source, f".gt3x archive cannot be read ({exc})") from None
    finally:
        zf.close()
